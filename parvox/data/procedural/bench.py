"""Benches: backless or with a back, slatted or solid seats, legs / panels / cast frames.

Frame: long axis along Z (as in the ShapeNetVox32 bench sample), front toward +X, back at -X.
"""

from __future__ import annotations

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import rot_z
from .palette import Material
from .parts import four_legs, rod, slats
from .primitives import box, rounded_box, tube


def _seat(b: ShapeBuilder, rng: np.random.Generator, d: float, length: float, h: float,
          t: float, mat: Material) -> None:
    """Solid plank, padded top or slats running along the length."""
    kind = rng.choice(["plank", "pad", "slats"], p=[0.35, 0.2, 0.45])
    if kind == "slats":
        n = int(rng.integers(2, 7))
        b.add_all(slats((-d / 2, h - t, -length / 2), (d / 2, h, length / 2), n, 0,
                        rng.uniform(0.6, 0.9)), mat)
    elif kind == "pad":
        b.add(rounded_box((d, t, length), t * 0.5, (0, h - t / 2, 0), axis=2), mat)
    else:
        b.add(box((d, t, length), (0, h - t / 2, 0)), mat)


def _supports(b: ShapeBuilder, rng: np.random.Generator, d: float, length: float, h: float,
              mat: Material, n_sup: int) -> None:
    """Leg pairs, slab panels or bent-tube frames at ``n_sup`` positions along Z."""
    kind = rng.choice(["legs", "panel", "frame", "ends"])
    th = rng.uniform(0.03, 0.08)
    zs = np.linspace(-1, 1, n_sup) * (length / 2 - rng.uniform(0.03, 0.25) * length / 2)
    if kind == "legs":
        four_legs(b, mat, d / 2 - th, length / 2 - th - 0.05, h, th, rng.random() < 0.6,
                  rng.choice([0.0, 0.05]))
        return
    for z in zs:
        if kind == "panel":
            b.add(box((d * rng.uniform(0.7, 1.0), h, th), (0, h / 2, z)), mat)
        elif kind == "ends":
            b.add(box((d, 0.05, th * 2), (0, 0.025, z)), mat)
            b.add(box((th, h, th), (0, h / 2, z)), mat)
        else:
            path = np.array([[d / 2, 0, z], [-d / 2, 0, z], [-d / 2 + 0.03, h, z],
                             [d / 2 - 0.03, h, z]])
            b.add(tube(path, th / 2, 6, ref=(0, 0, 1), closed=True), mat)


def _back(b: ShapeBuilder, rng: np.random.Generator, d: float, length: float, h: float,
          mat: Material, frame: Material) -> None:
    """Backrest: slats or a solid board on posts, tilted backward."""
    hb = rng.uniform(0.25, 0.6)
    gap = rng.uniform(0.0, 0.12)
    tilt = rng.uniform(0.0, 0.3)
    pivot = np.array([-d / 2, h, 0.0])
    rot = rot_z(tilt)
    x = -d / 2 + 0.02
    if rng.random() < 0.5:
        n = int(rng.integers(2, 5))
        boards = slats((x - 0.015, h + gap, -length / 2), (x + 0.015, h + hb, length / 2), n, 1,
                       0.6)
    else:
        boards = [rounded_box((0.03, hb - gap, length), 0.02, (x, h + (gap + hb) / 2, 0), axis=0)]
    b.add_all([p.rotated(rot, pivot) for p in boards], mat)
    for z in (-length / 2 + 0.04, length / 2 - 0.04):
        b.add(rod((x, h, z), (x - np.sin(tilt) * hb, h + np.cos(tilt) * hb, z), 0.04, True),
              frame)


def _arms(b: ShapeBuilder, rng: np.random.Generator, d: float, length: float, h: float,
          mat: Material) -> None:
    """Armrests at both ends of the seat."""
    ah = rng.uniform(0.15, 0.3)
    for sz in (-1, 1):
        z = sz * (length / 2 - 0.03)
        b.add(box((d, 0.04, 0.06), (0, h + ah, z)), mat)
        b.add(rod((d / 2 - 0.04, h, z), (d / 2 - 0.04, h + ah, z), 0.04, True), mat)


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A bench: park, garden, gym, piano or dining bench."""
    b = ShapeBuilder()
    length = rng.uniform(0.8, 2.4)
    d = min(rng.uniform(0.25, 0.7), 0.6 * length)
    h = rng.uniform(0.35, 0.55)
    t = rng.choice([rng.uniform(0.02, 0.05), rng.uniform(0.05, 0.15)])
    seat = pal.any_of(rng, pal.wood, pal.wood, pal.painted, pal.metal, pal.leather)
    frame = pal.any_of(rng, pal.metal, pal.wood, pal.painted)
    n_sup = 2 if length < 1.6 else int(rng.choice([2, 3]))
    _supports(b, rng, d, length, h - t, frame, n_sup)
    _seat(b, rng, d, length, h, t, seat)
    b.kind = "backless"
    if rng.random() < 0.5:
        b.kind = "backed"
        _back(b, rng, d, length, h, seat, frame)
        if rng.random() < 0.5:
            _arms(b, rng, d, length, h, frame)
    elif rng.random() < 0.2:
        b.add(box((d * 0.9, 0.02, length * 0.9), (0, h * 0.3, 0)), seat)
    return b
