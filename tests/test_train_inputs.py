"""``parvox train`` on bad inputs: config files with unknown keys or wrong types, training
splits with bad files (refused, or skipped with ``--skip-bad``), a file that breaks mid-run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from parvox.configfile import checked_fields
from parvox.data.builder import build_dataset, procedural_jobs
from parvox.data.check import check_png_header
from parvox.data.layout import R2N2Layout, default_splits, split_models
from parvox.errors import DataError
from parvox.models.config import ModelConfig
from parvox.train import TrainConfig


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    build_dataset(root, procedural_jobs(4, ["chair", "table"]), seed=3, show_progress=False)
    return root


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "parvox", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=240)


def one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """The single error line of a failed command, which must contain ``words``."""
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, proc.stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


TINY = ["--steps", "2", "--batch", "4", "--views", "1-2", "--threads", "1", "--workers", "0",
        "--seed", "4"]


# ------------------------------------------------------------------ config files


@pytest.mark.parametrize(("content", "words"), [
    ({"config": "tiny", "stpes": 3}, ["unknown key 'stpes'", "steps"]),
    ({"config": "tiny", "steps": "3"}, ["'steps' must be an integer", '"3"']),
    ({"config": "tiny", "lr": True}, ["'lr' must be a number"]),
    ({"config": "tiny", "views": [1]}, ["'views' must be a list of 2 integers"]),
    ({"config": "tiny", "threads": 1.5}, ["'threads' must be an integer or null"]),
    ({"config": "tiny", "model_overrides": {"fc_dims": 3}}, ["'model_overrides.fc_dims'"]),
    ({"config": "tiny", "model_overrides": {"encoder_widths": [8, "x"]}},
     ["'model_overrides.encoder_widths' must be a list of integers"]),
    (["config", "tiny"], ["expected a table"]),
])
def test_config_file_unknown_keys_and_wrong_types(data: Path, tmp_path: Path, content: object,
                                                  words: list[str]) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(content))
    proc = run("train", "--config-file", path, "--data", data, "--out", tmp_path / "r")
    one_line_error(proc, str(path), *words)
    assert not (tmp_path / "r").exists()  # nothing written


def test_config_file_syntax_and_extension_errors(tmp_path: Path) -> None:
    bad_json, bad_toml, yaml = tmp_path / "a.json", tmp_path / "b.toml", tmp_path / "c.yaml"
    bad_json.write_text('{"config": "tiny",')
    bad_toml.write_text("config = tiny")
    yaml.write_text("config: tiny")
    one_line_error(run("train", "--config-file", bad_json), "a.json", "not valid JSON")
    one_line_error(run("train", "--config-file", bad_toml), "b.toml", "not valid TOML")
    one_line_error(run("train", "--config-file", yaml), "c.yaml", "extension")
    one_line_error(run("train", "--config-file", tmp_path / "none.json"), "not found")
    one_line_error(run("train", "--data", "x", "--out", "y"), "--config is required")


def test_config_file_values_and_flag_precedence(data: Path, tmp_path: Path) -> None:
    """TOML values apply, flags on the command line win, and a run's own config.json is a
    valid config file for the next run."""
    path = tmp_path / "run.toml"
    path.write_text('config = "tiny"\nsteps = 5\nbatch = 4\nviews = [1, 2]\nthreads = 1\n'
                    'workers = 0\nlr = 0.002\n[model_overrides]\nfc_dim = 16\n')
    proc = run("train", "--config-file", path, "--data", data, "--out", tmp_path / "a",
               "--steps", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    assert saved["steps"] == 1 and saved["batch"] == 4 and saved["lr"] == 0.002
    assert saved["views"] == [1, 2] and saved["model_overrides"] == {"fc_dim": 16}
    proc = run("train", "--config-file", tmp_path / "a" / "config.json", "--out", tmp_path / "b")
    assert proc.returncode == 0, proc.stderr[-2000:]
    again = json.loads((tmp_path / "b" / "config.json").read_text())
    assert again == saved | {"out": str(tmp_path / "b")}


def test_checked_fields_converts_lists_and_keeps_types() -> None:
    got = checked_fields({"views": [2, 3], "lr": 1, "threads": None}, TrainConfig, "f.json")
    assert got == {"views": (2, 3), "lr": 1.0, "threads": None}
    assert isinstance(got["lr"], float)
    assert checked_fields({"encoder_widths": [4, 8]}, ModelConfig, "f")["encoder_widths"] == (4, 8)
    with pytest.raises(DataError, match="'flip' must be a boolean"):
        checked_fields({"flip": 1}, TrainConfig, "f.json")


# ------------------------------------------------------------------ bad training data


def _first_train_model(root: Path) -> tuple[Path, Path]:
    """(rendering folder, voxel file) of the first training model of ``root``."""
    layout = R2N2Layout(root)
    ref = split_models(default_splits(root), "train")[0]
    return layout.rendering_dir(ref), layout.voxel_path(ref)


def _broken(data: Path, tmp_path: Path, how: str) -> tuple[Path, Path]:
    """A copy of ``data`` with one training model broken ``how``; returns (root, bad file)."""
    root = tmp_path / f"data-{how}"
    shutil.copytree(data, root)
    renders, voxels = _first_train_model(root)
    if how == "truncated-png":
        bad = renders / "07.png"
        bad.write_bytes(bad.read_bytes()[:200])
    elif how == "missing-view":
        bad = renders / "23.png"
        bad.unlink()
    elif how == "binvox-overrun":
        bad = voxels
        bad.write_bytes(bad.read_bytes() + b"\x01\x05")
    else:  # a metadata line that is not numbers
        bad = renders / "rendering_metadata.txt"
        lines = bad.read_text().splitlines()
        bad.write_text("\n".join(["12.5 x 0 0.8 25", *lines[1:]]) + "\n")
    return root, bad


@pytest.mark.parametrize("how", ["truncated-png", "missing-view", "binvox-overrun",
                                 "bad-metadata"])
def test_training_refuses_bad_files_unless_skipped(data: Path, tmp_path: Path,
                                                   how: str) -> None:
    root, bad = _broken(data, tmp_path, how)
    proc = run("train", "--config", "tiny", "--data", root, "--out", tmp_path / "r", *TINY)
    one_line_error(proc, str(bad.relative_to(root)), "--skip-bad")
    assert not (tmp_path / "r").exists()  # refused before the run folder is touched
    proc = run("train", "--config", "tiny", "--data", root, "--out", tmp_path / "s", *TINY,
               "--skip-bad")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert str(bad.relative_to(root)) in proc.stderr and "1 of 4 training models" in proc.stderr
    assert (tmp_path / "s" / "checkpoints" / "step-2").is_dir()


def test_png_header_check(tmp_path: Path, data: Path) -> None:
    renders, _ = _first_train_model(data)
    good = renders / "00.png"
    assert check_png_header(good, 127) is None
    assert "smaller than 200x200" in check_png_header(good, 200)
    copy = tmp_path / "x.png"
    copy.write_bytes(good.read_bytes()[:-1])
    assert "truncated" in check_png_header(copy, 127)
    copy.write_bytes(b"GIF89a" + good.read_bytes()[6:])
    assert check_png_header(copy, 127) == "not a PNG file"
    assert check_png_header(tmp_path / "none.png", 127) == "missing view"


@pytest.mark.multiproc  # its last run trains on 2 ranks
def test_a_png_corrupt_inside_stops_at_the_step_or_is_skipped(data: Path,
                                                              tmp_path: Path) -> None:
    """Damage in the middle of a PNG passes the quick check; the loader (in a worker process)
    meets it: one line naming the file and the step, the last checkpoint kept; with
    --skip-bad the model is replaced and training finishes. On 2 ranks, the ranks learn of
    it in the step's metrics all-reduce and all name the file, without a traceback or a
    hang."""
    root = tmp_path / "data"
    shutil.copytree(data, root)
    renders, _ = _first_train_model(root)
    for png in renders.glob("*.png"):
        raw = bytearray(png.read_bytes())
        raw[60:-40:7] = bytes(b ^ 0x5A for b in raw[60:-40:7])
        png.write_bytes(bytes(raw))
    args = ["train", "--config", "tiny", "--data", root, "--steps", "4", "--batch", "4",
            "--views", "1-2", "--threads", "1", "--workers", "1", "--checkpoint-every", "1",
            "--seed", "4"]
    line = one_line_error(run(*args, "--out", tmp_path / "r"), str(renders.relative_to(root)),
                          "at step", "--skip-bad")
    step = int(line.split("at step ")[1].split(";")[0])
    if step > 1:
        assert f"step-{step - 1} kept" in line
        assert (tmp_path / "r" / "checkpoints" / f"step-{step - 1}").is_dir()
    proc = run(*args, "--out", tmp_path / "s", "--skip-bad")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "skipping a bad model" in proc.stderr
    assert (tmp_path / "s" / "checkpoints" / "step-4").is_dir()
    proc = run(*args, "--out", tmp_path / "k2", "--nproc", "2", "--threads", "1")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("parvox: error")]
    assert any(str(renders.relative_to(root)) in e and "at step" in e for e in errors), errors
