"""Training, exact resume, checkpoints and evaluation on a tiny procedural dataset."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from parvox.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from parvox.data.builder import build_dataset, procedural_jobs
from parvox.data.dataset import R2N2Dataset
from parvox.data.sampling import StepBatches, step_indices
from parvox.errors import DataError, ParvoxError
from parvox.evaluate import evaluate, report_table
from parvox.metrics import fscore, iou
from parvox.progress import progress_bar
from parvox.train import TrainConfig, learning_rate, train


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    build_dataset(root, procedural_jobs(5, ["chair", "table"]), seed=1, show_progress=False)
    return root


def _cfg(data: Path, out: Path, steps: int) -> TrainConfig:
    return TrainConfig(config="tiny", data=str(data), out=str(out), steps=steps, batch=4,
                       views=(1, 3), lr=1e-3, lr_drop_step=4, checkpoint_every=3, seed=2,
                       workers=0, threads=1)


def test_resume_equals_uninterrupted_run(data: Path, tmp_path: Path) -> None:
    train(_cfg(data, tmp_path / "a", 6), show_progress=False)
    train(_cfg(data, tmp_path / "b", 3), show_progress=False)  # "interrupted" at step 3
    train(_cfg(data, tmp_path / "b", 6), resume=True, show_progress=False)
    a = load_file(tmp_path / "a/checkpoints/step-6/model.safetensors")
    b = load_file(tmp_path / "b/checkpoints/step-6/model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    start = load_file(tmp_path / "b/checkpoints/step-3/model.safetensors")
    assert any(not torch.equal(start[k], a[k]) for k in a)  # training did change things
    assert [s for s, _ in list_checkpoints(tmp_path / "a")] == [3, 6]
    assert json.loads((tmp_path / "a/config.json").read_text())["config"] == "tiny"


def test_existing_run_needs_resume(data: Path, tmp_path: Path) -> None:
    train(_cfg(data, tmp_path / "r", 3), show_progress=False)
    with pytest.raises(ParvoxError, match="--resume"):
        train(_cfg(data, tmp_path / "r", 3), show_progress=False)


def test_checkpoint_checksum_and_config_guard(data: Path, tmp_path: Path) -> None:
    train(_cfg(data, tmp_path / "c", 3), show_progress=False)
    ckpt = load_checkpoint(tmp_path / "c")
    assert ckpt.step == 3 and ckpt.optimizer_state is not None
    other = TrainConfig(**{**_cfg(data, tmp_path / "c", 6).__dict__, "config": "small"})
    with pytest.raises(ParvoxError, match="tiny"):
        train(other, resume=True, show_progress=False)
    weights = ckpt.path / "model.safetensors"
    raw = bytearray(weights.read_bytes())
    raw[-1] ^= 0xFF
    weights.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="checksum"):
        load_checkpoint(tmp_path / "c")


def test_checkpoint_write_failure_keeps_previous(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    state = {"w": torch.ones(3)}
    save_checkpoint(tmp_path, 1, state, None, {"config": "x"})

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device", "model.safetensors")

    monkeypatch.setattr("parvox.checkpoint.save_file", disk_full)
    with pytest.raises(DataError, match="No space left"):
        save_checkpoint(tmp_path, 2, state, None, {"config": "x"})
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-1"]
    assert load_checkpoint(tmp_path).step == 1


def test_step_batches_depend_only_on_step_and_shard_exactly(data: Path) -> None:
    dataset = R2N2Dataset(data, "train", views=(1, 3), image_size=32, seed=0)
    whole = StepBatches(dataset, 4, seed=0)[5]
    halves = [StepBatches(dataset, 4, seed=0, rank=r, world=2)[5] for r in range(2)]
    joined = torch.cat([h["images"] for h in halves])
    assert torch.equal(joined, whole["images"])
    assert whole["model_id"] == halves[0]["model_id"] + halves[1]["model_id"]
    size = len(dataset)
    seen = np.concatenate([step_indices(size, 4, s, seed=0) for s in range(size)])
    assert sorted(seen[:size].tolist()) == list(range(size))  # an epoch is a permutation
    assert sorted(seen[size:2 * size].tolist()) == list(range(size))
    assert not np.array_equal(seen[:size], seen[size:2 * size])  # reshuffled per epoch


def test_learning_rate_schedule(data: Path, tmp_path: Path) -> None:
    cfg = _cfg(data, tmp_path, 10)
    assert learning_rate(cfg, 3) == pytest.approx(1e-3)
    assert learning_rate(cfg, 4) == pytest.approx(1e-4)
    with pytest.raises(ParvoxError, match="views"):
        TrainConfig(config="tiny", data="d", out="o", views=(0, 3))


def test_learning_rate_warmup_rises_linearly_then_drops() -> None:
    cfg = TrainConfig(config="tiny", data="d", out="o", lr=1e-3, steps=100, lr_warmup=4,
                      lr_drop_step=50)
    assert [learning_rate(cfg, s) for s in (0, 1, 3, 4, 49, 50)] == pytest.approx(
        [2.5e-4, 5e-4, 1e-3, 1e-3, 1e-3, 1e-4])
    with pytest.raises(ParvoxError, match="--lr-warmup must be at least 0"):
        TrainConfig(config="tiny", data="d", out="o", lr_warmup=-1)
    with pytest.raises(ParvoxError, match="--backgrounds must be in"):
        TrainConfig(config="tiny", data="d", out="o", backgrounds=1.5)


def test_iou_and_fscore_values() -> None:
    target = torch.zeros(1, 32, 32, 32)
    target[0, 8:24, 8:24, 8:24] = 1
    prob = torch.zeros(1, 32, 32, 32)
    prob[0, 8:24, 8:24, 8:16] = 0.45
    assert iou(prob, target, 0.4).item() == pytest.approx(0.5)
    assert iou(prob, target, 0.5).item() == 0.0
    grid = target[0].numpy() > 0
    assert fscore(grid, grid) == pytest.approx(1.0)
    assert fscore(np.roll(grid, 3, axis=0), grid) < 0.5


def test_evaluate_reports_views_thresholds_and_floors(data: Path, tmp_path: Path) -> None:
    train(_cfg(data, tmp_path / "e", 3), show_progress=False)
    report = evaluate(tmp_path / "e", data, views=[1, 2], batch=4, show_progress=False)
    assert set(report["iou"]) == {"1", "2"}
    assert set(report["iou"]["1"]) == {"0.3", "0.4", "0.5"}
    entry = report["iou"]["1"]["0.4"]
    assert set(entry) == {"mean", "weighted", "per_class"}
    assert set(entry["per_class"]) == {"03001627", "04379243"}
    floor = report["floors"]["class_mean"]["0.4"]["mean"]
    assert 0.0 < floor <= 1.0
    assert "class-mean floor" in report_table(report)
    assert report["flip_average"] is False and "flip-averaged" not in report_table(report)
    flipped = evaluate(tmp_path / "e", data, views=[1], batch=4, show_progress=False,
                       flip_average=True)
    assert flipped["flip_average"] is True and "flip-averaged" in report_table(flipped)
    assert flipped["iou"]["1"]["0.3"] != report["iou"]["1"]["0.3"]  # another prediction


def test_lr_scaling_rules() -> None:
    def cfg(scaling: str, batch: int) -> TrainConfig:
        return TrainConfig(config="tiny", data="d", out="o", batch=batch, lr=1e-4,
                           lr_scaling=scaling, lr_base_batch=16)

    assert cfg("none", 64).base_lr == pytest.approx(1e-4)
    assert cfg("linear", 64).base_lr == pytest.approx(4e-4)
    assert cfg("sqrt", 64).base_lr == pytest.approx(2e-4)
    assert learning_rate(cfg("linear", 64), 10**6) == pytest.approx(4e-5)  # after the drop
    with pytest.raises(ParvoxError, match="lr-scaling"):
        cfg("cubic", 64)


def test_nan_loss_stops_with_the_step_and_keeps_the_last_checkpoint(
        data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from parvox import train as train_module

    real_loss = train_module.voxel_loss
    calls = {"n": 0}

    def loss_nan_at_third_step(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        loss = real_loss(logits, target)
        return loss * float("nan") if calls["n"] == 3 else loss

    monkeypatch.setattr(train_module, "voxel_loss", loss_nan_at_third_step)
    cfg = _cfg(data, tmp_path / "nan", 6)
    cfg.checkpoint_every = 1
    with pytest.raises(train_module.NumericalError, match="step 3.*step-2"):
        train(cfg, show_progress=False)
    ckpt = load_checkpoint(tmp_path / "nan")
    assert ckpt.step == 2 and all(torch.isfinite(t).all() for t in ckpt.model_state.values())


def test_sigterm_writes_a_final_checkpoint_and_resume_finishes(data: Path,
                                                               tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "term"
    cmd = [sys.executable, "-m", "parvox", "train", "--config", "tiny", "--data", str(data),
           "--out", str(out), "--steps", "100000", "--batch", "4", "--threads", "1",
           "--workers", "1", "--checkpoint-every", "100000"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.time() + 120
        while not (out / "tensorboard").exists() and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(2.0)  # a few steps
        # to the whole process group, loader worker included, as torchrun (killpg) and a
        # terminal's Ctrl-C send it
        os.killpg(proc.pid, signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:  # a run that ignored the signal must not outlive the test
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, stderr[-2000:]
    steps = [s for s, _ in list_checkpoints(out)]
    assert len(steps) == 1 and 0 < steps[0] < 100000
    assert f"| {steps[0]} |" in stdout
    stopped = steps[0]
    resume = [*cmd, "--resume"]
    resume[resume.index("--steps") + 1] = str(stopped + 2)
    done = subprocess.run(resume, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [s for s, _ in list_checkpoints(out)] == [stopped, stopped + 2]
    logged = [json.loads(line)["step"] for line in (out / "train_log.jsonl").open()]
    assert logged[-3:] == [stopped, stopped + 1, stopped + 2]  # continued, not restarted


def test_bf16_autocast_trains_with_fp32_weights(data: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from parvox import train as train_module

    real_loss, seen = train_module.voxel_loss, []

    def loss_recording_dtype(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        seen.append(logits.dtype)
        return real_loss(logits, target)

    monkeypatch.setattr(train_module, "voxel_loss", loss_recording_dtype)
    plain = train(_cfg(data, tmp_path / "fp32", 2), show_progress=False)
    assert seen == [torch.float32] * 2
    seen.clear()
    cfg = _cfg(data, tmp_path / "bf16", 2)
    cfg.autocast_bf16 = True
    result = train(cfg, show_progress=False)
    assert seen == [torch.bfloat16] * 2  # the network really ran under bf16 autocast
    assert result.final_loss != plain.final_loss  # bf16 rounding changed the numbers...
    assert result.final_loss == pytest.approx(plain.final_loss, rel=0.05)  # ...not the run
    state = load_checkpoint(tmp_path / "bf16").model_state
    assert all(t.dtype == torch.float32 for t in state.values())
    with pytest.raises(ParvoxError, match="bf16"):
        TrainConfig(config="tiny", data="d", out="o", dtype="float64", autocast_bf16=True)


def test_a_resumed_runs_progress_bar_rates_only_its_own_steps() -> None:
    """A run resumed at step 900 of 1000 that has done one step in 0.6 s runs at ~1.7 steps/s,
    not at 900 steps in 0.6 s (which would promise the remaining 99 steps in a blink)."""
    with progress_bar(1000, desc="train", unit="step", initial=900) as bar:
        time.sleep(0.6)
        bar.update(1)
        rate = bar.format_dict["rate"]
        assert bar.n == 901 and rate is not None and 0.5 < rate < 3
