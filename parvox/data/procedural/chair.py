"""Chairs and stools: seat shapes x bases x backs x arms.

Frame: seat centred over the origin, front edge toward +X, backrest at -X, width along Z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import Part, rot_z
from .palette import Material
from .parts import four_legs, rod, star_base, stretchers
from .primitives import (
    arc_path,
    box,
    cylinder,
    ellipsoid,
    lathe,
    rounded_box,
    superellipsoid,
    torus,
    tube,
)


@dataclass
class Seat:
    """Seat dimensions (metres) and the chair's materials."""

    w: float  # width along Z
    d: float  # depth along X
    h: float  # height of the seat top
    t: float  # seat thickness
    round: bool
    frame: Material
    cover: Material
    square_legs: bool
    leg: float  # leg thickness


def _seat(rng: np.random.Generator) -> Seat:
    """Sample seat proportions: lounge, dining or bar height, thin board or thick cushion."""
    kind = rng.choice(3, p=[0.2, 0.6, 0.2])
    h = [rng.uniform(0.25, 0.4), rng.uniform(0.4, 0.52), rng.uniform(0.6, 0.85)][kind]
    w = rng.uniform(0.38, 0.65) * (1.25 if kind == 0 else 1.0)
    d = w * rng.uniform(0.75, 1.15)
    t = rng.choice([rng.uniform(0.02, 0.05), rng.uniform(0.06, 0.16)])
    frame = pal.any_of(rng, pal.wood, pal.metal, pal.plastic)
    cover = pal.any_of(rng, pal.fabric, pal.leather, pal.wood, pal.plastic)
    return Seat(w, d, h, t, bool(rng.random() < 0.25), frame, cover, bool(rng.random() < 0.5),
                rng.uniform(0.02, 0.07))


def _add_seat_top(b: ShapeBuilder, rng: np.random.Generator, s: Seat) -> None:
    """Seat slab: round disc, rounded board or puffy cushion."""
    c = (0.0, s.h - s.t / 2, 0.0)
    if s.round:
        b.add(cylinder((0, s.h - s.t, 0), (0, s.h, 0), 0.5 * max(s.w, s.d), m=20), s.cover)
    elif s.t > 0.08 and rng.random() < 0.5:
        b.add(superellipsoid((s.d, s.t, s.w), c, rng.uniform(0.2, 0.4), m=16, n=7), s.cover)
    else:
        b.add(rounded_box((s.d, s.t, s.w), rng.uniform(0.0, 0.08), c, axis=1), s.cover)


def _base_legs(b: ShapeBuilder, rng: np.random.Generator, s: Seat) -> None:
    """Four straight, tapered or splayed legs, optionally with stretchers."""
    inset = rng.uniform(0.0, 0.06)
    hx, hz = s.d / 2 - inset - s.leg / 2, s.w / 2 - inset - s.leg / 2
    splay = rng.choice([0.0, rng.uniform(0.02, 0.1)])
    four_legs(b, s.frame, hx, hz, s.h - s.t, s.leg, s.square_legs, splay, rng.uniform(0.6, 1.0))
    if rng.random() < 0.4:
        y = rng.uniform(0.1, 0.5) * s.h
        f = 1.0 - y / s.h
        stretchers(b, s.frame, hx + splay * f, hz + splay * f, y, s.leg * 0.6, rng.random() < 0.5)
    if s.h > 0.6 and rng.random() < 0.6:
        b.add(torus((0, s.h * 0.35, 0), min(hx, hz) + splay * 0.65, 0.012, m=16, n=5), s.frame)


def _base_pedestal(b: ShapeBuilder, rng: np.random.Generator, s: Seat) -> None:
    """Central column on a star (office chair), a disc (tulip) or a cross base."""
    kind = rng.integers(3)
    top = s.h - s.t
    r_col = rng.uniform(0.025, 0.09)
    if kind == 0:
        star_base(b, s.frame, pal.rubber(rng), rng.uniform(0.25, 0.35), int(rng.integers(4, 6)),
                  0.0, rng.random() < 0.7)
        b.add(cylinder((0, 0.05, 0), (0, top, 0), r_col * 0.6, m=12), pal.metal(rng))
    elif kind == 1:
        r = rng.uniform(0.2, 0.3)
        b.add(lathe([r, r, r_col, r_col], [0, 0.02, 0.12, top], m=20), s.frame)
    else:
        for a in (0.0, np.pi / 2):
            rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
            b.add(box((0.6 * s.d + 0.2, 0.04, 0.05), (0, 0.02, 0), rot), s.frame)
        b.add(cylinder((0, 0.03, 0), (0, top, 0), r_col, m=12), s.frame)


def _base_sled(b: ShapeBuilder, rng: np.random.Generator, s: Seat) -> None:
    """Two bent-tube runners (sled base) or a cantilever tube frame."""
    z = s.w / 2 - 0.02
    r = rng.uniform(0.01, 0.02)
    y0 = r
    if rng.random() < 0.5:
        path = np.array([[s.d / 2, y0, 0], [-s.d / 2, y0, 0], [-s.d / 2 + 0.05, s.h - s.t, 0],
                         [s.d / 2 - 0.05, s.h - s.t, 0]])
        parts = [tube(path + [0, 0, sz * z], r, 8, ref=(0, 0, 1), closed=True) for sz in (-1, 1)]
    else:
        path = np.array([[-s.d / 2 + 0.1, y0, 0], [s.d / 2 + 0.05, y0, 0],
                         [s.d / 2 - 0.02, s.h - s.t - 0.01, 0], [-s.d / 2, s.h - s.t - 0.01, 0]])
        parts = [tube(path + [0, 0, sz * z], r, 8, ref=(0, 0, 1)) for sz in (-1, 1)]
    b.add_all(parts, pal.metal(rng))


def _base_panels(b: ShapeBuilder, rng: np.random.Generator, s: Seat, arm_h: float) -> None:
    """Solid side panels from the floor (club chairs, cube chairs), also acting as arms."""
    th = rng.uniform(0.04, 0.16)
    top = s.h + arm_h
    for sz in (-1, 1):
        c = (0.0, top / 2, sz * (s.w / 2 + th / 2))
        b.add(rounded_box((s.d, top, th), rng.uniform(0.0, 0.05), c, axis=2), s.cover)
    b.add(box((s.d, s.h - s.t, s.w), (0.0, (s.h - s.t) / 2, 0.0)), s.cover)


def _base_three_legs(b: ShapeBuilder, rng: np.random.Generator, s: Seat) -> None:
    """Three or five splayed legs under a round seat (stools)."""
    n = int(rng.choice([3, 4, 5]))
    r_top = 0.35 * min(s.w, s.d)
    r_bot = r_top + rng.uniform(0.0, 0.12)
    for k in range(n):
        a = 2 * np.pi * k / n
        top = (r_top * np.cos(a), s.h - s.t, r_top * np.sin(a))
        bot = (r_bot * np.cos(a), 0.0, r_bot * np.sin(a))
        b.add(rod(bot, top, s.leg, s.square_legs), s.frame)
    if s.h > 0.55:
        b.add(torus((0, s.h * 0.33, 0), r_top + (r_bot - r_top) * 0.67, 0.012, m=16, n=5),
              s.frame)


def _back_parts(rng: np.random.Generator, s: Seat, hb: float, kind: str) -> list[Part]:
    """Backrest parts built upright at the seat's rear edge (x = -d/2), before tilting."""
    bt = rng.uniform(0.02, 0.09)
    x = -s.d / 2 + bt / 2
    y0 = s.h + rng.choice([0.0, rng.uniform(0.03, 0.2)]) * (kind != "solid")
    y1 = s.h + hb
    bw = s.w * rng.uniform(0.7, 1.0)
    if kind == "solid":
        r = rng.uniform(0.0, 0.5) * min(bw, hb)
        return [rounded_box((bt, y1 - y0, bw), r, (x, (y0 + y1) / 2, 0.0), axis=0)]
    post = s.leg * 0.8
    parts = [box((bt, y1 - s.h + s.t, post), (x, (y1 + s.h - s.t) / 2, sz * (bw - post) / 2))
             for sz in (-1, 1)]
    n = int(rng.integers(2, 7))
    if kind == "slats_v":
        rail = rng.uniform(0.04, 0.15)
        parts.append(box((bt, rail, bw), (x, y1 - rail / 2, 0.0)))
        for k in range(n):
            z = (k + 1) / (n + 1) * bw - bw / 2
            parts.append(box((bt * 0.6, y1 - rail - y0, rng.uniform(0.015, 0.06)),
                             (x, (y0 + y1 - rail) / 2, z)))
    else:
        for k in range(min(n, 4)):
            y = y1 - k * (y1 - y0) / min(n, 4) - 0.03
            parts.append(box((bt * 0.7, rng.uniform(0.03, 0.1), bw), (x, y, 0.0)))
    return parts


def _curved_back(rng: np.random.Generator, s: Seat, hb: float) -> list[Part]:
    """A horizontal curved band (tub chair / Windsor top rail) with optional spindles."""
    r = s.w * rng.uniform(0.5, 0.8)
    span = np.arcsin(min(0.95, s.w / 2 / r))
    cx = -s.d / 2 + r
    path = arc_path((cx, 0.0, 0.0), r, np.pi - span, np.pi + span, 12, plane=(0, 2))
    band = rng.uniform(0.06, 0.6) * hb
    sec = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]]) * [0.03, band]
    top = path + [0.0, s.h + hb - band / 2, 0.0]
    parts = [tube(top, 1.0, ref=(0, 1, 0), section=sec)]
    if band < 0.5 * hb:
        for p in path[1:-1:2]:
            parts.append(cylinder(p + [0, s.h, 0], p + [0, s.h + hb - band, 0], 0.01, m=6))
    return parts


def _add_back(b: ShapeBuilder, rng: np.random.Generator, s: Seat) -> float:
    """Choose and add a backrest (possibly none); returns its height above the seat."""
    kind = rng.choice(["none", "solid", "slats_v", "slats_h", "curved", "pad"],
                      p=[0.14, 0.32, 0.16, 0.14, 0.14, 0.1])
    if kind == "none":
        return 0.0
    hb = rng.choice([rng.uniform(0.2, 0.45), rng.uniform(0.45, 0.95)])
    if kind == "curved":
        b.add_all(_curved_back(rng, s, hb), s.frame)
        return hb
    if kind == "pad":
        pw, ph = s.w * rng.uniform(0.6, 0.95), hb * rng.uniform(0.4, 0.8)
        y = s.h + hb - ph / 2
        b.add(ellipsoid((0.06, ph, pw), (-s.d / 2, y, 0.0), m=14, n=6), s.cover)
        b.add(box((0.03, y - s.h + s.t, 0.05), (-s.d / 2 - 0.03, (y + s.h - s.t) / 2, 0)),
              s.frame)
        return hb
    tilt = rng.uniform(0.0, 0.3)
    pivot = np.array([-s.d / 2, s.h, 0.0])
    mat = s.cover if kind == "solid" else s.frame
    for p in _back_parts(rng, s, hb, str(kind)):
        b.add(p.rotated(rot_z(tilt), pivot), mat)
    if kind == "solid" and rng.random() < 0.25:
        for sz in (-1, 1):
            wing = box((s.d * 0.35, hb * 0.6, 0.05), (-s.d / 2 + s.d * 0.15, s.h + hb * 0.55,
                                                     sz * (s.w / 2 - 0.02)))
            b.add(wing, s.cover)
    return hb


def _add_arms(b: ShapeBuilder, rng: np.random.Generator, s: Seat) -> None:
    """Armrests: bars on posts, or padded blocks."""
    ah = rng.uniform(0.15, 0.3)
    aw = rng.uniform(0.03, 0.1)
    length = s.d * rng.uniform(0.6, 1.0)
    x = -s.d / 2 + length / 2
    for sz in (-1, 1):
        z = sz * (s.w / 2 + aw / 2)
        b.add(rounded_box((length, aw * 0.6, aw), aw * 0.25, (x, s.h + ah, z), axis=0), s.frame)
        px = -s.d / 2 + length - 0.05
        b.add(rod((px, s.h - s.t, z), (px, s.h + ah, z), 0.03, s.square_legs), s.frame)


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A chair or stool with varied seat, base, backrest and arms."""
    b = ShapeBuilder()
    s = _seat(rng)
    base = rng.choice(["legs", "pedestal", "sled", "panels", "tri"],
                      p=[0.42, 0.2, 0.13, 0.1, 0.15])
    b.kind = str(base)
    if base == "tri":
        s.round = True
    if base == "panels":
        _base_panels(b, rng, s, rng.uniform(0.1, 0.3))
    else:
        {"legs": _base_legs, "pedestal": _base_pedestal, "sled": _base_sled,
         "tri": _base_three_legs}[str(base)](b, rng, s)
    _add_seat_top(b, rng, s)
    hb = _add_back(b, rng, s)
    if base != "panels" and hb > 0 and rng.random() < 0.35:
        _add_arms(b, rng, s)
    return b
