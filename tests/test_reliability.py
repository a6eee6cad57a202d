"""Faults of the environment: output folders that cannot be written.

A read-only folder is made with ``chmod a-w`` (the whole tree). Root ignores file permissions,
so as root each ``parvox`` command runs with the capabilities that let it (CAP_DAC_OVERRIDE,
CAP_DAC_READ_SEARCH, CAP_FOWNER) dropped by ``setpriv``: still uid 0 and owner of the files,
it meets the same "Permission denied" as a user would. A probe checks that the folder really is
unwritable to the command first; where it cannot be made so, the tests skip.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from parvox.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from parvox.data.builder import build_dataset, procedural_jobs
from parvox.errors import DataError, ParvoxError
from parvox.train import TrainConfig, train

#: Capabilities that let root ignore file permissions, dropped for the commands under test.
ROOT_POWERS = "-dac_override,-dac_read_search,-fowner"
PROBE = "import sys; open(sys.argv[1] + '/probe', 'w')"


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``chmod a-w`` on ``folder`` and everything in it, restored afterwards."""
    modes = {path: stat.S_IMODE(path.lstat().st_mode) for path in [folder, *folder.rglob("*")]
             if not path.is_symlink()}
    for path, mode in modes.items():
        path.chmod(mode & ~0o222)
    try:
        yield
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


@pytest.fixture(scope="module")
def unprivileged(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The command prefix under which file permissions apply (see the module doc)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root, and setpriv (util-linux) is missing to drop the "
                        "capabilities that ignore file permissions")
        prefix = [setpriv, f"--bounding-set={ROOT_POWERS}", "--"]
    folder = tmp_path_factory.mktemp("probe")
    with read_only(folder):
        proc = subprocess.run([*prefix, sys.executable, "-c", PROBE, str(folder)],
                              capture_output=True, text=True, timeout=60)
    if "PermissionError" not in proc.stderr:
        pytest.skip(f"cannot make a folder read-only for a child process here: {proc.stderr}")
    return prefix


def parvox(prefix: list[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "parvox", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def error_line(proc: subprocess.CompletedProcess[str], *culprits: str | Path) -> str:
    """The one error line of a failed command (progress bars may precede it), checked."""
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and proc.stderr.rstrip().endswith(errors[0]), proc.stderr[-2000:]
    for culprit in culprits:
        assert str(culprit) in errors[0], errors[0]
    return errors[0]


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    build_dataset(root, procedural_jobs(5, ["chair", "table"]), seed=1, show_progress=False)
    return root


@pytest.fixture(scope="module")
def trained(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder with one checkpoint, at step 2."""
    run = tmp_path_factory.mktemp("trained") / "run"
    train(TrainConfig(config="tiny", data=str(data), out=str(run), steps=2, batch=4,
                      views=(1, 2), checkpoint_every=2, workers=0, threads=1),
          show_progress=False)
    return run


def resume(prefix: list[str], data: Path, run: Path) -> subprocess.CompletedProcess[str]:
    return parvox(prefix, "train", "--config", "tiny", "--data", data, "--out", run, "--steps",
                  "4", "--batch", "4", "--views", "1-2", "--checkpoint-every", "2",
                  "--workers", "0", "--threads", "1", "--resume")


def test_resume_into_a_read_only_run_folder_keeps_the_checkpoint(
        unprivileged: list[str], data: Path, trained: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    before = snapshot(run)
    with read_only(run):
        proc = resume(unprivileged, data, run)
    error_line(proc, run, "Permission denied")
    assert snapshot(run) == before
    assert load_checkpoint(run).step == 2


def test_checkpoint_into_a_read_only_folder_keeps_the_previous(
        unprivileged: list[str], data: Path, trained: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    checkpoints = run / "checkpoints"
    before = snapshot(checkpoints)
    with read_only(checkpoints):  # refused at the start, or when step-4 is written
        proc = resume(unprivileged, data, run)
    error_line(proc, checkpoints, "Permission denied")
    assert snapshot(checkpoints) == before  # no partial step-4 either
    assert [step for step, _ in list_checkpoints(run)] == [2]
    assert load_checkpoint(run).step == 2


def test_a_failed_checkpoint_write_names_the_checkpoint_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = {"w": torch.ones(3)}
    save_checkpoint(tmp_path, 1, state, None, {"config": "x"})

    def read_only_file_system(*args: object, **kwargs: object) -> None:
        raise OSError(30, "Read-only file system", "model.safetensors")

    monkeypatch.setattr("parvox.checkpoint.save_file", read_only_file_system)
    kept = tmp_path / "checkpoints" / "step-1"
    with pytest.raises(DataError) as error:
        save_checkpoint(tmp_path, 2, state, None, {"config": "x"})
    assert str(error.value) == (f"{tmp_path / 'checkpoints' / 'step-2'}: cannot write checkpoint "
                                f"(Read-only file system); the latest checkpoint is still {kept}")
    with pytest.raises(DataError, match="no earlier checkpoint"):
        save_checkpoint(tmp_path / "fresh", 1, state, None, {"config": "x"})
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-1"]


@pytest.mark.parametrize("part", ["train_log.jsonl", "tensorboard"])
def test_resume_with_a_read_only_log_is_one_line(unprivileged: list[str], data: Path,
                                                 trained: Path, tmp_path: Path,
                                                 part: str) -> None:
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    before = snapshot(run / "checkpoints")
    path = run / part
    if path.is_dir():
        with read_only(path):
            proc = resume(unprivileged, data, run)
    else:
        path.chmod(0o444)
        proc = resume(unprivileged, data, run)
    error_line(proc, path, "Permission denied")
    assert snapshot(run / "checkpoints") == before


def test_data_build_into_a_read_only_folder(unprivileged: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with read_only(out):
        existing = parvox(unprivileged, "data", "build", out, "--per-class", "1", "--classes",
                          "chair")
        missing = parvox(unprivileged, "data", "build", out / "new", "--per-class", "1",
                         "--classes", "chair")
    assert "cannot write in the folder" in error_line(existing, out, "Permission denied")
    assert "cannot create the folder" in error_line(missing, out / "new", "Permission denied")
    assert list(out.iterdir()) == []


def test_a_full_disk_stops_the_build_even_with_skip_bad(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(*args: object) -> bytes:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("parvox.data.builder.encode_binvox", disk_full)
    with pytest.raises(ParvoxError, match="No space left on device.*proc_chair_00000") as error:
        build_dataset(tmp_path, procedural_jobs(2, ["chair"]), skip_bad=True,
                      show_progress=False)
    assert "--skip-bad" not in str(error.value)  # not the model's fault
    leftovers = [p.name for p in tmp_path.rglob("*") if p.is_file() or ".partial" in p.name]
    assert leftovers == []  # no partial model, no ShapeNet.json


def test_reconstruct_into_a_read_only_folder(unprivileged: list[str], checkpoint: Path,
                                             tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    picture = np.full((64, 64, 3), 220, np.uint8)  # an object on a plain wall
    picture[16:48, 20:44] = np.random.default_rng(0).integers(0, 120, (32, 24, 3))
    Image.fromarray(picture).save(photo)
    out = tmp_path / "rec"
    out.mkdir()
    with read_only(out):
        proc = parvox(unprivileged, "reconstruct", photo, "--checkpoint", checkpoint, "--out",
                      out)
    assert "cannot write output" in error_line(proc, out, "Permission denied")
    assert list(out.iterdir()) == []


def test_a_full_disk_during_reconstruct_leaves_nothing(checkpoint: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from parvox.reconstruct import reconstruct

    photo = tmp_path / "photo.png"
    picture = Image.new("RGB", (64, 64), (220, 220, 220))
    picture.paste((120, 60, 30), (16, 20, 48, 44))  # an object on a plain wall
    picture.save(photo)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", disk_full)  # the preview, written last
    out = tmp_path / "rec"
    with pytest.raises(DataError, match=rf"^{re.escape(str(out))}: cannot write output \(No space"):
        reconstruct([str(photo)], checkpoint, out)
    assert list(out.iterdir()) == []  # the voxels and meshes already written are removed


def test_eval_json_into_a_read_only_folder(unprivileged: list[str], data: Path,
                                           trained: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    with read_only(reports):
        proc = parvox(unprivileged, "eval", "--checkpoint", trained, "--data", data, "--views",
                      "1", "--batch", "4", "--json", reports / "eval.json")
    error_line(proc, reports / "eval.json", "Permission denied")
    assert list(reports.iterdir()) == []


def _group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (zombies excluded)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs Linux /proc")
def test_eval_stopped_with_sigterm_leaves_no_worker_behind(data: Path, trained: Path) -> None:
    import signal
    import time

    work = ",".join(["1"] + ["24"] * 12)  # the pool starts at once, then much is left to do
    proc = subprocess.Popen([sys.executable, "-m", "parvox", "eval", "--checkpoint", str(trained),
                             "--data", str(data), "--split", "train", "--views", work,
                             "--batch", "1", "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while len(_group_members(proc.pid)) < 3 and proc.poll() is None:  # the pool has started
        assert time.monotonic() < deadline, "no worker process appeared"
        time.sleep(0.05)
    assert proc.poll() is None, "eval finished before it could be stopped: give it more work"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert "stopped by SIGTERM; no report written" in err
    deadline = time.monotonic() + 90  # a worker still importing torch exits after that
    while _group_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _group_members(proc.pid) == []


def test_evaluate_asks_should_stop_before_each_batch(data: Path, trained: Path) -> None:
    from parvox.evaluate import EvalStopped, evaluate

    asked: list[int] = []

    def stop_at_third() -> bool:
        asked.append(1)
        return len(asked) == 3

    with pytest.raises(EvalStopped):
        evaluate(trained, data, split="train", views=[1], batch=1, show_progress=False,
                 should_stop=stop_at_third)
    assert len(asked) == 3
