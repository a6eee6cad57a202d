"""Flip-averaged prediction: the mean over the views as given and mirrored left-right."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from parvox.inference import predict_occupancy
from parvox.models import create_model


class LeftHalf(nn.Module):
    """A stand-in network whose "occupied" logit everywhere is the mean brightness of the left
    half of the last view: a mirror left-right changes its answer, a mirror top-bottom not."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(4.0))

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (B, V, 3, H, W) -> (B, 2, 2, 2, 2)
        left = images[:, -1, :, :, : images.shape[-1] // 2].mean(dim=(1, 2, 3))
        occupied = (self.scale * (left - 0.5))[:, None, None, None].expand(-1, 2, 2, 2)
        return torch.stack([torch.zeros_like(occupied), occupied], dim=1)


def _left_bright(batch: int = 2) -> torch.Tensor:
    images = torch.zeros(batch, 1, 3, 8, 8)
    images[..., :4] = 1.0  # bright left half, dark right half
    return images


def test_one_pass_is_the_softmax_of_the_network() -> None:
    prob = predict_occupancy(LeftHalf(), _left_bright())
    assert prob.shape == (2, 2, 2, 2)
    assert torch.allclose(prob, torch.sigmoid(torch.tensor(2.0)).expand(2, 2, 2, 2))


def test_flip_average_mirrors_the_width_axis() -> None:
    # left bright: sigmoid(+2); mirrored left-right, the left is dark: sigmoid(-2); mean 0.5.
    # A top-bottom mirror (or none) would leave sigmoid(+2).
    prob = predict_occupancy(LeftHalf(), _left_bright(), flip_average=True)
    assert torch.allclose(prob, torch.full((2, 2, 2, 2), 0.5))


def test_flip_average_of_a_real_network_is_the_mean_of_both_passes() -> None:
    torch.manual_seed(0)
    model = create_model("tiny").eval()
    size = model.config.image_size
    images = torch.rand(2, 3, 3, size, size)
    with torch.no_grad():
        plain = torch.softmax(model(images), dim=1)[:, 1]
        mirrored = torch.softmax(model(images.flip(-1)), dim=1)[:, 1]
    averaged = predict_occupancy(model, images, flip_average=True)
    assert torch.allclose(averaged, (plain + mirrored) / 2, atol=1e-6)
    assert not torch.allclose(averaged, plain, atol=1e-4)  # the mirror did change the input
    assert predict_occupancy(model, images).dtype == torch.float32


@pytest.mark.parametrize("flip", [False, True])
def test_prediction_leaves_no_graph(flip: bool) -> None:
    assert not predict_occupancy(LeftHalf(), _left_bright(), flip_average=flip).requires_grad
