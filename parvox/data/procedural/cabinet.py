"""Cabinets: wardrobes, sideboards, nightstands, dressers, file cabinets, bookcases, TV units.

A carcass (panels) is divided into a grid of compartments; each is closed by a door or drawer
front (then filled solid behind it, as a closed cabinet voxelises) or left open (a hollow shelf).
Frame: front (doors) toward +X, width along Z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .palette import Material
from .parts import four_legs
from .primitives import box, box_between, cylinder, prism, sphere

#: type -> ((height), (width), (depth), (rows), (cols), P(open), P(back))
KINDS: dict[str, tuple[tuple[float, float], ...]] = {
    "wardrobe": ((1.5, 2.4), (0.5, 2.6), (0.35, 0.75), (1, 3), (1, 4), (0.0, 0.3), (1.0, 1.0)),
    "sideboard": ((0.55, 0.95), (1.1, 2.6), (0.35, 0.6), (1, 3), (2, 5), (0.0, 0.6), (1.0, 1.0)),
    "nightstand": ((0.4, 0.7), (0.35, 0.6), (0.3, 0.5), (1, 4), (1, 1), (0.0, 0.7), (1.0, 1.0)),
    "dresser": ((0.7, 1.5), (0.5, 2.0), (0.35, 0.7), (3, 7), (1, 3), (0.0, 0.3), (1.0, 1.0)),
    "file": ((0.6, 1.4), (0.35, 0.55), (0.45, 0.8), (2, 5), (1, 1), (0.0, 0.2), (1.0, 1.0)),
    "base": ((0.8, 0.95), (0.4, 1.2), (0.55, 0.75), (1, 4), (1, 2), (0.0, 0.3), (1.0, 1.0)),
    "bookcase": ((0.8, 2.2), (0.4, 1.8), (0.25, 0.45), (2, 7), (1, 4), (0.7, 1.0), (0.3, 1.0)),
    "tv": ((0.35, 0.65), (1.0, 2.4), (0.35, 0.55), (1, 2), (2, 5), (0.3, 0.9), (0.6, 1.0)),
    "cubes": ((0.7, 1.8), (0.7, 1.8), (0.3, 0.45), (2, 5), (2, 5), (0.5, 1.0), (0.0, 1.0)),
    "wall": ((0.5, 0.9), (0.5, 1.5), (0.28, 0.4), (1, 2), (1, 3), (0.0, 0.7), (1.0, 1.0)),
}
WEIGHTS = {"wardrobe": 0.14, "sideboard": 0.14, "nightstand": 0.1, "dresser": 0.09,
           "file": 0.08, "base": 0.06, "bookcase": 0.13, "tv": 0.11, "cubes": 0.08, "wall": 0.07}


@dataclass
class Carcass:
    """Outer size (metres), base height, panel thickness and materials."""

    h: float
    w: float
    d: float
    base: float
    t: float
    body: Material
    front: Material
    handle: Material
    x: float = 0.0  # centre along X
    z: float = 0.0  # centre along Z


def _grid_edges(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    """``n + 1`` increasing divider positions between ``lo`` and ``hi`` (uneven spacing)."""
    weights = rng.uniform(0.6, 1.4, n)
    return lo + (hi - lo) * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])


def _panels(b: ShapeBuilder, c: Carcass, ys: np.ndarray, zs: np.ndarray, back: bool) -> None:
    """Sides, top, bottom, shelves, dividers and the optional back panel."""
    y0, y1 = c.base, c.base + c.h
    for z in (-c.w / 2 + c.t / 2, c.w / 2 - c.t / 2):
        b.add(box((c.d, c.h, c.t), (c.x, (y0 + y1) / 2, c.z + z)), c.body)
    for y in ys:
        yc = np.clip(y, y0 + c.t / 2, y1 - c.t / 2)
        b.add(box((c.d, c.t, c.w), (c.x, yc, c.z)), c.body)
    for z in zs[1:-1]:
        b.add(box((c.d, c.h, c.t * 0.8), (c.x, (y0 + y1) / 2, z)), c.body)
    if back:
        b.add(box((c.t * 0.5, c.h, c.w), (c.x - c.d / 2 + c.t / 4, (y0 + y1) / 2, c.z)), c.body)


def _front(b: ShapeBuilder, rng: np.random.Generator, c: Carcass, lo: np.ndarray,
           hi: np.ndarray, kind: str, style: int) -> None:
    """Close one compartment: a solid filler, a door/drawer panel and a knob or bar handle."""
    b.add(box_between(lo + [c.t, 0, 0], hi), c.body)
    proud = 0.01 + 0.015 * style
    panel = box_between([hi[0], lo[1] + 0.004, lo[2] + 0.004], [hi[0] + proud, hi[1] - 0.004,
                                                                 hi[2] - 0.004])
    b.add(panel, c.front)
    x = hi[0] + proud
    yc, zc = (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2
    if kind == "drawer":
        hw = min(0.08, (hi[2] - lo[2]) * 0.2)
        b.add(box((0.02, 0.015, 2 * hw), (x + 0.01, yc, zc)), c.handle)
    elif style == 0:
        b.add(sphere((x + 0.015, yc, hi[2] - 0.05), 0.015, m=8, n=4), c.handle)
    else:
        hh = min(0.15, (hi[1] - lo[1]) * 0.3)
        z = hi[2] - 0.05 if rng.random() < 0.5 else lo[2] + 0.05
        b.add(box((0.02, 2 * hh, 0.015), (x + 0.01, yc, z)), c.handle)


def _base(b: ShapeBuilder, rng: np.random.Generator, c: Carcass, kind: str) -> None:
    """Plinth, legs, bun feet or casters under the carcass (nothing for a floor-standing one)."""
    if c.base <= 0.0:
        return
    if kind == "plinth":
        b.add(box((c.d * 0.9, c.base, c.w * 0.95), (c.x - c.d * 0.05, c.base / 2, c.z)), c.body)
    elif kind == "feet":
        for sx in (-1, 1):
            for sz in (-1, 1):
                p = (sx * (c.d / 2 - 0.05), c.base / 2, sz * (c.w / 2 - 0.05))
                b.add(cylinder((p[0], 0, p[2]), (p[0], c.base, p[2]), 0.035, 0.05, m=10),
                      c.body)
    else:
        leg = pal.any_of(rng, pal.wood, pal.metal)
        splay = rng.choice([0.0, 0.04])
        four_legs(b, leg, c.d / 2 - 0.04, c.w / 2 - 0.04, c.base, rng.uniform(0.025, 0.05),
                  rng.random() < 0.5, splay, 0.7)


def _unit(b: ShapeBuilder, rng: np.random.Generator, c: Carcass, rows: int, cols: int,
          p_open: float, back: bool, drawers: bool) -> None:
    """A carcass split into ``rows`` x ``cols`` compartments, each open or closed."""
    ys = _grid_edges(rng, rows, c.base, c.base + c.h)
    zs = _grid_edges(rng, cols, c.z - c.w / 2, c.z + c.w / 2)
    any_closed = False
    style = int(rng.integers(3))
    for i in range(rows):
        for j in range(cols):
            if rng.random() < p_open:
                continue
            lo = np.array([c.x - c.d / 2, ys[i], zs[j]])
            hi = np.array([c.x + c.d / 2, ys[i + 1], zs[j + 1]])
            drawer = drawers and (hi[1] - lo[1]) < 0.35
            _front(b, rng, c, lo, hi, "drawer" if drawer else "door", style)
            any_closed = True
    _panels(b, c, ys, zs, back or any_closed)


def _materials(rng: np.random.Generator) -> tuple[Material, Material, Material]:
    """(body, fronts, handles)."""
    body = pal.any_of(rng, pal.wood, pal.wood, pal.painted, pal.metal)
    front = body if rng.random() < 0.6 else pal.any_of(rng, pal.wood, pal.painted, pal.glass)
    return body, front, pal.metal(rng)


def _single(b: ShapeBuilder, rng: np.random.Generator) -> None:
    """One carcass of a random kind on a plinth, legs, feet or the floor."""
    names = list(KINDS)
    kind = str(rng.choice(names, p=[WEIGHTS[n] for n in names]))
    b.kind = kind
    hr, wr, dr, rr, cr, open_r, back_r = KINDS[kind]
    base_kind = str(rng.choice(["none", "plinth", "legs", "feet"], p=[0.35, 0.25, 0.3, 0.1]))
    base = {"none": 0.0, "plinth": rng.uniform(0.04, 0.12), "legs": rng.uniform(0.08, 0.6),
            "feet": rng.uniform(0.03, 0.1)}[base_kind]
    c = Carcass(rng.uniform(*hr), rng.uniform(*wr), rng.uniform(*dr), base,
                rng.uniform(0.015, 0.04), *_materials(rng))
    rows = int(rng.integers(rr[0], rr[1] + 1))
    cols = int(rng.integers(cr[0], cr[1] + 1))
    back = rng.random() < rng.uniform(*back_r)
    _unit(b, rng, c, rows, cols, rng.uniform(*open_r), back, kind != "wardrobe")
    _base(b, rng, c, base_kind)
    top = c.base + c.h
    if rng.random() < 0.3:
        b.add(box((c.d + 0.04, 0.03, c.w + 0.04), (0.0, top + 0.015, 0.0)), c.body)
    if kind in ("dresser", "sideboard", "nightstand") and rng.random() < 0.4:
        _mirror(b, rng, c, top)


def _mirror(b: ShapeBuilder, rng: np.random.Generator, c: Carcass, top: float) -> None:
    """Framed mirror standing on the back of a dresser/sideboard (rectangular or oval)."""
    mh = rng.uniform(0.4, 1.0)
    mw = c.w * rng.uniform(0.4, 0.9)
    x = -c.d / 2 + 0.03
    if rng.random() < 0.5:
        b.add(box((0.03, mh, mw), (x, top + mh / 2, 0)), c.body)
    else:
        b.add(cylinder((x - 0.015, top + mh / 2, 0), (x + 0.015, top + mh / 2, 0), mw / 2, m=20,
                       aspect=mh / mw, up=(0, 1, 0)), c.body)
    b.add(box((0.005, mh * 0.85, mw * 0.85), (x + 0.017, top + mh / 2, 0)),
          pal.Material((200, 210, 215), 0.95))


def _hutch(b: ShapeBuilder, rng: np.random.Generator) -> None:
    """Deep lower cabinet with a shallower shelf/glass unit on top, set against the back."""
    mats = _materials(rng)
    w, d = rng.uniform(0.7, 1.8), rng.uniform(0.35, 0.65)
    base = rng.choice([0.0, rng.uniform(0.05, 0.3)])
    low = Carcass(rng.uniform(0.6, 1.0), w, d, base, 0.025, *mats)
    _unit(b, rng, low, int(rng.integers(1, 3)), int(rng.integers(1, 4)), 0.2, True, True)
    d2 = d * rng.uniform(0.3, 0.7)
    gap = rng.choice([0.0, rng.uniform(0.2, 0.45)])
    top_y = base + low.h + gap
    up = Carcass(rng.uniform(0.4, 1.3), w * rng.uniform(0.5, 1.0), d2, top_y, 0.02, *mats,
                 x=-d / 2 + d2 / 2)
    _unit(b, rng, up, int(rng.integers(2, 5)), int(rng.integers(1, 4)), rng.uniform(0.3, 1.0),
          True, False)
    b.add(box((d + 0.03, 0.03, w + 0.03), (0.0, base + low.h + 0.015, 0.0)), mats[0])
    if gap > 0:
        for sz in (-1, 1):
            b.add(box((d2, gap, 0.03), (up.x, base + low.h + gap / 2, sz * (up.w / 2 - 0.015))),
                  mats[0])
    _base(b, rng, low, "legs" if base > 0 else "none")


def _media_wall(b: ShapeBuilder, rng: np.random.Generator) -> None:
    """Entertainment centre: two towers, a bridge over the top and a low base between them."""
    mats = _materials(rng)
    h, d = rng.uniform(1.4, 2.2), rng.uniform(0.3, 0.5)
    tw, gap = rng.uniform(0.3, 0.6), rng.uniform(0.8, 1.8)
    for sz in (-1, 1):
        tower = Carcass(h, tw, d, 0.0, 0.02, *mats, z=sz * (gap + tw) / 2)
        _unit(b, rng, tower, int(rng.integers(2, 6)), 1, rng.uniform(0.2, 0.9), True, True)
    low = Carcass(rng.uniform(0.35, 0.6), gap, d * rng.uniform(0.9, 1.2), 0.0, 0.02, *mats)
    _unit(b, rng, low, 1, int(rng.integers(1, 4)), rng.uniform(0.0, 1.0), True, True)
    if rng.random() < 0.8:
        bh = rng.uniform(0.2, 0.4)
        bridge = Carcass(bh, gap, d * 0.9, h - bh, 0.02, *mats)
        _unit(b, rng, bridge, 1, int(rng.integers(1, 4)), rng.uniform(0.0, 1.0), True, False)


def _combo(b: ShapeBuilder, rng: np.random.Generator) -> None:
    """Two or three carcasses side by side with different heights and depths (stepped units)."""
    mats = _materials(rng)
    n = int(rng.integers(2, 4))
    widths = rng.uniform(0.4, 1.0, n)
    z = -widths.sum() / 2
    d = rng.uniform(0.35, 0.6)
    for k in range(n):
        h = rng.choice([rng.uniform(0.4, 0.9), rng.uniform(1.2, 2.1)])
        dk = d * rng.uniform(0.6, 1.0)
        c = Carcass(h, widths[k], dk, 0.0, 0.02, *mats, x=-d / 2 + dk / 2, z=z + widths[k] / 2)
        _unit(b, rng, c, int(rng.integers(1, 6)), 1, rng.uniform(0.0, 0.8), True, True)
        z += widths[k]


def _etagere(b: ShapeBuilder, rng: np.random.Generator) -> None:
    """Open frame shelving: four posts and thin shelves (sparse)."""
    frame = pal.any_of(rng, pal.metal, pal.wood)
    shelf = pal.any_of(rng, pal.glass, pal.wood, pal.painted)
    h, w, d = rng.uniform(0.6, 2.0), rng.uniform(0.4, 1.4), rng.uniform(0.25, 0.5)
    th = rng.uniform(0.015, 0.04)
    for sx in (-1, 1):
        for sz in (-1, 1):
            b.add(box((th, h, th), (sx * (d - th) / 2, h / 2, sz * (w - th) / 2)), frame)
    n = int(rng.integers(2, 6))
    for y in np.linspace(rng.uniform(0.05, 0.3), h - 0.01, n):
        b.add(box((d, 0.015, w), (0, y, 0)), shelf)


def _chest(b: ShapeBuilder, rng: np.random.Generator) -> None:
    """Blanket chest / trunk: a low wide box with a flat or domed lid."""
    body, _, handle = _materials(rng)
    w, d, h = rng.uniform(0.6, 1.3), rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.6)
    base = rng.choice([0.0, rng.uniform(0.03, 0.15)])
    b.add(box((d, h, w), (0, base + h / 2, 0)), body)
    if rng.random() < 0.5:
        lid = cylinder((0, base + h, -w / 2), (0, base + h, w / 2), d / 2, m=16,
                       aspect=rng.uniform(0.3, 0.9), up=(0, 1, 0))
        b.add(lid, body)
    for sz in (-1, 1):
        b.add(box((0.1, 0.03, 0.03), (0, base + h * 0.7, sz * (w / 2 + 0.015))), handle)
    if base > 0:
        four_legs(b, body, d / 2 - 0.04, w / 2 - 0.04, base, 0.05, True)


def _corner(b: ShapeBuilder, rng: np.random.Generator) -> None:
    """Corner unit with an L-shaped footprint: a run along the back and a wing along +X."""
    mats = _materials(rng)
    h, d = rng.uniform(0.6, 2.0), rng.uniform(0.35, 0.6)
    w1, w2 = rng.uniform(0.8, 1.6), rng.uniform(0.5, 1.4)
    e = int(rng.choice([-1, 1]))
    back = Carcass(h, w1, d, 0.0, 0.02, *mats)
    _unit(b, rng, back, int(rng.integers(1, 5)), int(rng.integers(1, 3)), rng.uniform(0, 0.6),
          True, True)
    wing = Carcass(h * rng.uniform(0.5, 1.0), d, w2, 0.0, 0.02, *mats,
                   x=d / 2 + w2 / 2, z=e * (w1 / 2 - d / 2))
    wing_rows = int(rng.integers(1, 4))
    ys = _grid_edges(rng, wing_rows, 0.0, wing.h)
    zs = np.array([wing.z - d / 2, wing.z + d / 2])
    _panels(b, wing, ys, zs, True)
    b.add(box((w2, wing.h, d * 0.9), (wing.x, wing.h / 2, wing.z)), mats[0])


def _secretary(b: ShapeBuilder, rng: np.random.Generator) -> None:
    """Slant-front bureau: drawers below, a sloping writing flap, sometimes a bookcase above."""
    mats = _materials(rng)
    w, d = rng.uniform(0.7, 1.2), rng.uniform(0.4, 0.6)
    base = rng.uniform(0.05, 0.3)
    h1 = rng.uniform(0.6, 0.85)
    low = Carcass(h1, w, d, base, 0.02, *mats)
    _unit(b, rng, low, int(rng.integers(2, 5)), 1, 0.0, True, True)
    rise, d2 = rng.uniform(0.2, 0.4), d * rng.uniform(0.4, 0.6)
    y0 = base + h1
    profile = [[-d / 2, y0], [d / 2, y0], [-d / 2 + d2, y0 + rise], [-d / 2, y0 + rise]]
    b.add(prism(profile, w, (0.0, 0.0, 0.0)), mats[1])
    if rng.random() < 0.5:
        up = Carcass(rng.uniform(0.5, 1.0), w, d2, y0 + rise, 0.02, *mats, x=-d / 2 + d2 / 2)
        _unit(b, rng, up, int(rng.integers(2, 4)), int(rng.integers(1, 3)), 0.6, True, False)
    _base(b, rng, low, "legs")


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A cabinet: one carcass of many kinds, a hutch, an entertainment centre, stepped units,
    a corner unit, a secretary, open shelving or a chest."""
    b = ShapeBuilder()
    styles = {"single": (_single, 0.52), "hutch": (_hutch, 0.1), "media": (_media_wall, 0.08),
              "combo": (_combo, 0.1), "corner": (_corner, 0.09), "secretary": (_secretary, 0.03),
              "etagere": (_etagere, 0.05), "chest": (_chest, 0.03)}
    style = str(rng.choice(list(styles), p=[w for _, w in styles.values()]))
    b.kind = style
    styles[style][0](b, rng)
    return b
