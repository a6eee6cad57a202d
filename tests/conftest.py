"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from parvox.checkpoint import save_checkpoint
from parvox.models import create_model


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run holding an untrained tiny network biased towards "occupied", so that
    ``reconstruct`` has a mesh to write."""
    run = tmp_path_factory.mktemp("run")
    torch.manual_seed(0)
    model = create_model("tiny")
    head = [m for m in model.decoder.modules() if isinstance(m, torch.nn.Conv3d)][-1]
    with torch.no_grad():  # an untrained net: bias it towards "occupied" so a mesh exists
        head.bias.copy_(torch.tensor([0.0, 2.0]))
    save_checkpoint(run, 1, model.state_dict(), None, {"config": "tiny", "train": {}})
    return run
