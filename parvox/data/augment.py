"""Training augmentation for real photos: varied backgrounds, light and colour, framing.

3D-R2N2 composites each training render on a plain random colour. Photos show objects in rooms,
on floors, in front of textures, under coloured light and not always framed like the renders; a
network that only ever saw plain backgrounds reads the room as part of the object. The
functions here are pure functions of a ``numpy.random.Generator`` (the dataset passes each
sample's own), so every worker and rank makes the same sample for the same key.

Images are float32 ``(H, W, 3)`` RGB in 0..255 unless stated; alpha is float32 ``(H, W, 1)``
in [0, 1]. Evaluation never uses this module: Pix2Vox's protocol stays as it was.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

#: Background kinds and their relative weights when a varied background is drawn.
BACKGROUND_KINDS: dict[str, float] = {
    "gradient": 0.2,
    "noise": 0.2,
    "pattern": 0.2,
    "render": 0.15,
    "room": 0.25,
}


@dataclass(frozen=True)
class Augment:
    """What training does to a view beyond R2N2's crop, colour background and flip.

    Attributes:
        backgrounds: probability that a view is composited on a varied background
            (:data:`BACKGROUND_KINDS`) instead of R2N2's plain random colour.
        light: strength in [0, 1] of the light and colour jitter of the object: brightness and
            contrast up to ``±light``, saturation up to ``±light``, a colour cast of each
            channel up to ``±light / 3``.
        frame: the object's scale changes by up to ``±frame`` and its centre moves by up to
            ``frame / 2`` of the frame's side.
        reframe: probability that a view is re-framed as the photo path re-frames a photo
            (:func:`parvox.data.framing.reframe_render`: every object at R2N2's median size
            and position, with its mask's alpha) instead of jittered by ``frame``.
        repaint: probability that a view's object is repainted light and mostly grey
            (:func:`repaint_light`), as ShapeNet's untextured models render, before ``light``.
    """

    backgrounds: float = 0.0
    light: float = 0.0
    frame: float = 0.0
    reframe: float = 0.0
    repaint: float = 0.0

    def __post_init__(self) -> None:
        for name, value in self._strengths():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"augmentation {name} must be in [0, 1], got {value}")

    def _strengths(self) -> list[tuple[str, float]]:
        return [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)]

    @property
    def active(self) -> bool:
        """Whether any augmentation beyond R2N2's is on."""
        return any(value > 0 for _, value in self._strengths())


def jitter_frame(rgba: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Scale the uint8 RGBA ``(H, W, 4)`` render about its centre by ``1 ± amount`` and shift it by
    up to ``amount / 2`` of its side; pixels brought in from outside are transparent."""
    height, width = rgba.shape[:2]
    scale = 1.0 + rng.uniform(-amount, amount)
    shift_x, shift_y = rng.uniform(-amount / 2, amount / 2, 2) * (width, height)
    # PIL's affine maps output (x, y) to input (a x + b y + c, d x + e y + f).
    cx, cy = width / 2, height / 2
    coeffs = (1 / scale, 0.0, cx - (cx + shift_x) / scale,
              0.0, 1 / scale, cy - (cy + shift_y) / scale)
    image = Image.fromarray(rgba, "RGBA").convert("RGBa")  # premultiplied: no dark fringes
    moved = image.transform((width, height), Image.Transform.AFFINE, coeffs,
                            resample=Image.Resampling.BILINEAR)
    return np.asarray(moved.convert("RGBA"))


def jitter_light(rgb: np.ndarray, alpha: np.ndarray, rng: np.random.Generator,
                 amount: float) -> np.ndarray:
    """Brightness, contrast, saturation and a colour cast of the object: float RGB ``(H, W, 3)``
    in 0..255 with its alpha ``(H, W, 1)`` in [0, 1] (contrast pivots on the object's mean)."""
    brightness, contrast, saturation = 1.0 + rng.uniform(-amount, amount, 3)
    cast = 1.0 + rng.uniform(-amount / 3, amount / 3, 3)
    grey = rgb.mean(axis=2, keepdims=True)
    pivot = float((grey * alpha).sum() / max(float(alpha.sum()), 1e-6))
    # saturation then contrast, as one affine map of (rgb, grey) per pixel
    out = (contrast * saturation) * rgb + (contrast * (1 - saturation)) * grey
    out += (1 - contrast) * pivot
    out *= (brightness * cast).astype(np.float32)
    return np.clip(out, 0.0, 255.0, out=out)


#: Rec. 601 luma weights, the grey a repainted object's shading is read from.
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
#: The range of a repainted object's mean luma (0..255). ShapeNet's many untextured models
#: render in a light default material, where the procedural palettes (parvox/data/procedural/
#: palette.py) span dark to light; the range is wide, not fitted to any set of renders.
REPAINT_LUMA = (110.0, 215.0)


def repaint_light(rgb: np.ndarray, alpha: np.ndarray, rng: np.random.Generator,
                  luma: tuple[float, float] = REPAINT_LUMA) -> np.ndarray:
    """The object repainted in a light material, its shading kept: float RGB ``(H, W, 3)`` in
    0..255 with its alpha ``(H, W, 1)`` in [0, 1].

    A random share of the colour's saturation is kept (none to all), then every pixel is
    scaled by one factor that brings the object's mean luma to a value drawn from ``luma``:
    a change of the material's albedo under the same light, so brighter pixels stay brighter.
    """
    keep = rng.uniform(0.0, 1.0)
    grey = (rgb @ LUMA)[..., None]
    out = keep * rgb + (1.0 - keep) * grey
    out *= luma_gain(grey[..., 0], alpha[..., 0], rng.uniform(*luma))
    return np.clip(out, 0.0, 255.0, out=out)


def luma_gain(value: np.ndarray, weight: np.ndarray, target: float) -> np.float32:
    """The one factor that brings the object's mean luma to ``target`` (0..255): ``value`` is
    the luma ``(H, W)``, ``weight`` the object's share of each pixel ``(H, W)`` in [0, 1] (its
    alpha, or a 0/1 mask). 1 where no pixel is the object's; a black object counts as luma 1."""
    total = float(weight.sum())
    if total <= 0.0:
        return np.float32(1.0)
    mean = float((value * weight).sum() / total)
    return np.float32(target / max(mean, 1.0))


def background(kind: str, size: tuple[int, int], rng: np.random.Generator,
               other: Callable[[], np.ndarray] | None = None) -> np.ndarray:
    """A float32 ``(H, W, 3)`` background of ``kind`` (:data:`BACKGROUND_KINDS`).

    ``other`` returns another render as float RGB ``(h, w, 3)``; "render" needs it and falls
    back to "noise" without it.
    """
    height, width = size
    if kind == "gradient":
        return _gradient(height, width, rng)
    if kind == "noise":
        return _noise(height, width, rng)
    if kind == "pattern":
        return _pattern(height, width, rng)
    if kind == "render":
        return _blurred_render(height, width, rng, other) if other else _noise(height, width, rng)
    if kind == "room":
        return _room(height, width, rng)
    raise ValueError(f"unknown background kind {kind!r}")


def random_background(size: tuple[int, int], rng: np.random.Generator,
                      other: Callable[[], np.ndarray] | None = None) -> np.ndarray:
    """A background of a kind drawn with :data:`BACKGROUND_KINDS`' weights."""
    names = list(BACKGROUND_KINDS)
    weights = np.array([BACKGROUND_KINDS[n] for n in names])
    kind = str(rng.choice(names, p=weights / weights.sum()))
    return background(kind, size, rng, other)


def _colour(rng: np.random.Generator) -> np.ndarray:
    """A random RGB colour (3,), biased to the muted colours of walls, floors and tables."""
    base = rng.uniform(20, 245)
    return np.clip(base + rng.normal(0, 35, 3), 0, 255)


@functools.lru_cache(maxsize=8)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Read-only float32 row and column coordinates, each (H, W)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ys.flags.writeable = False
    xs.flags.writeable = False
    return ys, xs


def _ramp(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """(H, W, 1) in [0, 1] along a random direction."""
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = _grid(height, width)
    t = np.cos(angle) * xs / width + np.sin(angle) * ys / height
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    return t[..., None]


def _gradient(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    a, b = _colour(rng), _colour(rng)
    return (a + _ramp(height, width, rng) * (b - a)).astype(np.float32)


def _smooth_noise(height: int, width: int, rng: np.random.Generator, cells: int) -> np.ndarray:
    """(H, W) value noise in [0, 1]: a random ``cells``² grid upsampled bicubically."""
    grid = (rng.random((cells, cells)) * 255).astype(np.uint8)
    up = Image.fromarray(grid, "L").resize((width, height), Image.Resampling.BICUBIC)
    return np.asarray(up, dtype=np.float32) / 255.0


def _noise(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Two octaves of coloured value noise between two colours, with fine grain."""
    coarse = _smooth_noise(height, width, rng, int(rng.integers(2, 8)))
    fine = _smooth_noise(height, width, rng, int(rng.integers(12, 40)))
    t = (0.7 * coarse + 0.3 * fine)[..., None]
    a, b = _colour(rng), _colour(rng)
    grain = rng.normal(0, rng.uniform(0, 8), (height, width, 1))
    return np.clip(a + t * (b - a) + grain, 0, 255).astype(np.float32)


def _pattern(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Stripes, checks or wood-like grain in two colours, at a random angle and period."""
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(4, 40)
    ys, xs = _grid(height, width)
    u = np.cos(angle) * xs + np.sin(angle) * ys
    v = -np.sin(angle) * xs + np.cos(angle) * ys
    style = rng.integers(3)
    if style == 0:  # stripes
        t = (np.sin(2 * np.pi * u / period) > 0).astype(np.float32)
    elif style == 1:  # checks (tiles, fabric)
        t = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
    else:  # grain: stripes bent by noise
        warp = _smooth_noise(height, width, rng, 4) * period * 3
        t = 0.5 + 0.5 * np.sin(2 * np.pi * (u + warp) / period)
    a, b = _colour(rng), _colour(rng)
    return (a + t[..., None] * (b - a)).astype(np.float32)


def _blurred_render(height: int, width: int, rng: np.random.Generator,
                    other: Callable[[], np.ndarray]) -> np.ndarray:
    """A crop of another render, enlarged and blurred (out-of-focus clutter)."""
    rgb = other()
    h, w = rgb.shape[:2]
    side = int(rng.integers(max(8, min(h, w) // 4), min(h, w) + 1))
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = Image.fromarray(np.clip(rgb[top:top + side, left:left + side], 0, 255).astype(np.uint8))
    crop = crop.resize((width, height), Image.Resampling.BILINEAR)
    crop = crop.filter(ImageFilter.GaussianBlur(float(rng.uniform(1.0, 4.0))))
    return np.asarray(crop, dtype=np.float32)


def _room(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A wall above a floor, split at a random height, each shaded and grained a little; the
    line sometimes tilts, as in a photo taken from above or at an angle."""
    horizon = rng.uniform(0.25, 0.85) * height
    tilt = rng.uniform(-0.25, 0.25)
    ys, xs = _grid(height, width)
    floor = (ys > horizon + tilt * (xs - width / 2))[..., None]
    wall = _gradient(height, width, rng) if rng.random() < 0.5 else np.broadcast_to(
        _colour(rng), (height, width, 3))
    ground = _noise(height, width, rng) if rng.random() < 0.5 else _pattern(height, width, rng)
    shade = 0.75 + 0.25 * _ramp(height, width, rng)
    return np.where(floor, ground * shade, wall).astype(np.float32)
