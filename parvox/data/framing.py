"""Re-framing: an object cut out at its mask's bounding box and pasted at the scale and position
the R2N2 renders show it.

A photo's object can fill any part of the picture, so the photo path (:mod:`parvox.photo`)
re-frames it before the network sees it. Training can re-frame renders the same way
(:attr:`parvox.data.augment.Augment.reframe`), so the network also learns the objects at the
one size the photo path gives them.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from parvox.data.camera import R2N2_IMAGE_SIZE

#: The object's bounding-box long side over the frame side in R2N2's renders: median 0.64
#: (10th-90th percentile 0.47-0.83) over the 168 renders of ``../shared/r2n2-samples``, 0.63
#: over parvox's procedural renders (``python bench/photo_bench.py --framing`` prints both).
FRAME_EXTENT = 0.64
#: The bounding box's centre (row, column) as fractions of the frame, same renders: the
#: objects sit a little below the middle (median row 0.526, column 0.500).
FRAME_CENTRE = (0.526, 0.5)
#: Alpha values at or above this count as the object in alpha channels and mask files.
MASK_LEVEL = 128


def frame_object(rgb: np.ndarray, mask: np.ndarray, size: int = R2N2_IMAGE_SIZE, *,
                 extent: float | None = FRAME_EXTENT,
                 centre: tuple[float, float] | None = FRAME_CENTRE) -> np.ndarray:
    """Cut the object out of ``rgb`` (uint8 ``(h, w, 3)``) at ``mask``'s (bool ``(h, w)``,
    not empty) bounding box and paste it into a transparent uint8 ``(size, size, 4)`` frame with
    its long side at ``extent`` of the frame and its box centred at ``centre`` (row, column
    fractions): R2N2's scale and position by default. ``extent=None`` keeps the object's scale,
    ``centre=None`` its position (for a square ``rgb`` of side ``size``: the bench of what each
    part of re-framing costs)."""
    rows, cols = np.nonzero(mask)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    alpha = mask[top:bottom, left:right].astype(np.uint8) * 255
    piece = np.dstack([rgb[top:bottom, left:right], alpha])
    scale = 1.0 if extent is None else extent * size / max(bottom - top, right - left)
    height = max(1, round((bottom - top) * scale))
    width = max(1, round((right - left) * scale))
    small = Image.fromarray(piece, "RGBA").convert("RGBa")  # premultiplied: clean edges
    small = small.resize((width, height), Image.Resampling.LANCZOS).convert("RGBA")
    frame = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    row, col = centre or ((top + bottom) / 2 / mask.shape[0], (left + right) / 2 / mask.shape[1])
    frame.paste(small, (round(col * size - width / 2), round(row * size - height / 2)))
    return np.asarray(frame)


def reframe_render(rgba: np.ndarray, *, extent: float | None = FRAME_EXTENT,
                   centre: tuple[float, float] | None = FRAME_CENTRE) -> np.ndarray:
    """A uint8 RGBA render ``(H, W, 4)`` (square) re-framed as the photo path re-frames a
    photo: the object at :data:`FRAME_EXTENT` and :data:`FRAME_CENTRE` (or the ``extent`` and
    ``centre`` of :func:`frame_object`), with the alpha of its mask (alpha >=
    :data:`MASK_LEVEL`), as a photo's mask gives it. A render without an object comes back as
    it was."""
    mask = rgba[..., 3] >= MASK_LEVEL
    if not mask.any():
        return rgba
    return frame_object(np.ascontiguousarray(rgba[..., :3]), mask, rgba.shape[0],
                        extent=extent, centre=centre)
