"""parvox grow: a widened network computes what the trained one did, and its new units learn."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from parvox.checkpoint import load_checkpoint, save_checkpoint
from parvox.errors import ParvoxError
from parvox.grow import grow_checkpoint, grow_model, grow_optimizer_state
from parvox.models import create_model

WIDER = {"hidden_channels": 12, "fc_dim": 40, "decoder_widths": (12, 12, 12, 6)}
GROW16 = {"hidden_channels": 16, "decoder_widths": (16, 16, 16, 4)}


def _trained(name: str = "tiny", **overrides: object) -> torch.nn.Module:
    """A model whose weights are all non-zero and unlike a fresh init (as if trained)."""
    torch.manual_seed(1)
    model = create_model(name, **overrides).double()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


@pytest.mark.parametrize("recurrent", ["gru", "lstm"])
@pytest.mark.parametrize("decoder", ["residual", "shallow"])
def test_grown_model_computes_the_same_outputs(recurrent: str, decoder: str) -> None:
    old = _trained(recurrent=recurrent, decoder=decoder)
    new = grow_model(old, dataclasses.replace(old.config, **WIDER))
    assert new.config.hidden_channels == 12
    assert sum(p.numel() for p in new.parameters()) > sum(p.numel() for p in old.parameters())
    images = torch.rand(3, 4, 3, 32, 32, dtype=torch.float64)
    torch.testing.assert_close(new(images), old(images), rtol=0, atol=1e-12)


def test_new_units_are_live_and_get_gradients() -> None:
    old = _trained()
    new = grow_model(old, dataclasses.replace(old.config, **WIDER))
    images = torch.rand(2, 3, 3, 32, 32, dtype=torch.float64)
    new(images).sum().backward()
    # the zero weights from the new hidden channels into the decoder learn...
    grad = new.decoder.upsamples[0].deconv.weight.grad
    assert grad[8:, :8].abs().sum() > 0
    # ...and the new gate rows were initialised, not zeroed (else the new channels stay zero)
    rows = new.recurrent.fc_gates.weight.reshape(3, 12, 64, 40)
    assert rows[:, 8:].abs().sum() > 0
    assert torch.equal(rows[:, :8, :, :32], old.recurrent.fc_gates.weight.reshape(3, 8, 64, 32))


def test_growth_that_shrinks_or_changes_structure_is_refused() -> None:
    old = _trained()
    with pytest.raises(ParvoxError, match="can only grow"):
        grow_model(old, dataclasses.replace(old.config, hidden_channels=4))
    with pytest.raises(ParvoxError, match="image_size cannot change"):
        grow_model(old, dataclasses.replace(old.config, image_size=64))
    # tiny's decoder stage 1 is 8 -> 8 with an identity shortcut; 8 -> 10 would need a conv
    with pytest.raises(ParvoxError, match="shortcut"):
        grow_model(old, dataclasses.replace(old.config, decoder_widths=(8, 10, 8, 4)))


def test_adam_state_grows_with_old_entries_kept() -> None:
    old = _trained()
    opt = torch.optim.Adam(old.parameters(), lr=1e-3)
    old(torch.rand(2, 2, 3, 32, 32, dtype=torch.float64)).sum().backward()
    opt.step()
    names = [n for n, _ in old.named_parameters()]
    state = {"state": {names[i]: v for i, v in opt.state_dict()["state"].items()},
             "param_groups": [], "keys": "name"}
    new = grow_model(old, dataclasses.replace(old.config, **WIDER))
    grown = grow_optimizer_state(state, old, new)["state"]["recurrent.fc_gates.weight"]
    before = state["state"]["recurrent.fc_gates.weight"]
    sq = grown["exp_avg_sq"].reshape(3, 12, 64, 40)
    assert torch.equal(sq[:, :8, :, :32], before["exp_avg_sq"].reshape(3, 8, 64, 32))
    assert torch.allclose(sq[:, 8:], before["exp_avg_sq"].mean().expand_as(sq[:, 8:]))
    assert grown["exp_avg"].reshape(3, 12, 64, 40)[:, 8:].abs().sum() == 0


def test_grow_checkpoint_writes_a_run_that_resumes(tmp_path) -> None:
    old = _trained().float()
    meta = {"config": "tiny", "train": {"config": "tiny", "model_overrides": {}},
            "model": {k: (list(v) if isinstance(v, tuple) else v)
                      for k, v in dataclasses.asdict(old.config).items()}}
    src = save_checkpoint(tmp_path / "old", 40, old.state_dict(), None, meta)
    written = grow_checkpoint(src, tmp_path / "new", GROW16)
    ckpt = load_checkpoint(tmp_path / "new")
    assert ckpt.path == written and ckpt.step == 40
    assert ckpt.meta["model"]["hidden_channels"] == 16
    config = json.loads((tmp_path / "new" / "config.json").read_text())
    assert config["model_overrides"] == {"hidden_channels": 16, "decoder_widths": [16, 16, 16, 4]}
    assert config["out"] == str(tmp_path / "new")
    model = create_model("tiny", **config["model_overrides"])
    model.load_state_dict(ckpt.model_state)
    images = torch.rand(1, 2, 3, 32, 32)
    torch.testing.assert_close(model(images), old(images), rtol=0, atol=1e-4)  # fp32 sums
    with pytest.raises(ParvoxError, match="already has checkpoints"):
        grow_checkpoint(src, tmp_path / "new", GROW16)
    with pytest.raises(ParvoxError, match="encoder_widths cannot grow"):
        grow_checkpoint(src, tmp_path / "other", {"encoder_widths": (9,) * 6})


def test_cli_grow_errors_are_one_line(tmp_path, capsys) -> None:
    from parvox.cli import main

    assert main(["grow", str(tmp_path / "missing"), "--out", str(tmp_path / "o"),
                 "--hidden-channels", "9"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing" in err[0] and "no checkpoint found" in err[0]
    assert main(["grow", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    assert "nothing to grow" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
