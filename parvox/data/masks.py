"""Training scenes for the photo path's mask network: procedural renders set into photo-like
pictures, with the object's mask.

The photo path (:mod:`parvox.photo`) must find the object in a photo before re-framing it. A
photo's object can sit anywhere, at any size, in front of walls, floors, patterns and other
furniture, and a photo may be squashed to a square for the network. Each scene here draws
those at random around one render of the training split:

* the object cut out at its alpha's bounding box, its long side ``0.25-1.0`` of the picture,
  stretched by up to ``exp(±0.3)`` in one direction, anywhere it fits or (a tightly framed
  photo) hanging over the picture's edges by up to a fifth of its size, light-jittered, and
  with probability ``repaint`` first repainted light and mostly grey
  (:func:`parvox.data.augment.repaint_light`), as ShapeNet's untextured models render;
* on a background of :mod:`parvox.data.augment` (gradients, noise, patterns, blurred renders,
  rooms), sometimes with another object cut off at the picture's edge behind it (clutter, not
  in the mask) and a soft contact shadow under it;
* then the whole picture blurred a little, grained, and sometimes JPEG-compressed.

Images are uint8 ``(S, S, 3)`` RGB, masks bool ``(S, S)``; everything is a pure function of a
``numpy.random.Generator``.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

from parvox.data.augment import _grid, jitter_light, random_background, repaint_light

#: Side of the mask network's square input, in pixels.
MASK_SIDE = 128
#: Every side the mask network runs or trains at is a multiple of this: its U-Net halves the
#: picture four times (parvox/models/masknet.py).
SIDE_MULTIPLE = 16
#: The object's long side as a fraction of the picture: range drawn uniformly.
OBJECT_EXTENT = (0.25, 1.0)
#: Largest log-stretch of one image axis (a photo squashed to a square stretches its object).
MAX_LOG_STRETCH = 0.3
#: Probabilities of a clutter object at the edge, a contact shadow, and JPEG compression.
CLUTTER, SHADOW, JPEG = 0.35, 0.5, 0.5
#: Probability that the object hangs over the picture's edges, and the most it may hang over
#: each edge as a fraction of its size: photos are often framed tighter than the object (a
#: chair's legs or a car's bumper cut off), which a scene of objects always inside never shows.
OVERHANG, MAX_OVERHANG = 0.25, 0.2


def parse_sides(text: str) -> tuple[int, ...]:
    """Comma-separated square sides (``"160,192,224"``) as ints; ValueError unless each is a
    positive multiple of :data:`SIDE_MULTIPLE`."""
    sides = tuple(int(x) for x in text.split(","))
    if any(side <= 0 or side % SIDE_MULTIPLE for side in sides):
        raise ValueError(f"not multiples of {SIDE_MULTIPLE}: {text}")
    return sides


def cut_out(rgba: np.ndarray) -> np.ndarray:
    """The uint8 RGBA ``(H, W, 4)`` render cut at its alpha's bounding box (alpha > 0)."""
    rows, cols = np.nonzero(rgba[..., 3] > 0)
    return rgba[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def _resized(piece: np.ndarray, height: int, width: int) -> np.ndarray:
    """uint8 RGBA ``piece`` resized to ``(height, width)`` with premultiplied alpha."""
    image = Image.fromarray(piece, "RGBA").convert("RGBa")
    return np.asarray(image.resize((width, height), Image.Resampling.BILINEAR).convert("RGBA"))


def _placed(piece: np.ndarray, rng: np.random.Generator, side: int, extent: float,
            inside: bool = True, overhang: float = 0.0) -> tuple[np.ndarray, int, int]:
    """``piece`` scaled to a long side of ``extent * side`` and a random stretch, with the
    (top, left) of a random place: inside the picture (up to ``overhang`` of its height and
    width beyond each edge), or anywhere touching it."""
    stretch = np.exp(rng.uniform(-MAX_LOG_STRETCH, MAX_LOG_STRETCH))
    height, width = piece.shape[0] * stretch, piece.shape[1] / stretch
    scale = extent * side / max(height, width)
    h, w = max(2, round(height * scale)), max(2, round(width * scale))
    small = _resized(piece, h, w)
    if inside:
        dh, dw = round(overhang * h), round(overhang * w)
        top = int(rng.integers(-dh, side - h + dh + 1))  # h, w <= side: never an empty range
        left = int(rng.integers(-dw, side - w + dw + 1))
    else:  # clutter: cut off by one edge of the picture
        top, left = int(rng.integers(-h // 2, side - h // 2)), int(rng.integers(-w // 2, side))
        if rng.random() < 0.5:
            left = int(rng.choice([-w // 2, side - w // 2]))
    return small, top, left


def _paste(canvas: np.ndarray, small: np.ndarray, top: int, left: int) -> np.ndarray:
    """Alpha-composite uint8 RGBA ``small`` on float RGB ``canvas`` at (top, left), clipped to
    the canvas, in place; returns the float alpha ``(S, S)`` it covered."""
    side = canvas.shape[0]
    cover = np.zeros(canvas.shape[:2], np.float32)
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + small.shape[0], side), min(left + small.shape[1], side)
    if t0 >= t1 or l0 >= l1:
        return cover
    part = small[t0 - top:t1 - top, l0 - left:l1 - left].astype(np.float32)
    alpha = part[..., 3:] / 255.0
    region = canvas[t0:t1, l0:l1]
    region += alpha * (part[..., :3] - region)
    cover[t0:t1, l0:l1] = alpha[..., 0]
    return cover


def _shadow(canvas: np.ndarray, top: int, left: int, height: int, width: int,
            rng: np.random.Generator) -> None:
    """Darken a soft ellipse under an object's box (its contact shadow on a floor), in place."""
    ys, xs = _grid(*canvas.shape[:2])
    cy, cx = top + height * rng.uniform(0.9, 1.0), left + width / 2
    ry, rx = max(2.0, 0.12 * height), max(2.0, 0.6 * width)
    falloff = np.exp(-(((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2))
    canvas *= (1.0 - rng.uniform(0.2, 0.6) * falloff)[..., None]


def _camera(canvas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A little blur, grain and sometimes JPEG: float RGB in, uint8 RGB out."""
    image = Image.fromarray(np.clip(canvas, 0, 255).round().astype(np.uint8))
    image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.0, 1.0))))
    out = np.asarray(image, np.float32) + rng.normal(0, rng.uniform(0, 5), canvas.shape)
    out = np.clip(out, 0, 255).round().astype(np.uint8)
    if rng.random() < JPEG:
        buffer = io.BytesIO()
        Image.fromarray(out).save(buffer, "JPEG", quality=int(rng.integers(40, 95)))
        out = np.asarray(Image.open(buffer).convert("RGB"))
    return out


def scene(render: np.ndarray, rng: np.random.Generator, side: int = MASK_SIDE,
          other: Callable[[], np.ndarray] | None = None,
          repaint: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A photo-like picture of ``render``'s object (uint8 RGBA ``(H, W, 4)`` with alpha) and its
    mask: uint8 ``(side, side, 3)`` and bool ``(side, side)``.

    ``other()`` returns another uint8 RGBA render: the source of clutter and of the blurred
    background kind (without it there is neither). ``repaint`` is the probability that the
    object is repainted light first; at 0 nothing is drawn for it, so a generator gives the
    same scene as before the option.
    """
    canvas = random_background((side, side), rng, other and (
        lambda: other()[..., :3].astype(np.float32)))
    if other is not None and rng.random() < CLUTTER:
        piece = cut_out(other())
        _paste(canvas, *_placed(piece, rng, side, rng.uniform(0.4, 1.0), inside=False))
    piece = cut_out(render)
    overhang = rng.uniform(0.0, MAX_OVERHANG) if rng.random() < OVERHANG else 0.0
    small, top, left = _placed(piece, rng, side, rng.uniform(*OBJECT_EXTENT), overhang=overhang)
    rgb = small[..., :3].astype(np.float32)
    alpha = small[..., 3:].astype(np.float32) / 255.0
    if repaint > 0.0 and rng.random() < repaint:
        rgb = repaint_light(rgb, alpha, rng)
    rgb = jitter_light(rgb, alpha, rng, 0.3)
    small = np.concatenate([rgb.round().astype(np.uint8), small[..., 3:]], axis=2)
    if rng.random() < SHADOW:
        _shadow(canvas, top, left, small.shape[0], small.shape[1], rng)
    cover = _paste(canvas, small, top, left)
    return _camera(canvas, rng), cover >= 0.5
