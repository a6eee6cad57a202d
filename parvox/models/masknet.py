"""The photo path's mask network: a small U-Net that tells which pixels of a photo are the object.

Ronneberger et al. 2015: an encoder of strided stages, a decoder that upsamples and concatenates
the encoder's features of the same size. Single-device model code like the rest of
:mod:`parvox.models`; its shipped weights, loading and use on a photo are in
:mod:`parvox.masknet`, its training in ``scripts/train_masknet.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: Channels of the encoder's stages (the decoder mirrors them); the first stage is full size.
WIDTHS = (16, 32, 64, 96, 128)


def _block(cin: int, cout: int) -> nn.Sequential:
    """Two 3x3 convolutions, each with batch norm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))


class MaskNet(nn.Module):
    """U-Net: uint8-range float ``(B, 3, S, S)`` RGB in, object logits ``(B, 1, S, S)`` out
    (``S`` a multiple of ``2 ** (len(widths) - 1)``)."""

    def __init__(self, widths: tuple[int, ...] = WIDTHS) -> None:
        super().__init__()
        self.widths = tuple(widths)
        self.down = nn.ModuleList(_block(cin, cout) for cin, cout in
                                  zip((3, *widths[:-1]), widths, strict=True))
        self.up = nn.ModuleList(_block(deep + skip, skip) for deep, skip in
                                zip(widths[:0:-1], widths[-2::-1], strict=True))
        self.head = nn.Conv2d(widths[0], 1, 1)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        x = rgb * (1.0 / 255.0) - 0.5
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for block, skip in zip(self.up, skips[-2::-1], strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return self.head(x)
