"""Lamps: floor lamps (straight, arc, torchiere, tripod, multi-arm), table lamps, desk lamps with
bent arms, goosenecks, pendants, chandeliers and wall sconces.

Shades are thin hollow shells of revolution (cone, drum, dome, globe, bowl), so they voxelise
open like real lamp shades.  Frame: +Y up; lamps that reach or face somewhere (arc lamps, desk
lamp heads, sconce arms) reach toward +X.
"""

from __future__ import annotations

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import Part, rot_z
from .palette import Material
from .primitives import (
    arc_path,
    bezier,
    box,
    cylinder,
    disc,
    lathe,
    rounded_box,
    sphere,
    torus,
    tube,
)


def shade(kind: str, r_bot: float, r_top: float, height: float, center_y: float,
          wall: float = 0.006, m: int = 18) -> Part:
    """Hollow lamp shade of ``height`` centred at ``(0, center_y, 0)``.

    ``cone``/``drum``: straight frustum wall; ``dome``: a half ellipsoid open at the bottom;
    ``globe``: a sphere with an opening at the bottom; ``bowl``: a torchiere bowl open at the
    top.
    """
    y0 = center_y - height / 2
    if kind in ("cone", "drum"):
        rt = r_bot if kind == "drum" else r_top
        r = [r_bot, rt, rt - wall, r_bot - wall]
        y = [y0, y0 + height, y0 + height, y0]
        return lathe(r, y, m=m, closed_profile=True)
    t = np.linspace(0.0, np.pi / 2, 7)
    lift = -0.5 * wall
    if kind == "dome":
        outer_r, outer_y = r_bot * np.cos(t), y0 + height * np.sin(t)
    elif kind == "globe":
        t = np.linspace(-np.pi / 2 + 0.5, np.pi / 2, 9)
        outer_r, outer_y = r_bot * np.cos(t), center_y + height / 2 * np.sin(t)
    else:  # bowl, open at the top
        t = t[1:]
        outer_r, outer_y = r_top * np.sin(t), y0 + height * (1.0 - np.cos(t))
        lift = 0.5 * wall
    outer_r = np.maximum(outer_r, 0.004)
    r = np.concatenate([outer_r, np.maximum(outer_r[::-1] - wall, 0.002)])
    y = np.concatenate([outer_y, outer_y[::-1] + lift])
    return lathe(r, y, m=m, closed_profile=True)


def _base(b: ShapeBuilder, rng: np.random.Generator, r: float, mat: Material) -> float:
    """Round, square or weighted-dome base; returns its height."""
    kind = rng.integers(3)
    h = rng.uniform(0.015, 0.05)
    if kind == 0:
        b.add(disc((0, h / 2, 0), r, h, m=20), mat)
    elif kind == 1:
        b.add(rounded_box((2 * r, h, 2 * r), r * 0.15, (0, h / 2, 0), axis=1), mat)
    else:
        h *= 2.0
        b.add(lathe([r, r * 0.9, r * 0.3, 0.02], [0, h * 0.3, h, h * 1.05], m=20), mat)
    return h


def _shade_kind(rng: np.random.Generator) -> str:
    """A random shade style."""
    return str(rng.choice(["cone", "drum", "dome", "globe"], p=[0.4, 0.25, 0.2, 0.15]))


def _add_shade(b: ShapeBuilder, rng: np.random.Generator, center: np.ndarray, size: float,
               mat: Material, kind: str | None = None) -> None:
    """A shade of roughly ``size`` radius at ``center`` plus a bulb inside."""
    kind = kind or _shade_kind(rng)
    h = size * rng.uniform(0.8, 1.6)
    rb = size
    rt = size * rng.uniform(0.4, 0.8)
    b.add(shade(kind, rb, rt, h, 0.0).moved(center), mat)
    b.add(sphere(center + [0, -h * 0.05, 0], size * 0.2, m=8, n=4), pal.light(rng))


def _floor(b: ShapeBuilder, rng: np.random.Generator, metal: Material, sh: Material) -> None:
    """Straight floor lamp, torchiere, tripod or multi-arm floor lamp."""
    style = rng.choice(["straight", "torchiere", "tripod", "multi"], p=[0.45, 0.2, 0.2, 0.15])
    height = rng.uniform(1.2, 1.9)
    if style == "tripod":
        spread = rng.uniform(0.25, 0.45)
        top = np.array([0.0, height * 0.75, 0.0])
        for k in range(3):
            a = 2 * np.pi * k / 3 + 0.5
            b.add(cylinder((spread * np.cos(a), 0, spread * np.sin(a)), top, 0.012, m=6), metal)
        _add_shade(b, rng, top + [0, height * 0.12, 0], rng.uniform(0.15, 0.3), sh)
        return
    y0 = _base(b, rng, rng.uniform(0.12, 0.22), metal)
    b.add(cylinder((0, y0, 0), (0, height, 0), rng.uniform(0.01, 0.02), m=8), metal)
    if style == "torchiere":
        r = rng.uniform(0.15, 0.3)
        b.add(shade("bowl", r, r, r * rng.uniform(0.4, 0.8), height), sh)
    elif style == "multi":
        for k in range(int(rng.integers(2, 4))):
            a = 2 * np.pi * k / 3 + rng.uniform(-0.3, 0.3)
            yk = height * rng.uniform(0.55, 0.95)
            tip = np.array([0.35 * np.cos(a), yk + 0.15, 0.35 * np.sin(a)])
            b.add(cylinder((0, yk, 0), tip, 0.008, m=6), metal)
            _add_shade(b, rng, tip + [0, 0.05, 0], rng.uniform(0.07, 0.14), sh)
    else:
        _add_shade(b, rng, np.array([0.0, height, 0.0]), rng.uniform(0.15, 0.3), sh)


def _arc(b: ShapeBuilder, rng: np.random.Generator, metal: Material, sh: Material) -> None:
    """Arc floor lamp: heavy base, a tall arc reaching +X, a shade hanging at its end."""
    y0 = _base(b, rng, rng.uniform(0.15, 0.25), pal.any_of(rng, pal.metal, pal.painted))
    reach, height = rng.uniform(0.8, 1.8), rng.uniform(1.5, 2.2)
    ctrl = [[0, y0, 0], [0, height * 1.1, 0], [reach * 0.6, height * 1.15, 0],
            [reach, height * 0.85, 0]]
    path = bezier(ctrl, 14)
    b.add(tube(path, 0.015, 8), metal)
    kind = rng.choice(["dome", "cone", "globe"])
    size = rng.uniform(0.15, 0.3)
    _add_shade(b, rng, path[-1] - [0, size * 0.6, 0], size, sh, kind)


def _table(b: ShapeBuilder, rng: np.random.Generator, metal: Material, sh: Material) -> None:
    """Table lamp: vase/column/ball/box body, short stem, big shade."""
    body = pal.any_of(rng, pal.painted, pal.metal, pal.wood, pal.plastic)
    h = rng.uniform(0.2, 0.45)
    r = rng.uniform(0.05, 0.14)
    style = rng.integers(4)
    if style == 0:
        prof = r * np.array([0.7, 1.0, rng.uniform(0.6, 1.3), rng.uniform(0.3, 0.8), 0.3, 0.25])
        b.add(lathe(prof, h * np.array([0, 0.05, 0.4, 0.75, 0.95, 1.0]), m=16), body)
    elif style == 1:
        b.add(cylinder((0, 0, 0), (0, h, 0), r, r * rng.uniform(0.5, 1.0), m=16), body)
    elif style == 2:
        b.add(sphere((0, r, 0), r), body)
        b.add(cylinder((0, 2 * r * 0.9, 0), (0, h, 0), 0.012, m=6), metal)
    else:
        b.add(box((2 * r, h, 2 * r), (0, h / 2, 0)), body)
    size = rng.uniform(0.12, 0.25)
    _add_shade(b, rng, np.array([0.0, h + size * 0.4, 0.0]), size, sh,
               str(rng.choice(["cone", "drum", "cone", "dome"])))


def _desk(b: ShapeBuilder, rng: np.random.Generator, metal: Material, sh: Material) -> None:
    """Desk lamp: base, a two-segment bent arm (or gooseneck) and a head aimed down/forward."""
    y0 = _base(b, rng, rng.uniform(0.07, 0.13), metal)
    l1, l2 = rng.uniform(0.2, 0.45), rng.uniform(0.2, 0.45)
    a1 = rng.uniform(np.radians(50), np.radians(95))
    elbow = np.array([l1 * np.cos(a1), y0 + l1 * np.sin(a1), 0.0])
    a2 = rng.uniform(np.radians(-40), np.radians(30))
    tip = elbow + [l2 * np.cos(a2), l2 * np.sin(a2), 0.0]
    if rng.random() < 0.3:
        path = bezier([[0, y0, 0], [0, y0 + l1, 0], [l2 * 0.5, y0 + l1 * 1.2, 0],
                       list(tip)], 12)
        b.add(tube(path, 0.008, 6), metal)
    else:
        for p0, p1 in (((0.0, y0, 0.0), elbow), (elbow, tip)):
            for dz in (-0.012, 0.012):
                b.add(cylinder(np.add(p0, (0, 0, dz)), np.add(p1, (0, 0, dz)), 0.006, m=5),
                      metal)
        b.add(sphere(elbow, 0.018, m=8, n=4), metal)
    size = rng.uniform(0.06, 0.12)
    head = shade(str(rng.choice(["cone", "dome", "drum"])), size, size * 0.35, size * 1.3, 0.0)
    tilt = rng.uniform(0.0, 1.2)
    b.add(head.rotated(rot_z(tilt)).moved(tip + [0.0, -size * 0.4, 0.0]), sh)


def _pendant(b: ShapeBuilder, rng: np.random.Generator, metal: Material, sh: Material) -> None:
    """Pendant or chandelier hanging from a ceiling canopy (the top of the object)."""
    drop = rng.uniform(0.3, 1.5)
    top = drop + 0.4
    b.add(disc((0, top, 0), rng.uniform(0.05, 0.1), 0.03, m=16), metal)
    if rng.random() < 0.35:
        r = rng.uniform(0.25, 0.5)
        y = top - drop
        b.add(cylinder((0, top, 0), (0, y, 0), 0.01, m=6), metal)
        b.add(torus((0, y, 0), r, 0.015, m=20, n=5), metal)
        n = int(rng.integers(4, 9))
        for k in range(n):
            a = 2 * np.pi * k / n
            p = np.array([r * np.cos(a), y, r * np.sin(a)])
            b.add(cylinder(p, p + [0, 0.08, 0], 0.015, m=6), pal.light(rng))
            if rng.random() < 0.6:
                _add_shade(b, rng, p + [0, 0.14, 0], 0.05, sh, "drum")
        return
    n = 1 if rng.random() < 0.7 else int(rng.integers(3, 6))
    spread = 0.0 if n == 1 else rng.uniform(0.2, 0.4)
    for k in range(n):
        a = 2 * np.pi * k / n
        x, z = spread * np.cos(a), spread * np.sin(a)
        y = top - drop * rng.uniform(0.6, 1.0)
        b.add(cylinder((x, top, z), (x, y, z), 0.004, m=4), metal)
        size = rng.uniform(0.08, 0.3) / (1 + 0.4 * (n > 1))
        _add_shade(b, rng, np.array([x, y - size * 0.5, z]), size, sh)


def _sconce(b: ShapeBuilder, rng: np.random.Generator, metal: Material, sh: Material) -> None:
    """Wall sconce: back plate (at -X), an arm reaching +X, an upright or hanging shade."""
    plate_h = rng.uniform(0.1, 0.25)
    b.add(rounded_box((0.02, plate_h, rng.uniform(0.06, 0.15)), 0.01, (0, plate_h / 2, 0),
                      axis=0), metal)
    reach = rng.uniform(0.1, 0.35)
    path = arc_path((0, plate_h / 2 + reach * 0.5, 0), reach * 0.5, -np.pi / 2, 0.0, 6)
    b.add(tube(path, 0.008, 6), metal)
    _add_shade(b, rng, path[-1] + [0, 0.06, 0], rng.uniform(0.06, 0.14), sh)


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A lamp of a random kind."""
    b = ShapeBuilder()
    metal = pal.any_of(rng, pal.metal, pal.metal, pal.painted, pal.wood)
    sh = pal.light(rng)
    kind = rng.choice(["floor", "arc", "table", "desk", "pendant", "sconce"],
                      p=[0.22, 0.1, 0.25, 0.2, 0.16, 0.07])
    b.kind = str(kind)
    {"floor": _floor, "arc": _arc, "table": _table, "desk": _desk, "pendant": _pendant,
     "sconce": _sconce}[str(kind)](b, rng, metal, sh)
    return b
