"""Tables: rectangular/round/oval tops of any thickness on legs, pedestals, trestles or panels.

Frame: top centred over the origin, long side along Z (like ShapeNet benches), front toward +X.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import ellipse_ring, rot_y
from .palette import Material
from .parts import four_legs, rod, stretchers
from .primitives import box, cylinder, extrude, lathe, rounded_box, tube


@dataclass
class Top:
    """Table top: shape, size (depth along X, length along Z), height and thickness."""

    shape: str  # "rect" | "round" | "oval"
    d: float
    length: float
    h: float
    t: float
    mat: Material
    frame: Material


def _top(rng: np.random.Generator) -> Top:
    """Sample a coffee, side, dining, desk, conference or bar table top."""
    use = rng.choice(["coffee", "side", "dining", "long", "bar"], p=[0.2, 0.15, 0.35, 0.15, 0.15])
    h = {"coffee": (0.3, 0.5), "side": (0.45, 0.7), "dining": (0.68, 0.8), "long": (0.7, 0.78),
         "bar": (0.9, 1.1)}[str(use)]
    lr = {"coffee": (0.6, 1.4), "side": (0.35, 0.6), "dining": (0.8, 1.8), "long": (1.8, 3.2),
          "bar": (0.5, 1.2)}[str(use)]
    length = rng.uniform(*lr)
    shape = rng.choice(["rect", "round", "oval"], p=[0.6, 0.25, 0.15])
    d = length if shape == "round" else length * rng.uniform(0.35, 0.95)
    t = rng.choice([rng.uniform(0.015, 0.035), rng.uniform(0.035, 0.1)])
    mat = pal.any_of(rng, pal.wood, pal.wood, pal.painted, pal.glass, pal.metal)
    frame = mat if rng.random() < 0.4 else pal.any_of(rng, pal.wood, pal.metal, pal.painted)
    return Top(str(shape), d, length, rng.uniform(*h), t, mat, frame)


def _add_top(b: ShapeBuilder, rng: np.random.Generator, top: Top) -> None:
    """The slab: rounded rectangle, disc or ellipse."""
    c = (0.0, top.h - top.t / 2, 0.0)
    if top.shape == "rect":
        r = rng.choice([0.0, rng.uniform(0.01, 0.2)])
        b.add(rounded_box((top.d, top.t, top.length), r, c, axis=1), top.mat)
    else:
        ring = ellipse_ring(top.length / 2, top.d / 2, 24)
        b.add(extrude(ring, top.t, c, axis=1), top.mat)


def _legs(b: ShapeBuilder, rng: np.random.Generator, top: Top) -> None:
    """Four legs (square/round, straight/splayed/tapered), aprons, stretchers, lower shelf."""
    th = rng.uniform(0.025, 0.09)
    inset = rng.uniform(0.02, 0.12) + (0.15 * min(top.d, top.length) if top.shape != "rect" else 0)
    hx, hz = top.d / 2 - inset - th / 2, top.length / 2 - inset - th / 2
    splay = rng.choice([0.0, 0.0, rng.uniform(0.02, 0.12)])
    yt = top.h - top.t
    four_legs(b, top.frame, hx, hz, yt, th, rng.random() < 0.6, splay, rng.uniform(0.5, 1.0))
    if rng.random() < 0.5:
        ah = rng.uniform(0.04, 0.15)
        stretchers(b, top.frame, hx, hz, yt - ah / 2, ah, False)
    extra = rng.choice(["none", "rails", "shelf"], p=[0.5, 0.2, 0.3])
    y = rng.uniform(0.08, 0.4) * top.h
    if extra == "rails":
        stretchers(b, top.frame, hx, hz, y, th * 0.6, rng.random() < 0.5)
    elif extra == "shelf":
        b.add(box((2 * hx, 0.025, 2 * hz), (0.0, y, 0.0)), top.mat)


def _pedestal(b: ShapeBuilder, rng: np.random.Generator, top: Top) -> None:
    """One or two central columns on discs or cross feet (café / tulip tables)."""
    n = 2 if top.length > 1.3 * top.d and top.length > 1.0 else 1
    r = rng.uniform(0.03, 0.12)
    yt = top.h - top.t
    for k in range(n):
        z = 0.0 if n == 1 else (k - 0.5) * top.length * 0.55
        rb = min(top.d, top.length / n) * rng.uniform(0.25, 0.45)
        if rng.random() < 0.5:
            b.add(lathe([rb, rb, r * 1.4, r, r * 1.3], [0, 0.03, 0.12, yt - 0.05, yt],
                        (0, 0, z), m=20), top.frame)
        else:
            b.add(cylinder((0, 0.0, z), (0, yt, z), r, m=12), top.frame)
            for a in (np.pi / 4, 3 * np.pi / 4) if rng.random() < 0.5 else (0.0, np.pi / 2):
                b.add(box((2 * rb, 0.05, 0.06), (0, 0.025, z), rot_y(a)), top.frame)


def _trestle(b: ShapeBuilder, rng: np.random.Generator, top: Top) -> None:
    """Two end supports (posts on feet, or solid/X panels) joined by a stretcher."""
    kind = rng.choice(["post", "panel", "x", "frame"])
    zs = top.length / 2 - rng.uniform(0.05, 0.2) * top.length
    yt = top.h - top.t
    th = rng.uniform(0.03, 0.1)
    fd = top.d * rng.uniform(0.6, 0.95)
    for sz in (-1, 1):
        z = sz * zs
        if kind == "panel":
            b.add(box((fd, yt, th), (0, yt / 2, z)), top.frame)
        elif kind == "x":
            for s in (-1, 1):
                b.add(rod((s * fd / 2, 0, z), (-s * fd / 2, yt, z), th, True), top.frame)
        elif kind == "frame":
            path = np.array([[fd / 2, 0.0, z], [-fd / 2, 0.0, z], [-fd / 2, yt, z],
                             [fd / 2, yt, z]])
            sec = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * th / 2
            b.add(tube(path, 1.0, ref=(0, 0, 1), section=sec, closed=True), top.frame)
        else:
            b.add(box((fd, 0.06, th * 1.5), (0, 0.03, z)), top.frame)
            b.add(box((th, yt, th), (0, yt / 2, z)), top.frame)
    if kind != "panel" or rng.random() < 0.5:
        y = rng.uniform(0.15, 0.8) * yt
        b.add(box((th * 0.7, th * 0.7, 2 * zs), (0, y, 0)), top.frame)


def _desk(b: ShapeBuilder, rng: np.random.Generator, top: Top) -> None:
    """Desk: a drawer pedestal box at one or both ends, legs or a panel elsewhere."""
    yt = top.h - top.t
    pw = rng.uniform(0.3, 0.5) * top.length
    both = rng.random() < 0.4
    ends = (-1, 1) if both else (int(rng.choice([-1, 1])),)
    for sz in ends:
        zc = sz * (top.length / 2 - pw / 2)
        b.add(box((top.d * 0.95, yt, pw), (0, yt / 2, zc)), top.frame)
        n = int(rng.integers(1, 5))
        for k in range(n):
            y = yt * (k + 0.5) / n
            b.add(box((0.02, yt / n * 0.85, pw * 0.9), (top.d * 0.475 + 0.01, y, zc)), top.mat)
    if not both:
        z = -ends[0] * (top.length / 2 - 0.03)
        b.add(box((top.d * 0.95, yt, 0.04), (0, yt / 2, z)), top.frame)
    if rng.random() < 0.6:
        b.add(box((0.02, yt * 0.5, top.length * 0.9), (-top.d * 0.45, yt * 0.7, 0)), top.frame)


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A table with varied top and support structure."""
    b = ShapeBuilder()
    top = _top(rng)
    kinds = ["legs", "pedestal", "trestle", "desk"]
    p = [0.45, 0.2, 0.2, 0.15] if top.shape == "rect" else [0.45, 0.45, 0.1, 0.0]
    kind = rng.choice(kinds, p=p)
    if kind == "desk" and top.length < 0.9:
        kind = "legs"
    b.kind = f"{kind}/{top.shape}"
    {"legs": _legs, "pedestal": _pedestal, "trestle": _trestle, "desk": _desk}[str(kind)](
        b, rng, top)
    _add_top(b, rng, top)
    return b
