"""The command line: one-line errors with non-zero exits, JSON of ``data verify``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from paths import SAMPLES, needs_samples


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "parvox", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


@needs_samples
def test_verify_real_samples_meets_the_convention_targets(tmp_path: Path) -> None:
    report = tmp_path / "verify.json"
    proc = run("data", "verify", str(SAMPLES), "--json", str(report))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text())
    assert data["mean_silhouette_iou"] >= 0.75 and data["mean_coverage"] >= 0.98
    assert len(data["models"]) == 7
    model = data["models"][0]
    assert set(model) == {"synset", "id", "views", "occupied", "silhouette_iou", "coverage",
                          "problems"}
    assert model["views"] == 24 and len(model["silhouette_iou"]) == 24
    assert {m["id"]: m["occupied"] for m in data["models"]}["sample_chair"] == 1755
    assert "silhouette IoU" in proc.stdout


def test_verify_reports_a_broken_model(tmp_path: Path) -> None:
    root = tmp_path / "data"
    render = root / "ShapeNetRendering" / "03001627" / "m1" / "rendering"
    render.mkdir(parents=True)
    (render / "rendering_metadata.txt").write_text("10 25 0 0.8 25\n" * 24)
    proc = run("data", "verify", str(root))
    assert proc.returncode == 1
    assert "model.binvox" in proc.stderr and "Traceback" not in proc.stderr
    assert run("data", "verify", str(root), "--skip-bad").returncode == 0


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    cases = [
        (("data", "verify", str(tmp_path / "nowhere")), 1, "nowhere"),
        (("data", "build", str(tmp_path / "o"), "--per-class", "0"), 1, "--per-class"),
        (("data", "build", str(tmp_path / "o"), "--classes", "spaceship"), 1, "spaceship"),
        (("data", "build", str(tmp_path / "o"), "--source", "meshes"), 1, "--meshes"),
        (("data", "build", str(tmp_path / "o"), "--workers", "x"), 2, "--workers"),
        (("data", "frobnicate"), 2, "frobnicate"),
    ]
    for args, code, culprit in cases:
        proc = run(*args)
        assert proc.returncode == code, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and culprit in lines[0], (args, proc.stderr)
    assert not (tmp_path / "o").exists()  # nothing half-written


@needs_samples
def test_train_on_data_without_splits_writes_nothing(tmp_path: Path) -> None:
    proc = run("train", "--config", "tiny", "--data", str(SAMPLES), "--out", str(tmp_path / "r"),
               "--steps", "1")
    assert proc.returncode == 1 and "ShapeNet.json" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


@needs_samples
def test_verify_reports_a_corrupt_split_file(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "data"
    shutil.copytree(SAMPLES, root)
    (root / "ShapeNet.json").write_text('[{"taxonomy_id": "02691156", "train": [')
    proc = run("data", "verify", str(root))
    assert proc.returncode == 1
    assert "ShapeNet.json" in proc.stderr and "the split file is bad" in proc.stdout
    (root / "ShapeNet.json").write_text('[{"taxonomy_id": "02691156", "taxonomy_name": "a", '
                                        '"train": ["missing_model"], "val": [], "test": []}]')
    proc = run("data", "verify", str(root))
    assert proc.returncode == 1 and "missing_model" in proc.stderr


def test_train_refuses_nproc_zero_and_negative_restarts(tmp_path: Path) -> None:
    for flags, culprit in ((["--nproc", "0"], "--nproc must be at least 1, got 0"),
                           (["--max-restarts", "-1"], "--max-restarts must be at least 0")):
        proc = run("train", "--config", "tiny", "--data", str(tmp_path), "--out",
                   str(tmp_path / "run"), *flags)
        assert proc.returncode != 0
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and culprit in lines[0]
        assert "Traceback" not in proc.stderr and not (tmp_path / "run").exists()
