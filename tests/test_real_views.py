"""bench/real_views.py scores each view alone against the model's target."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import real_views  # noqa: E402


class _Half(torch.nn.Module):
    """Occupies the lower half of the x axis when a view's mean is above 0.5, else nothing."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, 3, H, W) -> (B, 2, 32, 32, 32)
        full = (x.flatten(1).mean(1) > 0.5).float()[:, None, None, None]
        occupied = torch.zeros(x.shape[0], 32, 32, 32)
        occupied[:, :16] = 10.0 * full - 5.0
        occupied[:, 16:] = -5.0
        return torch.stack([torch.zeros_like(occupied), occupied], dim=1)


def test_each_view_is_scored_alone() -> None:
    target = torch.zeros(32, 32, 32)
    target[:8] = 1.0  # a quarter of the grid, inside the model's half
    views = torch.stack([torch.ones(3, 8, 8), torch.zeros(3, 8, 8)])
    assert real_views.view_ious(_Half(), views, target, 0.4) == pytest.approx([0.5, 0.0])
