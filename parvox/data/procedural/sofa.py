"""Sofas: armchairs to four-seaters, chaise/L sectionals, curved sofas, daybeds.

Frame: width along Z, seat front toward +X, backrest at -X.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import rot_z
from .palette import Material
from .parts import rod
from .primitives import arc_path, bezier, box, capsule, rounded_box, superellipsoid, tube


@dataclass
class Sofa:
    """Sofa proportions (metres) and materials."""

    n: int  # seats
    sw: float  # width of one seat
    d: float  # depth along X
    legs: float  # leg height (0: plinth to the floor)
    hs: float  # seat top height
    ct: float  # seat cushion thickness
    hb: float  # back height above the seat
    bt: float  # back thickness
    aw: float  # arm width (0: no arms)
    ah: float  # arm height above the seat
    cover: Material
    leg_mat: Material

    @property
    def inner(self) -> float:
        """Width of the seating area between the arms."""
        return self.n * self.sw


def _sofa(rng: np.random.Generator) -> Sofa:
    """Sample sofa proportions (from a lounge armchair to a long low four-seater)."""
    n = int(rng.choice([1, 2, 3, 4, 5], p=[0.25, 0.25, 0.3, 0.12, 0.08]))
    arms = rng.choice(["none", "thin", "thick"], p=[0.15, 0.45, 0.4])
    aw = {"none": 0.0, "thin": rng.uniform(0.04, 0.12), "thick": rng.uniform(0.15, 0.32)}[
        str(arms)]
    legs = rng.choice([0.0, rng.uniform(0.05, 0.12), rng.uniform(0.12, 0.4)], p=[0.3, 0.3, 0.4])
    hb = rng.choice([rng.uniform(0.1, 0.3), rng.uniform(0.3, 0.55), rng.uniform(0.55, 0.9)])
    return Sofa(n, rng.uniform(0.5, 0.8), rng.uniform(0.6, 1.25), legs, rng.uniform(0.36, 0.5),
                rng.uniform(0.08, 0.2), hb, rng.uniform(0.1, 0.3), aw,
                rng.uniform(0.05, 0.35), pal.any_of(rng, pal.fabric, pal.fabric, pal.leather),
                pal.any_of(rng, pal.wood, pal.metal))


def _base_and_seats(b: ShapeBuilder, rng: np.random.Generator, s: Sofa, x0: float,
                    x1: float, z0: float, z1: float, n: int) -> None:
    """Base block over ``x0..x1`` x ``z0..z1`` with ``n`` seat cushions on top."""
    yb = s.hs - s.ct
    b.add(box((x1 - x0, yb - s.legs, z1 - z0), ((x0 + x1) / 2, (yb + s.legs) / 2,
                                                (z0 + z1) / 2)), s.cover)
    e = rng.uniform(0.15, 0.5)
    cw = (z1 - z0) / n
    for k in range(n):
        zc = z0 + cw * (k + 0.5)
        size = (x1 - x0, s.ct * 1.1, cw * 0.98)
        b.add(superellipsoid(size, ((x0 + x1) / 2, yb + s.ct / 2, zc), e, m=12, n=5),
              shade_of(s.cover, rng))


def shade_of(mat: Material, rng: np.random.Generator) -> Material:
    """Cushions are sometimes a slightly different tone of the cover."""
    return pal.shade(mat, rng.uniform(0.85, 1.15)) if rng.random() < 0.5 else mat


def _back(b: ShapeBuilder, rng: np.random.Generator, s: Sofa, z0: float, z1: float) -> None:
    """Back block (slightly tilted) with optional loose back cushions."""
    tilt = rng.uniform(0.0, 0.25)
    x = -s.d / 2 + s.bt / 2
    top = s.hs + s.hb
    block = rounded_box((s.bt, top - s.legs, z1 - z0), rng.uniform(0.0, 0.5) * s.bt,
                        (x, (top + s.legs) / 2, (z0 + z1) / 2), axis=2)
    b.add(block.rotated(rot_z(tilt * 0.3), (x, s.legs, 0)), s.cover)
    if s.hb > 0.25 and rng.random() < 0.6:
        n = s.n if rng.random() < 0.7 else 1
        cw = (z1 - z0) / n
        for k in range(n):
            c = (x + s.bt / 2 + 0.08, s.hs + s.hb * 0.45, z0 + cw * (k + 0.5))
            cush = superellipsoid((0.16, s.hb * 0.85, cw * 0.97), c, 0.35, m=12, n=5)
            b.add(cush.rotated(rot_z(tilt), (c[0], s.hs, 0)), shade_of(s.cover, rng))


def _arms(b: ShapeBuilder, rng: np.random.Generator, s: Sofa, sides: tuple[int, ...],
          depth: float) -> None:
    """Block arms, optionally rolled (a capsule on top) or sloped, on the given sides."""
    z_in = s.inner / 2
    top = s.hs + s.ah
    rolled = rng.random() < 0.3
    x0, x1 = -s.d / 2, -s.d / 2 + depth
    for sz in sides:
        zc = sz * (z_in + s.aw / 2)
        arm = rounded_box((x1 - x0, top - s.legs, s.aw), rng.uniform(0, 0.4) * s.aw,
                          ((x0 + x1) / 2, (top + s.legs) / 2, zc), axis=0)
        b.add(arm, s.cover)
        if rolled:
            r = s.aw * 0.6
            b.add(capsule((x0 + r, top, zc), (x1 - r, top, zc), r, m=10), s.cover)


def _legs(b: ShapeBuilder, rng: np.random.Generator, s: Sofa, x0: float, x1: float,
          z0: float, z1: float) -> None:
    """Short legs at the corners of the footprint (and the middle of long sofas)."""
    th = rng.uniform(0.03, 0.07)
    zs = [z0 + th, z1 - th] + ([(z0 + z1) / 2] if z1 - z0 > 1.8 else [])
    splay = rng.uniform(0.0, 0.04)
    for x in (x0 + th, x1 - th):
        for z in zs:
            foot = (x + np.sign(x) * splay, 0.0, z + np.sign(z) * splay)
            b.add(rod(foot, (x, s.legs + 0.01, z), th, rng.random() < 0.5, 1.3), s.leg_mat)


def _straight(b: ShapeBuilder, rng: np.random.Generator, s: Sofa) -> None:
    """Straight sofa, optionally with a chaise (L sectional) at one or both ends."""
    zi = s.inner / 2
    _base_and_seats(b, rng, s, -s.d / 2 + s.bt * 0.8, s.d / 2, -zi, zi, s.n)
    _back(b, rng, s, -zi - s.aw, zi + s.aw)
    chaise = rng.choice([0, 1, 2], p=[0.65, 0.3, 0.05]) if s.n >= 2 else 0
    ext = rng.uniform(0.5, 0.9)
    sides = (-1, 1)
    feet = [(-s.d / 2, s.d / 2, -zi - s.aw, zi + s.aw)]
    if chaise:
        ends = (int(rng.choice([-1, 1])),) if chaise == 1 else (-1, 1)
        for e in ends:
            z0, z1 = sorted((e * zi, e * (zi - s.sw)))
            _base_and_seats(b, rng, s, s.d / 2, s.d / 2 + ext, z0, z1, 1)
            feet.append((s.d / 2, s.d / 2 + ext, z0, z1))
        sides = tuple(sd for sd in sides if sd not in ends)
    if s.aw > 0:
        _arms(b, rng, s, sides, s.d)
    if s.legs > 0:
        for x0, x1, z0, z1 in feet:
            _legs(b, rng, s, x0, x1, z0, z1)


def _rect(a0: float, a1: float, b0: float, b1: float) -> np.ndarray:
    """Rectangular tube section (first coordinate along the path normal, second upward)."""
    return np.array([[a0, b0], [a1, b0], [a1, b1], [a0, b1]])


def _curved(b: ShapeBuilder, rng: np.random.Generator, s: Sofa) -> None:
    """Curved (crescent) sofa: base, back and cushion swept along an arc opening toward +X.

    Along the arc the path normal points away from the arc centre (backward), so the seat
    spans normal offsets ``-d..0`` from the back line.
    """
    r = s.inner * rng.uniform(0.6, 2.0)
    half = min(np.pi * 0.45, s.inner / 2 / r)
    path = arc_path((-s.d / 2 + r, 0, 0), r, np.pi - half, np.pi + half, 14, plane=(0, 2))
    yb = s.hs - s.ct
    for sec, mat in ((_rect(-s.d, 0.0, 0.0, yb), s.cover),
                     (_rect(-s.bt, 0.0, 0.0, s.hs + s.hb), s.cover),
                     (_rect(-s.d, -s.bt, yb, s.hs), shade_of(s.cover, rng))):
        b.add(tube(path, 1.0, ref=(0, 1, 0), section=sec), mat)


def _corner(b: ShapeBuilder, rng: np.random.Generator, s: Sofa) -> None:
    """Corner (L) or U sectional: a straight run plus wings along +X with backs on the sides."""
    ends = (int(rng.choice([-1, 1])),) if rng.random() < 0.75 else (-1, 1)
    zi = s.inner / 2
    wing = rng.uniform(1.0, 2.6)
    _base_and_seats(b, rng, s, -s.d / 2 + s.bt * 0.8, s.d / 2, -zi, zi, s.n)
    z_lo = -zi - (s.d if -1 in ends else s.aw)
    z_hi = zi + (s.d if 1 in ends else s.aw)
    _back(b, rng, s, z_lo, z_hi)
    for e in ends:
        z_out = e * (zi + s.d)
        z0, z1 = sorted((e * zi, z_out - e * s.bt * 0.8))
        _base_and_seats(b, rng, s, -s.d / 2, -s.d / 2 + wing, z0, z1, 2)
        block = rounded_box((wing, s.hs + s.hb - s.legs, s.bt), 0.3 * s.bt,
                            (-s.d / 2 + wing / 2, (s.hs + s.hb + s.legs) / 2,
                             z_out - e * s.bt / 2), axis=0)
        b.add(block, s.cover)
        if s.legs > 0:
            _legs(b, rng, s, s.d / 2, -s.d / 2 + wing, *sorted((e * zi, z_out)))
    if s.aw > 0 and len(ends) == 1:
        _arms(b, rng, s, (-ends[0],), s.d)
    if s.legs > 0:
        _legs(b, rng, s, -s.d / 2, s.d / 2, z_lo, z_hi)


def _island(b: ShapeBuilder, rng: np.random.Generator, s: Sofa) -> None:
    """Backless lobby sofa / ottoman bench: a long padded block, sometimes with a low spine."""
    zi = s.inner / 2
    _base_and_seats(b, rng, s, -s.d / 2, s.d / 2, -zi, zi, s.n)
    if rng.random() < 0.4:
        b.add(rounded_box((0.15, s.hb, 2 * zi), 0.05, (0, s.hs + s.hb / 2, 0)), s.cover)
    if s.legs > 0:
        _legs(b, rng, s, -s.d / 2, s.d / 2, -zi, zi)


def _frame(b: ShapeBuilder, rng: np.random.Generator, s: Sofa) -> None:
    """Open wooden/metal frame (futon, mid-century) with thin seat and back cushions."""
    zi = s.inner / 2
    th = rng.uniform(0.03, 0.06)
    yb = s.hs - s.ct
    top = yb + s.ah + s.ct
    for sz in (-1, 1):
        z = sz * (zi + th / 2)
        path = np.array([[s.d / 2, 0.0, z], [-s.d / 2, 0.0, z], [-s.d / 2, top, z],
                         [s.d / 2, top, z]])
        sec = _rect(-th / 2, th / 2, -th / 2, th / 2)
        b.add(tube(path, 1.0, ref=(0, 0, 1), section=sec, closed=True), s.leg_mat)
    for x in (-s.d / 2 + th, s.d / 2 - th):
        b.add(box((th, th * 1.5, 2 * zi), (x, yb - th, 0)), s.leg_mat)
    b.add(rounded_box((s.d, s.ct, 2 * zi), 0.4 * s.ct, (0, yb + s.ct / 2, 0)), s.cover)
    tilt = rng.uniform(0.1, 0.4)
    back = rounded_box((s.ct, s.hb + 0.1, 2 * zi), 0.4 * s.ct,
                       (-s.d / 2 + s.ct, s.hs + s.hb / 2, 0))
    b.add(back.rotated(rot_z(tilt), (-s.d / 2, s.hs, 0)), shade_of(s.cover, rng))


def _chaise(b: ShapeBuilder, rng: np.random.Generator, s: Sofa) -> None:
    """Chaise longue: a long cushion swept along a lounging profile (flat seat, raised back
    at one end, optionally a knee bump) on legs or a sled frame."""
    length = rng.uniform(1.4, 2.0)
    e = int(rng.choice([-1, 1]))
    y = s.legs + rng.uniform(0.15, 0.3)
    rise, back = rng.uniform(0.35, 0.8), rng.uniform(0.35, 0.6)
    z0, z1 = -e * length / 2, e * length / 2
    pts = [[0, y, z0], [0, y + rng.uniform(0.0, 0.12), z0 * 0.5], [0, y, e * 0.1 * length],
           [0, y + 0.05, z1 - e * back], [0, y + rise, z1]]
    path = bezier(pts, 14) if rng.random() < 0.5 else np.array(pts, dtype=float)
    th = rng.uniform(0.08, 0.2)
    sec = _rect(-th / 2, th / 2, -s.d / 2, s.d / 2)
    b.add(tube(path, 1.0, ref=(1, 0, 0), section=sec), s.cover)
    frame = rng.random() < 0.5
    for zf in (z0 * 0.8, e * 0.1 * length):
        if frame:
            b.add(box((s.d * 0.9, 0.04, 0.04), (0, 0.02, zf)), s.leg_mat)
        b.add(rod((0, 0, zf), (0, y - th * 0.4, zf), 0.04, True), s.leg_mat)
    if s.aw > 0 and rng.random() < 0.5:
        b.add(box((s.d * 0.9, 0.05, 0.06), (0, y + 0.25, z1 - e * back * 0.6)), s.leg_mat)


def _ottoman(b: ShapeBuilder, rng: np.random.Generator, s: Sofa, front: float) -> None:
    """A matching footstool standing in front (+X) of the sofa."""
    d, w = rng.uniform(0.4, 0.8), rng.uniform(0.4, 1.0)
    h = s.hs * rng.uniform(0.8, 1.0)
    gap = rng.uniform(0.1, 0.5)
    x = front + gap + d / 2
    z = rng.uniform(-0.3, 0.3) * s.inner
    b.add(superellipsoid((d, h * 0.3, w), (x, h * 0.85, z), 0.3, m=12, n=5), s.cover)
    b.add(box((d * 0.95, h * 0.75 - s.legs, w * 0.95), (x, (h * 0.75 + s.legs) / 2, z)), s.cover)
    if s.legs > 0:
        _legs(b, rng, s, x - d / 2, x + d / 2, z - w / 2, z + w / 2)


STYLES = {"straight": 0.37, "low": 0.07, "corner": 0.17, "curved": 0.09, "frame": 0.12,
          "island": 0.08, "chaise": 0.1}


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A sofa with varied seats, arms, back, legs and sectional layout."""
    b = ShapeBuilder()
    s = _sofa(rng)
    style = str(rng.choice(list(STYLES), p=list(STYLES.values())))
    b.kind = style
    if style == "low":
        s.legs, s.hs, s.hb = 0.0, rng.uniform(0.22, 0.34), rng.uniform(0.08, 0.3)
        s.d *= rng.uniform(1.0, 1.3)
    if style in ("corner", "curved"):
        s.n = max(s.n, 2)
        s.legs = 0.0 if style == "curved" else s.legs
    if style == "frame":
        s.legs, s.ct = 0.0, rng.uniform(0.06, 0.14)
    {"straight": _straight, "low": _straight, "corner": _corner, "curved": _curved,
     "frame": _frame, "island": _island, "chaise": _chaise}[style](b, rng, s)
    if style in ("straight", "low") and rng.random() < 0.2:
        _ottoman(b, rng, s, s.d / 2)
    return b
