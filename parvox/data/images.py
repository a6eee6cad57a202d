"""Image-mode handling shared by the dataset, ``data verify`` and ``reconstruct`` (PIL only)."""

from __future__ import annotations

import numpy as np
from PIL import Image


def to_rgba(image: Image.Image) -> Image.Image:
    """An image of any mode as 8-bit RGBA: palette, grey, grey+alpha, RGB (with PNG ``tRNS``
    transparency), CMYK, and 16/32-bit grey (full scale 0..65535 -> 0..255)."""
    if image.mode.startswith("I"):
        grey = np.asarray(image).astype(np.float64) / 257.0
        image = Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8))
    return image if image.mode == "RGBA" else image.convert("RGBA")


def has_alpha(image: Image.Image) -> bool:
    """Whether the image carries transparency (an alpha channel or PNG ``tRNS``)."""
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
