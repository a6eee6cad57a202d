"""Reusable compound parts shared by several classes (legs, posts, star bases, slats, wheels)."""

from __future__ import annotations

import numpy as np

from .builder import ShapeBuilder
from .geometry import Part
from .palette import Material
from .primitives import Vec3, box, cylinder, disc, sphere, torus


def rod(p0: Vec3, p1: Vec3, thick: float, square: bool, taper: float = 1.0) -> Part:
    """A leg or rail from ``p0`` to ``p1``: round (``square=False``) or square section.

    ``thick`` is the diameter/side at ``p0``; ``taper`` scales it at ``p1``.
    """
    if square:
        return cylinder(p0, p1, thick * 0.7071, thick * 0.7071 * taper, m=4, up=(0, 1, 0.3))
    return cylinder(p0, p1, thick / 2, thick / 2 * taper, m=10)


def four_legs(b: ShapeBuilder, mat: Material, half_x: float, half_z: float, top: float,
              thick: float, square: bool, splay: float = 0.0, taper: float = 1.0) -> None:
    """Four legs under a rectangle of half sizes ``half_x`` x ``half_z``, from ``top`` to the
    floor, the feet pushed outward by ``splay`` metres."""
    for sx in (-1, 1):
        for sz in (-1, 1):
            p0 = (sx * half_x, top, sz * half_z)
            p1 = (sx * (half_x + splay), 0.0, sz * (half_z + splay))
            b.add(rod(p1, p0, thick * taper, square, 1.0 / taper), mat)


def stretchers(b: ShapeBuilder, mat: Material, half_x: float, half_z: float, y: float,
               thick: float, sides_only: bool) -> None:
    """Rails joining four legs at height ``y`` (all four sides, or only the left/right sides)."""
    for sz in (-1, 1):
        b.add(box((2 * half_x, thick, thick), (0.0, y, sz * half_z)), mat)
    if not sides_only:
        for sx in (-1, 1):
            b.add(box((thick, thick, 2 * half_z), (sx * half_x, y, 0.0)), mat)


def star_base(b: ShapeBuilder, mat: Material, wheel: Material, radius: float, n_arms: int,
              height: float, casters: bool) -> None:
    """Office-chair base: ``n_arms`` spokes from a hub, optionally with caster balls."""
    y = height
    ball = 0.025 if casters else 0.0
    for k in range(n_arms):
        a = 2 * np.pi * k / n_arms + 0.3
        tip = np.array([radius * np.cos(a), y + ball * 2, radius * np.sin(a)])
        b.add(cylinder((0.0, y + 2 * ball + 0.02, 0.0), tip, 0.025, 0.015, m=6), mat)
        if casters:
            b.add(sphere(tip - [0.0, ball, 0.0], ball, m=8, n=4), wheel)
    b.add(disc((0.0, y + 2 * ball + 0.03, 0.0), 0.05, 0.06, m=12), mat)


def slats(lo: Vec3, hi: Vec3, n: int, axis: int, fill: float) -> list[Part]:
    """``n`` parallel boards filling the box ``lo``..``hi`` along ``axis`` (``fill`` = covered
    fraction of the span)."""
    lo_a, hi_a = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    pitch = (hi_a[axis] - lo_a[axis]) / n
    size = hi_a - lo_a
    size[axis] = pitch * fill
    out = []
    for k in range(n):
        c = 0.5 * (lo_a + hi_a)
        c[axis] = lo_a[axis] + pitch * (k + 0.5)
        out.append(box(size, c))
    return out


def wheel(b: ShapeBuilder, tyre: Material, rim: Material, center: Vec3, radius: float,
          width: float, spokes: bool = False) -> None:
    """A wheel on an axle along Z: tyre (cylinder or torus) and a hub."""
    c = np.asarray(center, dtype=np.float64)
    if spokes:
        b.add(torus(c, radius * 0.85, radius * 0.15, axis=2, m=16, n=6), tyre)
        for k in range(3):
            a = np.pi * k / 3
            d = np.array([np.cos(a), np.sin(a), 0.0]) * radius * 0.8
            b.add(cylinder(c - d, c + d, 0.01, m=4), rim)
    else:
        b.add(disc(c, radius, width, axis=2, m=16), tyre)
    b.add(disc(c, radius * 0.55, width * 1.08, axis=2, m=12), rim)
