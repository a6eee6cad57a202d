"""scripts/seed_run.py: exported weights become a run that ``parvox train --resume`` continues."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from parvox.checkpoint import list_checkpoints, load_checkpoint
from parvox.data.builder import build_dataset, procedural_jobs
from parvox.errors import ParvoxError
from parvox.pretrained import export_weights, read_weights
from parvox.train import TrainConfig, train

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import seed_run  # noqa: E402
import ship_model  # noqa: E402


def test_seeded_run_resumes_from_the_exported_weights(checkpoint: Path, tmp_path: Path) -> None:
    weights = export_weights(checkpoint, tmp_path / "w.safetensors",
                             {"samples": 1000, "train_seconds": 50})
    run = tmp_path / "run"
    path = seed_run.seed_run(str(weights), run, step=4)
    assert [s for s, _ in list_checkpoints(run)] == [4]
    ckpt = load_checkpoint(path)
    assert ckpt.optimizer_state is None and ckpt.meta["config"] == "tiny"
    exported, _ = read_weights(weights)
    for name, tensor in exported.items():  # the fp16 export, widened exactly
        assert ckpt.model_state[name].dtype == (torch.float32 if tensor.is_floating_point()
                                                else tensor.dtype), name
        assert torch.equal(ckpt.model_state[name], tensor.to(ckpt.model_state[name].dtype))
    with pytest.raises(ParvoxError, match="already has checkpoints"):
        seed_run.seed_run(str(weights), run)

    data = tmp_path / "data"
    build_dataset(data, procedural_jobs(2, ["chair"]), seed=1, show_progress=False)
    cfg = TrainConfig(config="tiny", data=str(data), out=str(run), steps=6, batch=2, views=(1, 2),
                      lr=1e-3, checkpoint_every=100, workers=0)
    result = train(cfg, resume=True, show_progress=False)
    assert (result.start_step, result.steps) == (4, 6)  # counted on from the seeded step
    final = load_file(run / "checkpoints/step-6/model.safetensors")
    moved = [n for n in final if final[n].is_floating_point()
             and not torch.equal(final[n], ckpt.model_state[n])]
    assert moved  # trained on from the weights, not from a fresh initialisation
    start = {n: ckpt.model_state[n] for n in moved}
    drift = max(float((final[n] - start[n]).abs().max()) for n in moved)
    assert drift < 0.05  # two Adam steps at lr 1e-3 from the seed, not a re-initialised net
    # the model card counts what the weights had behind them and the steps run since
    facts = ship_model.run_facts(run)
    assert facts["steps"] == 6 and facts["samples"] == 1000 + 2 * 2
    logged = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in logged] == [5, 6]
    assert facts["train_s"] == pytest.approx(50 + sum(e["step_s"] for e in logged))
