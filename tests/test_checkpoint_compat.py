"""Self-describing checkpoints, and checkpoints written before the gate fusion and before
name-keyed optimizer state: they load, evaluate and resume exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from parvox.checkpoint import (
    META_FILE,
    MODEL_FILE,
    OPTIMIZER_FILE,
    load_checkpoint,
    load_model,
)
from parvox.data.builder import build_dataset, procedural_jobs
from parvox.errors import DataError
from parvox.files import sha256_file
from parvox.models import create_model
from parvox.models.recurrent import legacy_parameter_names
from parvox.train import TrainConfig, train

GATES = ("update", "reset", "hidden")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("compatdata")
    build_dataset(root, procedural_jobs(3, ["chair", "lamp"]), seed=6, show_progress=False)
    return root


def _config(data: Path, out: Path, steps: int) -> TrainConfig:
    return TrainConfig(config="tiny", data=str(data), out=str(out), steps=steps, batch=4,
                       views=(1, 3), threads=1, seed=3, lr=1e-3, checkpoint_every=2, workers=0,
                       dtype="float64")


@pytest.fixture(scope="module")
def run(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compat") / "run"
    train(_config(data, out, 3), show_progress=False)
    return out


def _split_gates(tensor: torch.Tensor) -> list[torch.Tensor]:
    return [t.clone() for t in tensor.chunk(len(GATES))]


def _make_legacy(folder: Path, target: Path) -> None:
    """Rewrite a checkpoint as the code before the gate fusion wrote it: one FC per gate, the
    optimizer state keyed by parameter index in that code's parameter order."""
    target.mkdir(parents=True)
    model = load_file(folder / MODEL_FILE)
    for kind in ("weight", "bias"):
        for gate, rows in zip(GATES, _split_gates(model.pop(f"recurrent.fc_gates.{kind}")),
                              strict=True):
            model[f"recurrent.fc_{gate}.{kind}"] = rows
    save_file(model, target / MODEL_FILE)
    meta = json.loads((folder / META_FILE).read_text())
    flat = load_file(folder / OPTIMIZER_FILE)
    order = legacy_parameter_names(create_model("tiny"))
    legacy: dict[str, torch.Tensor] = {}
    for key, value in flat.items():
        name, state_key = key.rsplit("/", 1)
        if name.startswith("recurrent.fc_gates."):
            kind = name.rsplit(".", 1)[1]
            parts = _split_gates(value) if value.dim() else [value.clone() for _ in GATES]
            for gate, part in zip(GATES, parts, strict=True):
                legacy[f"{order.index(f'recurrent.fc_{gate}.{kind}')}.{state_key}"] = part
        else:
            legacy[f"{order.index(name)}.{state_key}"] = value
    save_file(legacy, target / OPTIMIZER_FILE)
    rest = meta["optimizer"]
    rest.pop("keys")
    rest["param_groups"] = [dict(g, params=list(range(len(order))))
                            for g in rest["param_groups"]]
    rest["scalars"] = {}
    (target / "rng.safetensors").write_bytes((folder / "rng.safetensors").read_bytes())
    meta.pop("model", None)  # older checkpoints are rebuilt from the registry name
    meta["sha256"] = {n: sha256_file(target / n)
                      for n in (MODEL_FILE, OPTIMIZER_FILE, "rng.safetensors")}
    (target / META_FILE).write_text(json.dumps(meta))


def test_meta_holds_the_resolved_model_config(run: Path) -> None:
    ckpt = load_checkpoint(run)
    assert ckpt.meta["model"]["fc_dim"] == 32 and ckpt.meta["model"]["recurrent"] == "gru"
    # loading rebuilds from that config, not from the registry name
    meta = json.loads((ckpt.path / META_FILE).read_text())
    meta["config"] = "no-such-registry-name"
    (ckpt.path / META_FILE).write_text(json.dumps(meta))
    model, _ = load_model(ckpt.path)
    assert model.recurrent.fc_gates.out_features == 3 * 8 * 4**3
    meta["model"]["recurrent"] = "rnn"
    (ckpt.path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(DataError, match="cannot rebuild its model"):
        load_model(ckpt.path)


def test_optimizer_state_is_keyed_by_name(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "names"
    train(_config(data, out, 2), show_progress=False)
    state = load_checkpoint(out).optimizer_state
    assert state["keys"] == "name" and "recurrent.fc_gates.weight" in state["state"]
    names = [n for n, _ in create_model("tiny").named_parameters()]
    assert state["param_groups"][0]["params"] == names


def test_legacy_checkpoint_evaluates_and_resumes_exactly(data: Path, run: Path,
                                                         tmp_path: Path) -> None:
    legacy = tmp_path / "legacy"
    _make_legacy(run / "checkpoints" / "step-2", legacy / "checkpoints" / "step-2")
    assert "recurrent.fc_update.weight" in load_file(legacy / "checkpoints/step-2" / MODEL_FILE)
    old, _ = load_model(legacy)
    new, _ = load_model(run / "checkpoints" / "step-2")
    for key, value in new.state_dict().items():
        assert torch.equal(old.state_dict()[key], value), key
    train(_config(data, legacy, 3), resume=True, show_progress=False)
    resumed, uninterrupted = load_checkpoint(legacy), load_checkpoint(run)
    assert resumed.step == 3
    for key, value in uninterrupted.model_state.items():
        assert torch.equal(resumed.model_state[key], value), key
