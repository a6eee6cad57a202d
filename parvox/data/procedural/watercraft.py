"""Watercraft: sailboats, motorboats, yachts, cargo ships, liners, warships, tugs, canoes,
rowboats, submarines, tall ships and catamarans.

Hulls are lofted from superellipse sections (V to round to boxy) along X with a tapering bow,
a transom or pointed stern and a rising sheer; open boats use a hollow (band) section.
Frame: length along X with the bow toward +X (the ShapeNetVox32 watercraft sample tapers to
+X), beam along Z, +Y up, keel on y = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import Part, loft, place_ring
from .palette import Material
from .primitives import box, box_between, cylinder, lathe, prism, rounded_box

_Z = np.array([0.0, 0.0, 1.0])
_Y = np.array([0.0, 1.0, 0.0])


@dataclass
class Hull:
    """Hull shape: length, beam, depth (keel to deck), section exponent, ends and sheer."""

    L: float
    B: float
    D: float
    n: float  # superellipse exponent: 1 = V, 2 = round, >3 = boxy
    transom: float  # stern half-beam as a fraction of the beam (0 = pointed)
    sheer: float  # deck rise at the bow (fraction of depth)
    bow: float  # fraction of the length over which the bow tapers

    def deck(self, x: float) -> float:
        """Deck height at ``x`` (0 = stern, L = bow); the keel is at y = 0."""
        u = x / self.L
        return self.D * (1.0 + self.sheer * max(u - 0.5, 0.0) ** 2 * 4.0)

    def half_beam(self, x: float) -> float:
        """Half beam at ``x``."""
        u = x / self.L
        stern = self.transom + (1.0 - self.transom) * min(u / 0.3, 1.0) ** 0.5
        bow = max(1.0 - max(u - (1.0 - self.bow), 0.0) / self.bow, 0.0) ** 0.7
        return self.B / 2 * max(min(stern, bow), 0.02)


def _section(hb: float, depth: float, top: float, n: float, wall: float | None) -> np.ndarray:
    """2D (z, y) hull section below the deck line at ``top``; hollow when ``wall`` is given."""
    t = np.linspace(np.pi, 2 * np.pi, 9)
    c, s = np.cos(t), np.sin(t)
    z = hb * np.sign(c) * np.abs(c) ** (2.0 / n)
    y = top + depth * np.sign(s) * np.abs(s) ** (2.0 / n)
    outer = np.stack([z, y], axis=1)
    if wall is None:
        return outer
    k = max(hb - wall, 0.2 * hb) / max(hb, 1e-9)
    kd = max(depth - wall, 0.2 * depth) / max(depth, 1e-9)
    inner = np.stack([z * k, top + (y - top) * kd], axis=1)[::-1]
    return np.vstack([outer, inner])


def hull_part(h: Hull, wall: float | None = None, stations: int = 16) -> Part:
    """Loft the hull from stern (x = -L/2) to bow (x = +L/2)."""
    rings = []
    for x in np.linspace(0.0, h.L, stations):
        top = h.deck(x)
        depth = top * (1.0 - 0.5 * max(x / h.L - 0.8, 0.0) / 0.2)
        sec = _section(h.half_beam(x), depth, top, h.n, wall)
        rings.append(place_ring(sec, np.array([x - h.L / 2, 0.0, 0.0]), _Z, _Y))
    return loft(np.stack(rings))


def _sample_hull(rng: np.random.Generator, kind: str) -> Hull:
    """Hull proportions for a kind of boat."""
    spec = {  # L, B/L, D/L, n, transom, sheer, bow
        "sail": ((8, 14), (0.25, 0.35), (0.08, 0.12), (1.5, 2.5), (0.4, 0.8), (0.1, 0.4),
                 (0.4, 0.6)),
        "motor": ((4, 12), (0.28, 0.45), (0.08, 0.16), (1.2, 1.8), (0.7, 0.95), (0.1, 0.6),
                  (0.3, 0.55)),
        "yacht": ((15, 40), (0.18, 0.25), (0.09, 0.13), (1.6, 2.4), (0.6, 0.9), (0.1, 0.4),
                  (0.3, 0.45)),
        "cargo": ((100, 250), (0.13, 0.17), (0.08, 0.11), (4.0, 8.0), (0.6, 0.9), (0.0, 0.2),
                  (0.15, 0.25)),
        "liner": ((150, 300), (0.11, 0.15), (0.08, 0.1), (3.0, 5.0), (0.6, 0.85), (0.0, 0.2),
                  (0.2, 0.3)),
        "warship": ((100, 200), (0.1, 0.13), (0.07, 0.1), (2.0, 3.0), (0.5, 0.8), (0.1, 0.4),
                    (0.25, 0.4)),
        "tug": ((20, 35), (0.3, 0.38), (0.13, 0.17), (2.5, 3.5), (0.6, 0.85), (0.1, 0.3),
                (0.3, 0.45)),
        "canoe": ((4, 6), (0.14, 0.2), (0.07, 0.1), (1.8, 2.6), (0.0, 0.05), (0.3, 0.8),
                  (0.4, 0.5)),
        "rowboat": ((3, 5), (0.3, 0.4), (0.1, 0.14), (1.6, 2.4), (0.45, 0.7), (0.2, 0.5),
                    (0.4, 0.55)),
        "tallship": ((30, 60), (0.22, 0.3), (0.12, 0.16), (1.8, 2.6), (0.6, 0.85), (0.3, 0.8),
                     (0.25, 0.4)),
        "catamaran": ((8, 15), (0.08, 0.1), (0.08, 0.1), (1.5, 2.2), (0.2, 0.6), (0.0, 0.2),
                      (0.4, 0.6)),
        "houseboat": ((10, 20), (0.3, 0.4), (0.06, 0.09), (5.0, 9.0), (0.85, 1.0), (0.0, 0.1),
                      (0.1, 0.2)),
        "carrier": ((200, 330), (0.11, 0.14), (0.08, 0.1), (2.0, 3.0), (0.6, 0.8), (0.0, 0.2),
                    (0.25, 0.35)),
    }[kind]
    length = rng.uniform(*spec[0])
    return Hull(length, length * rng.uniform(*spec[1]), length * rng.uniform(*spec[2]),
                rng.uniform(*spec[3]), rng.uniform(*spec[4]), rng.uniform(*spec[5]),
                rng.uniform(*spec[6]))


def _sails(b: ShapeBuilder, rng: np.random.Generator, h: Hull, mast_x: float, mast_h: float,
           sail: Material, wood: Material) -> None:
    """Mast, boom, triangular mainsail and jib."""
    deck = h.deck(mast_x + h.L / 2)
    b.add(cylinder((mast_x, deck, 0), (mast_x, deck + mast_h, 0), h.L * 0.008, m=8), wood)
    boom = h.L * rng.uniform(0.3, 0.45)
    yb = deck + mast_h * 0.08
    b.add(cylinder((mast_x, yb, 0), (mast_x - boom, yb, 0), h.L * 0.005, m=6), wood)
    t = h.L * 0.004
    b.add(prism([[mast_x, yb], [mast_x - boom, yb], [mast_x - 0.05, deck + mast_h * 0.97]], t),
          sail)
    if rng.random() < 0.8:
        bow = h.L / 2 - h.L * 0.03
        b.add(prism([[mast_x + 0.1, deck + mast_h * 0.85], [mast_x + 0.1, yb],
                     [bow, h.deck(h.L * 0.97) + 0.2]], t), sail)


def _keel(b: ShapeBuilder, h: Hull, depth: float, mat: Material) -> None:
    """Fin keel with bulb and a rudder below the hull."""
    chord = h.L * 0.15
    b.add(prism([[0.05 * h.L, 0.02], [-chord + 0.05 * h.L, 0.02], [-chord * 0.8 + 0.05 * h.L,
                                                                     -depth],
                 [0.05 * h.L - chord * 0.3, -depth]], h.B * 0.04), mat)
    b.add(prism([[-h.L * 0.42, 0.05], [-h.L * 0.48, 0.05], [-h.L * 0.47, -depth * 0.6],
                 [-h.L * 0.43, -depth * 0.6]], h.B * 0.03), mat)


def _superstructure(b: ShapeBuilder, rng: np.random.Generator, h: Hull, x0: float, x1: float,
                    tiers: int, tier_h: float, mat: Material, glass: Material) -> float:
    """Stacked deckhouse tiers between ``x0`` and ``x1`` (shrinking upward); returns top y."""
    y = h.deck((x0 + x1) / 2 + h.L / 2)
    for k in range(tiers):
        shrink = 1.0 - 0.15 * k
        xa, xb = x0 + (x1 - x0) * (1 - shrink) * 0.7, x1 - (x1 - x0) * (1 - shrink) * 0.3
        w = min(h.half_beam((xa + xb) / 2 + h.L / 2), h.half_beam(xa + h.L / 2)) * 2 * 0.85
        w *= shrink
        b.add(rounded_box((xb - xa, tier_h, w), tier_h * 0.2, ((xa + xb) / 2, y + tier_h / 2, 0),
                          axis=2), mat)
        b.add(box((0.02 * h.L, tier_h * 0.35, w * 1.01), (xb - 0.01 * h.L, y + tier_h * 0.6, 0)),
              glass)
        y += tier_h
    del rng
    return y


def _funnels(b: ShapeBuilder, rng: np.random.Generator, h: Hull, x: float, y: float,
             n: int, mat: Material) -> None:
    """Raked funnels on top of a superstructure."""
    r = h.B * rng.uniform(0.08, 0.15)
    fh = h.D * rng.uniform(0.6, 1.4)
    for k in range(n):
        xc = x - k * r * 3.2
        b.add(cylinder((xc, y - 0.1, 0), (xc - fh * 0.2, y + fh, 0), r, r * 0.9, m=12,
                       aspect=0.7), mat)


def _ship(b: ShapeBuilder, rng: np.random.Generator, kind: str, h: Hull,
          paint: Material) -> None:
    """Cargo ship, liner, warship or tug superstructure and deck gear."""
    white = pal.Material((235, 235, 232), 0.4)
    glass = pal.glass(rng)
    dark = pal.Material((45, 45, 50), 0.3)
    if kind == "cargo":
        top = _superstructure(b, rng, h, -h.L / 2 + 0.02 * h.L, -h.L * 0.36,
                              int(rng.integers(2, 7)), h.D * rng.uniform(0.25, 0.5), white, glass)
        _funnels(b, rng, h, -h.L * 0.45, top, 1, paint)
        if rng.random() < 0.5:
            _mast(b, h, -h.L * 0.42, top, h.D * rng.uniform(0.5, 3.5), white)
        _cargo_deck(b, rng, h, paint)
    elif kind == "liner":
        tiers = int(rng.integers(2, 9))
        tier_h = h.D * rng.uniform(0.2, 0.45)
        x0, x1 = -h.L * rng.uniform(0.25, 0.45), h.L * rng.uniform(0.0, 0.3)
        top = _superstructure(b, rng, h, x0, x1, tiers, tier_h, white, glass)
        _funnels(b, rng, h, -h.L * 0.05, top, int(rng.integers(1, 4)), paint)
    elif kind == "warship":
        top = _superstructure(b, rng, h, -h.L * 0.15, h.L * 0.12, int(rng.integers(1, 5)),
                              h.D * rng.uniform(0.3, 0.6), paint, glass)
        _mast(b, h, 0.0, top, h.D * rng.uniform(0.8, 3.0), paint)
        _funnels(b, rng, h, -h.L * 0.18, top - h.D * 0.3, int(rng.integers(1, 3)), paint)
        for x in (h.L * 0.28, -h.L * 0.32):
            y = h.deck(x + h.L / 2)
            b.add(rounded_box((h.B * 0.3, h.D * 0.3, h.B * 0.3), h.B * 0.05,
                              (x, y + h.D * 0.15, 0)), paint)
            sign = 1 if x > 0 else -1
            b.add(cylinder((x, y + h.D * 0.2, 0), (x + sign * h.B * 0.6, y + h.D * 0.25, 0),
                           h.B * 0.02, m=6), dark)
    else:
        top = _superstructure(b, rng, h, -h.L * 0.1, h.L * 0.2, int(rng.integers(1, 4)),
                              h.D * rng.uniform(0.4, 0.8), white, glass)
        _funnels(b, rng, h, -h.L * 0.15, top - h.D * 0.4, 1, paint)
        if rng.random() < 0.6:
            _mast(b, h, h.L * 0.05, top, h.D * rng.uniform(0.5, 2.0), paint)


def _cargo_deck(b: ShapeBuilder, rng: np.random.Generator, h: Hull, paint: Material) -> None:
    """A cargo ship's deck ahead of the bridge: up to three crane posts and rows of container
    stacks (a quarter of the rows empty)."""
    for k in range(int(rng.integers(0, 4))):
        xc = h.L * (0.3 - 0.22 * k)
        b.add(cylinder((xc, h.D, h.B * 0.4), (xc, h.D * 2.6, h.B * 0.4), h.B * 0.03, m=6),
              paint)
    box_h = h.D * rng.uniform(0.3, 0.9)
    x0, x1 = -h.L * 0.34, h.L * 0.35
    n = int(rng.integers(3, 9))
    for k in range(n):
        if rng.random() < 0.25:
            continue
        xa = x0 + (x1 - x0) * k / n
        w = h.B * 0.85 * (1.0 if xa < h.L * 0.2 else 0.7)
        hk = box_h * rng.uniform(0.6, 1.0)
        b.add(box_between((xa, h.D * 0.95, -w / 2), (xa + (x1 - x0) / n * 0.95,
                                                      h.D + hk, w / 2)), pal.paint(rng))


def _small_boat(b: ShapeBuilder, rng: np.random.Generator, kind: str, h: Hull) -> None:
    """Thwarts/seats of open boats, windshield/console/outboard of motorboats."""
    wood = pal.wood(rng)
    if kind in ("canoe", "rowboat"):
        for frac in np.linspace(-0.25, 0.25, 3 if kind == "rowboat" else 2):
            x = frac * h.L
            w = h.half_beam(x + h.L / 2) * 1.9
            b.add(box((h.L * 0.04, h.D * 0.08, w), (x, h.deck(x + h.L / 2) * 0.75, 0)), wood)
        return
    glass = pal.glass(rng)
    x = h.L * rng.uniform(-0.15, 0.1)
    top = h.deck(x + h.L / 2)
    w = h.half_beam(x + h.L / 2) * 1.5
    style = rng.choice(["open", "cabin", "ttop", "tower"])
    white = pal.Material((235, 235, 232), 0.4)
    if style == "cabin":
        ch = h.D * rng.uniform(0.5, 1.2)
        b.add(rounded_box((h.L * rng.uniform(0.25, 0.45), ch, w), h.D * 0.2,
                          (x, top + ch / 2, 0)), white)
    elif style in ("ttop", "tower"):
        mh = h.D * (rng.uniform(1.2, 2.0) if style == "ttop" else rng.uniform(2.5, 4.5))
        for sx in (-1, 1):
            for sz in (-1, 1):
                b.add(cylinder((x + sx * h.L * 0.06, top, sz * w * 0.35),
                               (x + sx * h.L * 0.05, top + mh, sz * w * 0.3), h.L * 0.004, m=4),
                      pal.metal(rng))
        b.add(box((h.L * 0.16, h.D * 0.06, w * 0.8), (x, top + mh, 0)), white)
    b.add(prism([[x + h.L * 0.12, top], [x + h.L * 0.04, top + h.D * 0.9], [x + h.L * 0.02,
                                                                            top]], w), glass)
    b.add(box((h.L * 0.05, h.D * 0.9, h.B * 0.12), (-h.L / 2 - h.L * 0.02, top - h.D * 0.1, 0)),
          pal.plastic(rng))


def _mast(b: ShapeBuilder, h: Hull, x: float, y: float, height: float, mat: Material) -> None:
    """Radar/signal mast with a yard arm."""
    b.add(cylinder((x, y - 0.01 * h.L, 0), (x, y + height, 0), h.B * 0.02, h.B * 0.01, m=6), mat)
    b.add(box((h.L * 0.01, h.L * 0.005, h.B * 0.5), (x, y + height * 0.8, 0)), mat)


def _houseboat(b: ShapeBuilder, rng: np.random.Generator, h: Hull) -> None:
    """Flat pontoon hull carrying a big boxy house with a flat or pitched roof."""
    house = pal.any_of(rng, pal.painted, pal.wood)
    hl, hw = h.L * rng.uniform(0.55, 0.8), h.B * rng.uniform(0.75, 0.95)
    hh = h.B * rng.uniform(0.4, 0.8)
    x = h.L * rng.uniform(-0.15, 0.0)
    b.add(box((hl, hh, hw), (x, h.D + hh / 2, 0)), house)
    b.add(box((hl * 0.9, hh * 0.25, hw * 1.01), (x, h.D + hh * 0.6, 0)), pal.glass(rng))
    if rng.random() < 0.5:
        roof = prism([[-hw * 0.6, 0], [hw * 0.6, 0], [0, hh * 0.5]], hl * 1.05, (0, 0, 0))
        rot = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
        b.add(roof.rotated(rot).moved((x, h.D + hh, 0)), pal.painted(rng))


def _carrier(b: ShapeBuilder, rng: np.random.Generator, h: Hull, paint: Material) -> None:
    """Aircraft carrier: flight deck overhanging the hull and an island on the starboard side."""
    deck_w = h.B * rng.uniform(1.4, 1.8)
    y = h.D
    b.add(box((h.L * 1.02, h.D * 0.12, deck_w), (0.02 * h.L, y + h.D * 0.06, deck_w * 0.12)),
          paint)
    ih = h.D * rng.uniform(0.8, 1.6)
    ix = h.L * rng.uniform(-0.1, 0.15)
    b.add(box((h.L * 0.12, ih, h.B * 0.15), (ix, y + ih / 2, deck_w * 0.55)), paint)
    b.add(cylinder((ix, y + ih, deck_w * 0.55), (ix, y + ih * 1.6, deck_w * 0.55), h.B * 0.01,
                   m=6), paint)


def _submarine(b: ShapeBuilder, rng: np.random.Generator, paint: Material) -> None:
    """Cigar hull (a lathe turned onto X), sail tower with planes, cruciform stern fins."""
    length = rng.uniform(50, 120)
    r = length * rng.uniform(0.05, 0.08)
    u = np.linspace(0.0, 1.0, 14)
    radius = r * np.clip(np.minimum((1 - u) / 0.15, u / 0.35), 0.05, 1.0) ** 0.6
    hull = lathe(radius, u * length - length / 2, m=16)
    rot = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    b.add(Part(hull.vertices @ rot.T, hull.faces.copy()).moved((0, r, 0)), paint)
    sx = length * rng.uniform(0.05, 0.2)
    sh = r * rng.uniform(0.8, 1.6)
    b.add(rounded_box((length * 0.12, sh, r * 0.35), r * 0.15, (sx, r * 1.8 + sh / 2 - r * 0.3,
                                                                 0)), paint)
    b.add(box((length * 0.04, r * 0.05, r * 1.4), (sx, r * 1.8 + sh * 0.5, 0)), paint)
    x = -length / 2 + length * 0.06
    b.add(box((length * 0.06, r * 0.08, r * 2.2), (x, r, 0)), paint)
    b.add(box((length * 0.06, r * 2.2, r * 0.08), (x, r, 0)), paint)


def _tallship(b: ShapeBuilder, rng: np.random.Generator, h: Hull, wood: Material) -> None:
    """Two or three masts with stacked square sails and a bowsprit."""
    sail = pal.light(rng)
    n = int(rng.integers(2, 4))
    mast_h = h.L * rng.uniform(0.6, 0.9)
    for k in range(n):
        x = h.L * (0.25 - 0.5 * k / max(n - 1, 1))
        deck = h.deck(x + h.L / 2)
        b.add(cylinder((x, deck, 0), (x, deck + mast_h * (1 - 0.1 * k), 0), h.L * 0.01, m=8),
              wood)
        for j in range(int(rng.integers(2, 4))):
            y = deck + mast_h * (0.3 + 0.22 * j)
            w = h.B * (1.3 - 0.25 * j)
            b.add(box((h.L * 0.01, mast_h * 0.18, w), (x + h.L * 0.01, y, 0)), sail)
    bow = h.L / 2
    b.add(cylinder((bow - h.L * 0.05, h.deck(h.L), 0), (bow + h.L * 0.15, h.deck(h.L) + h.D, 0),
                   h.L * 0.006, m=6), wood)


def _catamaran(b: ShapeBuilder, rng: np.random.Generator, h: Hull, paint: Material) -> None:
    """Two hulls joined by a deck, with a mast and sail or a cabin."""
    gap = h.L * rng.uniform(0.2, 0.3)
    hull = hull_part(h)
    for s in (-1, 1):
        b.add(hull.moved((0, 0, s * gap)), paint)
    b.add(box((h.L * 0.6, h.D * 0.2, 2 * gap), (-h.L * 0.05, h.D * 1.05, 0)), paint)
    if rng.random() < 0.6:
        _sails(b, rng, h, h.L * 0.05, h.L * rng.uniform(0.9, 1.3), pal.light(rng),
               pal.metal(rng))
    else:
        b.add(rounded_box((h.L * 0.35, h.D * 0.8, gap * 1.6), h.D * 0.2, (-h.L * 0.05, h.D * 1.5,
                                                                         0)),
              pal.Material((235, 235, 232), 0.4))


KINDS = ["sail", "motor", "yacht", "cargo", "liner", "warship", "tug", "canoe", "rowboat",
         "submarine", "tallship", "catamaran", "houseboat", "carrier"]
WEIGHTS = [0.2, 0.1, 0.08, 0.05, 0.05, 0.06, 0.04, 0.07, 0.06, 0.06, 0.08, 0.07, 0.05, 0.03]


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A boat or ship of a random kind."""
    b = ShapeBuilder()
    kind = str(rng.choice(KINDS, p=WEIGHTS))
    b.kind = kind
    paint = pal.any_of(rng, pal.paint, pal.painted, pal.wood)
    if kind == "submarine":
        _submarine(b, rng, pal.any_of(rng, pal.painted, pal.metal))
        return b
    h = _sample_hull(rng, kind)
    if kind == "catamaran":
        _catamaran(b, rng, h, paint)
        return b
    hollow = kind in ("canoe", "rowboat")
    b.add(hull_part(h, wall=h.D * 0.08 if hollow else None), paint)
    if kind == "sail":
        _keel(b, h, h.D * rng.uniform(0.6, 1.5), paint)
        _sails(b, rng, h, h.L * rng.uniform(0.0, 0.15), h.L * rng.uniform(0.9, 1.5),
               pal.light(rng), pal.metal(rng))
        if rng.random() < 0.7:
            b.add(rounded_box((h.L * 0.3, h.D * 0.4, h.B * 0.5), h.D * 0.1,
                              (-h.L * 0.08, h.D * 1.15, 0)), pal.painted(rng))
    elif kind in ("motor", "canoe", "rowboat"):
        _small_boat(b, rng, kind, h)
    elif kind == "yacht":
        top = _superstructure(b, rng, h, -h.L * rng.uniform(0.2, 0.4), h.L * rng.uniform(0.05, 0.3),
                              int(rng.integers(1, 5)), h.D * rng.uniform(0.4, 0.9),
                              pal.Material((235, 235, 232), 0.4), pal.glass(rng))
        if rng.random() < 0.5:
            _mast(b, h, -h.L * 0.05, top, h.D * rng.uniform(0.8, 3.5), pal.metal(rng))
    elif kind == "tallship":
        _tallship(b, rng, h, pal.wood(rng))
    elif kind == "houseboat":
        _houseboat(b, rng, h)
    elif kind == "carrier":
        _carrier(b, rng, h, paint)
    else:
        _ship(b, rng, kind, h, paint)
    return b
