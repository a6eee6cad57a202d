"""The photo path's mask network: which pixels of a photo are the object.

A small U-Net (Ronneberger et al. 2015: an encoder of strided stages, a decoder that upsamples
and concatenates the encoder's features of the same size) trained on procedural renders set
into photo-like scenes (:mod:`parvox.data.masks`, ``scripts/train_masknet.py``). It sees the
photo squashed to a :data:`~parvox.data.masks.MASK_SIDE` square and returns the object's
probability per pixel; :func:`parvox.photo.segment` starts GrabCut from it. The shipped weights
are ``parvox/weights/masknet.safetensors`` (fp16, its widths in the file's metadata).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from parvox.data.masks import MASK_SIDE
from parvox.errors import DataError
from parvox.files import read_safetensors, write_half_safetensors

#: Channels of the encoder's stages (the decoder mirrors them); the first stage is full size.
WIDTHS = (16, 32, 64, 96, 128)
#: The shipped weights, inside the package.
WEIGHTS = "masknet.safetensors"


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


def save_masknet(model: MaskNet, path: str | Path, info: dict[str, object]) -> None:
    """Write ``model`` as fp16 safetensors (atomically) with its widths and ``info`` in the
    metadata."""
    write_half_safetensors(path, model.state_dict(),
                           {"widths": json.dumps(model.widths), "info": json.dumps(info)})


def load_masknet(path: str | Path) -> MaskNet:
    """A :class:`MaskNet` in eval mode, float32, from :func:`save_masknet`'s file; a missing or
    corrupt file is a :class:`~parvox.errors.DataError` naming it."""
    tensors, header = read_safetensors(path, "mask network weights not found",
                                      "cannot load mask network weights")
    try:
        model = MaskNet(tuple(json.loads(header["widths"])))
        model.load_state_dict({key: t.float() for key, t in tensors.items()})
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise DataError(path, f"cannot load mask network weights ({type(exc).__name__})") from None
    return model.eval()


@functools.lru_cache(maxsize=1)
def shipped_masknet() -> MaskNet:
    """The mask network shipped in the package (loaded once)."""
    return load_masknet(resources.files("parvox") / "weights" / WEIGHTS)


def object_probability(rgb: np.ndarray, model: MaskNet | None = None) -> np.ndarray:
    """float32 ``(h, w)`` in [0, 1]: the object's probability at each pixel of the uint8
    ``(h, w, 3)`` photo, from ``model`` (the shipped one by default) on the photo squashed to a
    :data:`MASK_SIDE` square, stretched back bilinearly."""
    model = model or shipped_masknet()
    square = np.asarray(Image.fromarray(rgb).resize((MASK_SIDE, MASK_SIDE),
                                                    Image.Resampling.BILINEAR))
    batch = torch.from_numpy(np.array(square)).permute(2, 0, 1)[None].float()
    with torch.no_grad():
        logits = model(batch)
        prob = torch.sigmoid(F.interpolate(logits, size=rgb.shape[:2], mode="bilinear",
                                           align_corners=False))
    return prob[0, 0].numpy()
