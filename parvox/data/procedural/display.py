"""Displays: flat monitors and TVs on pedestal/feet/L/arm/floor stands, wall-mounted panels,
curved monitors, all-in-ones and deep CRT monitors and TVs.

Frame: the screen faces +X, width along Z, +Y up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import rot_z
from .palette import Material
from .primitives import arc_path, box, cylinder, disc, rounded_box, sections_along_x, tube


@dataclass
class Panel:
    """Screen panel: width (Z), height, thickness, bottom edge height and materials."""

    w: float
    h: float
    t: float
    y0: float
    body: Material
    screen: Material

    @property
    def yc(self) -> float:
        """Height of the panel centre."""
        return self.y0 + self.h / 2


def _panel(b: ShapeBuilder, rng: np.random.Generator, p: Panel, tilt: float) -> None:
    """Bezel slab, dark screen on its front face and an optional rear bulge, tilted back."""
    bez = rng.uniform(0.005, 0.04)
    parts = [(rounded_box((p.t, p.h, p.w), rng.uniform(0.0, 0.02), (0, p.yc, 0), axis=0),
              p.body),
             (box((0.004, p.h - 2 * bez, p.w - 2 * bez), (p.t / 2 + 0.002, p.yc + bez * 0.3, 0)),
              p.screen)]
    if rng.random() < 0.5:
        bulge = rng.uniform(0.02, 0.08)
        parts.append((rounded_box((bulge, p.h * 0.6, p.w * 0.6), bulge * 0.4,
                                  (-p.t / 2 - bulge / 2, p.yc, 0), axis=0), p.body))
    pivot = np.array([0.0, p.y0, 0.0])
    for part, mat in parts:
        b.add(part.rotated(rot_z(tilt), pivot), mat)


def _stand(b: ShapeBuilder, rng: np.random.Generator, p: Panel, mat: Material) -> None:
    """Pedestal, two feet, L-bracket, arm or floor stand below the panel."""
    kind = rng.choice(["pedestal", "feet", "l", "floor", "easel"], p=[0.42, 0.28, 0.14, 0.08, 0.08])
    if kind == "easel":
        depth = rng.uniform(0.3, 0.6)
        top = p.y0 + p.h * rng.uniform(0.8, 1.1)
        for s in (-1, 1):
            b.add(cylinder((depth * 0.3, 0, s * p.w * 0.35), (-0.03, top, s * p.w * 0.25), 0.015,
                           m=6), mat)
        b.add(cylinder((-depth, 0, 0), (-0.03, top, 0), 0.015, m=6), mat)
        b.add(box((0.06, 0.02, p.w * 0.8), (0.0, p.y0 - 0.01, 0)), mat)
        return
    if kind == "feet":
        span = p.w * rng.uniform(0.5, 0.9)
        depth = rng.uniform(0.12, 0.35)
        fx = depth * rng.uniform(-0.3, 0.3)
        for s in (-1, 1):
            foot = rounded_box((depth, 0.02, 0.05), 0.01, (fx, 0.01, s * span / 2))
            b.add(foot, mat)
            b.add(box((0.03, p.y0 + p.h * 0.15, 0.03), (-0.01, (p.y0 + p.h * 0.15) / 2,
                                                         s * span / 2)), mat)
        return
    if kind == "floor":
        b.add(disc((0, 0.01, 0), rng.uniform(0.2, 0.35), 0.02), mat)
        b.add(cylinder((0, 0, 0), (0, p.y0 + p.h * 0.5, 0), 0.03, m=8), mat)
        return
    base_d = rng.uniform(0.12, 0.35)
    bx = -base_d * rng.uniform(0.0, 0.6)
    if rng.random() < 0.5:
        b.add(disc((bx, 0.008, 0), base_d * 0.6, 0.016, m=20), mat)
    else:
        b.add(rounded_box((base_d, 0.016, base_d * rng.uniform(1.0, 2.5)), 0.02, (bx, 0.008, 0),
                          axis=1), mat)
    if kind == "l":
        path = np.array([[0.0, 0.016, 0.0], [-base_d * 0.4, 0.016, 0.0],
                         [-base_d * 0.4, p.yc, 0.0], [-0.02, p.yc, 0.0]])
        sec = np.array([[-0.012, -0.04], [0.012, -0.04], [0.012, 0.04], [-0.012, 0.04]])
        b.add(tube(path, 1.0, ref=(0, 0, 1), section=sec), mat)
    else:
        b.add(rounded_box((0.03, p.yc, rng.uniform(0.04, 0.1)), 0.01,
                          (-p.t / 2 - 0.02, p.yc / 2, 0), axis=1), mat)


def _crt(b: ShapeBuilder, rng: np.random.Generator, body: Material, screen: Material) -> None:
    """CRT monitor/TV: bezel box and a tapering rear tube, on nothing, a swivel foot or legs,
    sometimes with side speakers."""
    w = rng.uniform(0.35, 0.8)
    h = w * rng.uniform(0.7, 0.9)
    depth = w * rng.uniform(0.6, 1.2)
    stand = str(rng.choice(["none", "swivel", "legs"], p=[0.4, 0.4, 0.2]))
    y0 = {"none": 0.0, "swivel": rng.uniform(0.03, 0.12), "legs": rng.uniform(0.2, 0.6)}[stand]
    if stand == "swivel":
        b.add(rounded_box((depth * 0.5, y0, w * 0.5), 0.02, (-depth * 0.3, y0 / 2, 0), axis=1),
              body)
    elif stand == "legs":
        for sx in (-1, 1):
            for sz in (-1, 1):
                top = (sx * depth * 0.3 - depth * 0.2, y0, sz * w * 0.35)
                b.add(cylinder((top[0] + sx * 0.05, 0, top[2] + sz * 0.05), top, 0.015, m=6),
                      pal.any_of(rng, pal.wood, pal.metal))
    front = rng.uniform(0.1, 0.25)
    xs = np.array([0.0, front, front + (1 - front) * 0.4, 1.0]) * depth
    tip = rng.uniform(0.3, 0.8)
    shrink = np.array([1.0, 1.0, 0.5 + 0.5 * tip, tip])
    yc = y0 + h / 2
    back = sections_along_x(-xs[::-1], yc - h / 2 * shrink[::-1], yc + h / 2 * shrink[::-1],
                            w / 2 * shrink[::-1], 0.03)
    b.add(back, body)
    b.add(box((0.01, h * 0.8, w * 0.82), (0.005, yc + h * 0.03, 0)), screen)
    if rng.random() < 0.25:
        sw = w * rng.uniform(0.15, 0.3)
        for s in (-1, 1):
            b.add(box((depth * front, h, sw), (-depth * front / 2, yc, s * (w + sw) / 2)), body)


def _curved(b: ShapeBuilder, rng: np.random.Generator, p: Panel) -> None:
    """Curved ultrawide panel: a bent slab whose concave side faces +X."""
    r = p.w * rng.uniform(0.9, 1.8)
    half = p.w / 2 / r
    path = arc_path((r, 0.0, 0.0), r, np.pi - half, np.pi + half, 12, plane=(0, 2))
    sec = np.array([[-p.t / 2, 0.0], [p.t / 2, 0.0], [p.t / 2, p.h], [-p.t / 2, p.h]])
    b.add(tube(path + [0, p.y0, 0], 1.0, ref=(0, 1, 0), section=sec), p.body)
    inner = np.array([[-p.t / 2 - 0.004, 0.02], [-p.t / 2, 0.02], [-p.t / 2, p.h - 0.02],
                      [-p.t / 2 - 0.004, p.h - 0.02]])
    b.add(tube(path + [0, p.y0, 0], 1.0, ref=(0, 1, 0), section=inner), p.screen)


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A monitor or a TV of a random kind."""
    b = ShapeBuilder()
    body = pal.any_of(rng, pal.plastic, pal.plastic, pal.metal)
    screen = pal.glass(rng)
    kind = rng.choice(["flat", "wall", "curved", "aio", "crt"], p=[0.54, 0.12, 0.11, 0.1, 0.13])
    b.kind = str(kind)
    if kind == "crt":
        _crt(b, rng, body, screen)
        return b
    w = rng.choice([rng.uniform(0.4, 0.75), rng.uniform(0.75, 1.8)])
    aspect = rng.choice([9 / 21, 9 / 16, 10 / 16, 3 / 4])
    t = rng.uniform(0.01, 0.07) * (3.0 if kind == "aio" else 1.0)
    y0 = 0.0 if kind == "wall" else rng.uniform(0.03, 0.3) * w
    p = Panel(w, w * aspect, t, y0, body, screen)
    if kind == "flat" and rng.random() < 0.12:
        p.w, p.h = p.h, p.w  # pivoted to portrait
    if kind == "curved":
        _curved(b, rng, p)
    else:
        _panel(b, rng, p, rng.uniform(0.0, 0.3) if kind != "wall" else 0.0)
    if kind == "wall":
        b.add(box((0.03, p.h * 0.4, p.w * 0.3), (-p.t / 2 - 0.015, p.yc, 0)), pal.metal(rng))
    else:
        _stand(b, rng, p, pal.any_of(rng, pal.plastic, pal.metal))
    if kind == "aio":
        b.add(box((p.t, p.h * 0.15, p.w), (0, p.y0 - p.h * 0.07, 0)), body)
    return b
