"""Speakers: bookshelf boxes, towers, subwoofers, soundbars, cylinders, satellite balls, floor
wedges, PA cabinets on tripods, studio monitors on stands and horn speakers.

Drivers are short cylinders slightly proud of the front baffle.  Frame: drivers face +X, width
along Z, +Y up.
"""

from __future__ import annotations

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import rot_z
from .palette import Material
from .primitives import cylinder, disc, lathe, prism, rounded_box, sphere, superellipsoid

_TO_X = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # maps +Y onto +X


def driver(b: ShapeBuilder, front: np.ndarray, r: float, cone: Material, rim: Material) -> None:
    """A driver on a baffle whose surface is at ``front`` (x): surround ring and cone."""
    b.add(disc(front + [0.004, 0, 0], r, 0.01, axis=0, m=16), rim)
    b.add(disc(front + [0.008, 0, 0], r * 0.8, 0.012, axis=0, m=16), cone)


def _drivers(b: ShapeBuilder, rng: np.random.Generator, x: float, y0: float, y1: float,
             width: float, cone: Material, rim: Material) -> None:
    """Stack a tweeter and one to four woofers on a baffle spanning ``y0``..``y1``."""
    room = y1 - y0
    r_w = min(width * rng.uniform(0.3, 0.45), room * 0.4)
    n = max(1, min(int(rng.integers(1, 5)), int(room / (2.3 * r_w))))
    ys = y0 + room * (np.arange(n) + 0.6) / (n + 0.6)
    for y in ys:
        driver(b, np.array([x, y, 0.0]), r_w, cone, rim)
    tw = min(r_w * 0.35, 0.025)
    b.add(sphere((x + 0.002, y1 - room * 0.12, 0), tw, m=10, n=5), rim)


def _box(b: ShapeBuilder, rng: np.random.Generator, w: float, h: float, d: float, y0: float,
         body: Material, cone: Material, rim: Material, slope: float = 0.0) -> None:
    """Cabinet (optionally with a sloped back) with drivers on its front."""
    if slope > 0:
        poly = [[d / 2, y0], [d / 2, y0 + h], [-d / 2 + slope * d, y0 + h], [-d / 2, y0]]
        b.add(prism(poly, w, (0, 0, 0)), body)
    else:
        b.add(rounded_box((d, h, w), rng.uniform(0.0, 0.3) * min(w, d), (0, y0 + h / 2, 0),
                          axis=1), body)
    _drivers(b, rng, d / 2, y0, y0 + h, w, cone, rim)


def _feet(b: ShapeBuilder, rng: np.random.Generator, w: float, d: float, h: float,
          mat: Material) -> None:
    """Spikes/feet under a cabinet (height ``h``) or an outrigger plinth."""
    if rng.random() < 0.5:
        for sx in (-1, 1):
            for sz in (-1, 1):
                p = (sx * d * 0.4, 0.0, sz * w * 0.4)
                b.add(cylinder(p, (p[0], h, p[2]), 0.005, 0.015, m=8), mat)
    else:
        b.add(rounded_box((d * 1.1, h, w * 1.3), 0.01, (0, h / 2, 0)), mat)


def _stand(b: ShapeBuilder, rng: np.random.Generator, height: float, mat: Material,
           tripod: bool) -> None:
    """Pole stand: a tripod (PA) or a pillar on a base plate (studio/satellite)."""
    if tripod:
        spread = height * rng.uniform(0.35, 0.5)
        top = np.array([0.0, height * 0.45, 0.0])
        for k in range(3):
            a = 2 * np.pi * k / 3
            b.add(cylinder((spread * np.cos(a), 0, spread * np.sin(a)), top, 0.012, m=5), mat)
        b.add(cylinder((0, height * 0.3, 0), (0, height, 0), 0.018, m=8), mat)
    else:
        b.add(rounded_box((0.25, 0.02, 0.25), 0.03, (0, 0.01, 0), axis=1), mat)
        b.add(cylinder((0, 0, 0), (0, height, 0), rng.uniform(0.02, 0.05), m=8), mat)


def _round(b: ShapeBuilder, rng: np.random.Generator, body: Material, cone: Material,
           rim: Material) -> None:
    """Cylindrical smart/portable speaker (upright or lying along Z) or a ball on a stand."""
    kind = rng.integers(3)
    if kind == 0:
        r, h = rng.uniform(0.05, 0.1), rng.uniform(0.1, 0.3)
        b.add(lathe([r * 0.9, r, r, r * rng.uniform(0.6, 1.0)], [0, 0.01, h * 0.9, h], m=20),
              body)
        b.add(disc((0, h + 0.003, 0), r * 0.6, 0.006, m=16), rim)
    elif kind == 1:
        r, length = rng.uniform(0.04, 0.08), rng.uniform(0.15, 0.35)
        b.add(cylinder((0, r, -length / 2), (0, r, length / 2), r, m=18, aspect=1.0), body)
        for z in (-length * 0.25, length * 0.25):
            driver(b, np.array([r * 0.9, r, z]), r * 0.6, cone, rim)
    else:
        h = rng.uniform(0.0, 1.1)
        if h > 0.1:
            _stand(b, rng, h, pal.metal(rng), False)
        r = rng.uniform(0.06, 0.15)
        b.add(sphere((0, h + r, 0), r, m=16, n=8), body)
        driver(b, np.array([r * 0.92, h + r, 0]), r * 0.55, cone, rim)


def _horn(b: ShapeBuilder, rng: np.random.Generator, body: Material, rim: Material) -> None:
    """Horn loudspeaker: a flared bell facing +X on a driver body and a post."""
    length, mouth = rng.uniform(0.25, 0.6), rng.uniform(0.1, 0.25)
    y = rng.uniform(0.1, 0.6)
    t = np.linspace(0.0, 1.0, 8)
    outer = 0.02 + mouth * t ** 2.5
    r = np.concatenate([outer, outer[::-1] - 0.006])
    yy = np.concatenate([t * length, (t * length)[::-1]])
    bell = lathe(np.maximum(r, 0.004), yy, m=18, closed_profile=True)
    b.add(bell.rotated(_TO_X).moved((-length / 2, y, 0)), rim)
    b.add(sphere((-length / 2, y, 0), 0.06, m=10, n=5), body)
    b.add(cylinder((-length / 2, 0, 0), (-length / 2, y - 0.05, 0), 0.015, m=8), body)
    b.add(disc((-length / 2, 0.01, 0), 0.1, 0.02), body)


#: kind -> (weight, width, height, depth) ranges of box-shaped speakers (metres)
BOXES: dict[str, tuple] = {
    "bookshelf": (0.15, (0.15, 0.3), (0.25, 0.45), (0.18, 0.35)),
    "tower": (0.12, (0.12, 0.35), (0.7, 1.4), (0.15, 0.5)),
    "column": (0.06, (0.07, 0.13), (0.6, 1.1), (0.08, 0.14)),
    "sub": (0.06, (0.3, 0.5), (0.3, 0.55), (0.3, 0.5)),
    "center": (0.05, (0.4, 0.65), (0.13, 0.22), (0.18, 0.3)),
    "bar": (0.07, (0.6, 1.2), (0.05, 0.12), (0.07, 0.15)),
    "pa": (0.08, (0.3, 0.5), (0.5, 0.8), (0.3, 0.45)),
    "studio": (0.08, (0.15, 0.3), (0.25, 0.45), (0.2, 0.35)),
}
OTHERS = {"round": 0.14, "wedge": 0.06, "horn": 0.05, "pod": 0.07}


def _wedge(b: ShapeBuilder, rng: np.random.Generator, body: Material, cone: Material) -> None:
    """Floor monitor wedge with its driver on the sloped face."""
    w, d, h = rng.uniform(0.35, 0.6), rng.uniform(0.3, 0.5), rng.uniform(0.25, 0.4)
    b.add(prism([[-d / 2, 0], [d / 2, 0], [-d / 2, h]], w, (0, 0, 0)), body)
    c = np.array([0.0, h / 2, 0.0])
    face = disc(c, h * 0.35, 0.02, axis=0, m=16).rotated(rot_z(np.arctan2(d, h)), c)
    b.add(face.moved((0.004, 0, 0)), cone)


def _pod(b: ShapeBuilder, rng: np.random.Generator, body: Material, cone: Material,
         rim: Material) -> None:
    """Egg/teardrop enclosure on a short foot, driver facing +X."""
    h = rng.uniform(0.2, 0.6)
    d, w = h * rng.uniform(0.5, 0.9), h * rng.uniform(0.45, 0.7)
    foot = rng.choice([rng.uniform(0.02, 0.1), rng.uniform(0.3, 0.8)])
    b.add(cylinder((0, 0, 0), (0, foot + h * 0.2, 0), 0.02, m=8), rim)
    b.add(disc((0, 0.008, 0), w * 0.5, 0.016), rim)
    b.add(superellipsoid((d, h, w), (0, foot + h / 2, 0), rng.uniform(0.7, 1.0), m=14, n=7),
          body)
    driver(b, np.array([d * 0.45, foot + h * 0.55, 0.0]), w * 0.3, cone, rim)


def _boxed(b: ShapeBuilder, rng: np.random.Generator, kind: str, body: Material,
           cone: Material, rim: Material) -> None:
    """Box speaker of ``kind`` on the floor, on feet or on a stand, maybe with a top pod."""
    _, wr, hr, dr = BOXES[kind]
    w, h, d = rng.uniform(*wr), rng.uniform(*hr), rng.uniform(*dr)
    y0 = 0.0
    if kind in ("tower", "column") and rng.random() < 0.6:
        y0 = rng.uniform(0.02, 0.06)
        _feet(b, rng, w, d, y0, rim)
    elif kind in ("pa", "studio") or (kind == "bookshelf" and rng.random() < 0.35):
        y0 = rng.uniform(0.8, 1.6) if kind == "pa" else rng.uniform(0.4, 1.0)
        _stand(b, rng, y0, pal.metal(rng), kind == "pa")
    slope = rng.uniform(0.1, 0.5) if kind in ("bookshelf", "tower") and rng.random() < 0.25 \
        else 0.0
    _box(b, rng, w, h, d, y0, body, cone, rim, slope)
    if kind in ("bookshelf", "tower") and rng.random() < 0.2:
        r = min(w, d) * rng.uniform(0.3, 0.5)
        b.add(sphere((0, y0 + h + r * 0.9, 0), r, m=14, n=7), body)
        driver(b, np.array([r * 0.9, y0 + h + r * 0.9, 0.0]), r * 0.4, cone, rim)


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A speaker of a random kind."""
    b = ShapeBuilder()
    body = pal.any_of(rng, pal.wood, pal.plastic, pal.plastic, pal.painted, pal.metal)
    cone = pal.Material((int(rng.integers(10, 60)),) * 3, 0.2)
    rim = pal.any_of(rng, pal.metal, pal.plastic)
    weights = {**{k: v[0] for k, v in BOXES.items()}, **OTHERS}
    p = np.array(list(weights.values()))
    kind = str(rng.choice(list(weights), p=p / p.sum()))
    b.kind = kind
    if kind == "round":
        _round(b, rng, body, cone, rim)
    elif kind == "horn":
        _horn(b, rng, body, rim)
    elif kind == "wedge":
        _wedge(b, rng, body, cone)
    elif kind == "pod":
        _pod(b, rng, body, cone, rim)
    else:
        _boxed(b, rng, kind, body, cone, rim)
    return b
