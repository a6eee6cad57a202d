"""Photos as cameras store them: pixels turned or mirrored, with an EXIF Orientation tag that
says how to show them upright (the tests of the photo reader, the photo path and the page)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from parvox.data.images import ORIENTATION_TAG


def stored_sideways(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a camera stores for an ``upright`` (h, w, c) picture under EXIF Orientation
    ``orientation``, written from the tag's definition (where the stored 0th row and 0th column
    lie as the picture is seen), not from PIL's transposes; contiguous."""
    u = upright
    stored = {1: u, 2: u[:, ::-1], 3: u[::-1, ::-1], 4: u[::-1],  # row 0 top / bottom
              5: u.swapaxes(0, 1),  # row 0 left, column 0 top
              6: u[:, ::-1].swapaxes(0, 1),  # row 0 right, column 0 top
              7: u[::-1, ::-1].swapaxes(0, 1),  # row 0 right, column 0 bottom
              8: u[::-1].swapaxes(0, 1)}[orientation]  # row 0 left, column 0 bottom
    return np.ascontiguousarray(stored)


def exif_orientation(value: int) -> Image.Exif:
    """An EXIF block holding only the Orientation tag."""
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = value
    return exif
