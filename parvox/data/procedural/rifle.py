"""Rifles and other long guns: hunting rifles, assault rifles, snipers, shotguns, SMGs, muskets,
bullpups, lever actions and light machine guns.

Parts are laid along X around the receiver (x = 0): stock at -X, barrel and muzzle toward +X
(the ShapeNetVox32 rifle sample has its thick stock at -X and thin barrel at +X), +Y up, the
gun's thickness along Z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import rot_z
from .palette import Material
from .primitives import arc_path, box, cylinder, lathe, prism, rounded_box, tube

_TO_X = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # maps +Y onto +X


@dataclass
class Gun:
    """Main dimensions (metres) and materials of one gun."""

    kind: str
    rec_len: float
    rec_h: float
    barrel: float
    bore_r: float
    stock_len: float
    width: float
    metal: Material
    furniture: Material


KINDS = {  # kind: (weight, receiver length, barrel length, stock length)
    "hunting": (0.11, (0.18, 0.26), (0.5, 0.7), (0.3, 0.4)),
    "assault": (0.14, (0.2, 0.3), (0.3, 0.5), (0.22, 0.35)),
    "carbine": (0.08, (0.18, 0.26), (0.18, 0.3), (0.15, 0.3)),
    "sniper": (0.1, (0.22, 0.3), (0.6, 0.85), (0.3, 0.4)),
    "shotgun": (0.08, (0.2, 0.26), (0.3, 0.7), (0.0, 0.38)),
    "smg": (0.12, (0.16, 0.24), (0.1, 0.25), (0.0, 0.3)),
    "musket": (0.05, (0.15, 0.2), (0.9, 1.2), (0.35, 0.45)),
    "bullpup": (0.1, (0.35, 0.5), (0.25, 0.45), (0.0, 0.0)),
    "lever": (0.05, (0.16, 0.22), (0.45, 0.6), (0.3, 0.36)),
    "lmg": (0.08, (0.28, 0.4), (0.45, 0.6), (0.25, 0.35)),
    "launcher": (0.09, (0.3, 0.45), (0.5, 0.8), (0.0, 0.0)),
}


def _sample(rng: np.random.Generator) -> Gun:
    """Pick a kind and its proportions and materials."""
    names = list(KINDS)
    kind = str(rng.choice(names, p=[KINDS[n][0] for n in names]))
    _, rl, bl, sl = KINDS[kind]
    wooden = kind in ("hunting", "musket", "lever") or (kind == "shotgun" and rng.random() < 0.5)
    furniture = pal.wood(rng) if wooden and rng.random() < 0.85 else pal.plastic(rng)
    metal = pal.Material((int(rng.integers(20, 80)),) * 3, 0.6) if rng.random() < 0.8 \
        else pal.metal(rng)
    return Gun(kind, rng.uniform(*rl), rng.uniform(0.05, 0.12), rng.uniform(*bl),
               rng.uniform(0.008, 0.016) * (1.4 if kind == "shotgun" else 1.0),
               rng.uniform(*sl), rng.uniform(0.03, 0.05), metal, furniture)


def _stock(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x0: float) -> None:
    """Butt stock ending at ``x0`` (its front): classic with drop, thumbhole/skeleton, or tube."""
    if g.stock_len <= 0.0:
        return
    sl = g.stock_len
    drop = rng.uniform(0.0, 0.1) if g.kind in ("hunting", "musket", "lever", "shotgun") else \
        rng.uniform(-0.01, 0.03)
    butt = rng.uniform(0.09, 0.22)
    style = rng.choice(["solid", "skeleton", "tube"], p=[0.6, 0.2, 0.2])
    if g.kind in ("hunting", "musket", "lever"):
        style = "solid"
    top = g.rec_h / 2
    poly = [[x0, top], [x0, -g.rec_h * 0.6], [x0 - sl, -drop - butt + top],
            [x0 - sl, top - drop]]
    if style == "solid":
        b.add(prism(poly, g.width, (0, 0, 0)), g.furniture)
    elif style == "skeleton":
        loop = np.array([[x0, top * 0.8, 0], [x0 - sl, top - drop, 0],
                         [x0 - sl, top - drop - butt, 0], [x0 - sl * 0.4, -g.rec_h * 0.5, 0]])
        b.add(tube(loop, 0.012, 6, ref=(0, 0, 1), closed=True), g.furniture)
        b.add(box((0.02, butt, g.width), (x0 - sl, top - drop - butt / 2, 0)), g.furniture)
    else:
        b.add(cylinder((x0, 0.0, 0), (x0 - sl * 0.8, -drop, 0), 0.018, m=10), g.metal)
        b.add(rounded_box((0.04, butt, g.width), 0.01, (x0 - sl * 0.85, -drop - butt * 0.3, 0)),
              g.furniture)


def _grip(b: ShapeBuilder, g: Gun, x: float, mat: Material) -> None:
    """Raked pistol grip under the receiver at ``x`` and a trigger guard in front of it."""
    grip = rounded_box((0.035, 0.11, g.width * 0.8), 0.01, (0, -0.055, 0))
    b.add(grip.rotated(rot_z(0.3)).moved((x, -g.rec_h / 2, 0)), mat)
    guard = arc_path((x + 0.045, -g.rec_h / 2, 0), 0.03, np.pi, 2 * np.pi, 7)
    b.add(tube(guard, 0.004, 5, ref=(0, 0, 1)), g.metal)


def _magazine(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x: float) -> None:
    """Straight, curved (banana), drum or tube magazine under the receiver at ``x``."""
    style = {"assault": ["curved", "straight"], "smg": ["straight"], "lmg": ["drum", "straight"],
             "bullpup": ["straight", "curved"], "shotgun": ["tube"], "lever": ["tube"]}.get(
        g.kind, ["none", "straight"])
    kind = rng.choice(style)
    length = rng.uniform(0.08, 0.3)
    y = -g.rec_h / 2
    if kind == "straight":
        mag = box((0.04, length, g.width * 0.7), (0, -length / 2, 0))
        b.add(mag.rotated(rot_z(rng.uniform(-0.25, 0.0))).moved((x, y, 0)), g.metal)
    elif kind == "curved":
        r = rng.uniform(0.2, 0.35)
        path = arc_path((x + r, y, 0), r, np.pi, np.pi + length / r, 6)
        sec = np.array([[-0.022, -0.35], [0.022, -0.35], [0.022, 0.35], [-0.022, 0.35]]) * [
            1.0, g.width * 0.7 / 0.7]
        b.add(tube(path, 1.0, ref=(0, 0, 1), section=sec), g.metal)
    elif kind == "drum":
        b.add(cylinder((x, y - 0.08, -0.05), (x, y - 0.08, 0.05), 0.08, m=16), g.metal)
    elif kind == "tube":
        x1 = g.rec_len / 2 + g.barrel * rng.uniform(0.6, 0.95)
        b.add(cylinder((g.rec_len / 2, -g.rec_h * 0.15 - g.bore_r * 2, 0),
                       (x1, -g.rec_h * 0.15 - g.bore_r * 2, 0), g.bore_r * 0.9, m=8), g.metal)


def _scope(b: ShapeBuilder, rng: np.random.Generator, g: Gun) -> None:
    """Telescopic sight (a lathe turned onto X) on two rings above the receiver."""
    length = rng.uniform(0.25, 0.4)
    r0, r1 = rng.uniform(0.015, 0.02), rng.uniform(0.022, 0.03)
    prof_r = [r1, r1, r0, r0, r1 * 1.1, r1 * 1.1]
    prof_y = np.array([0.0, 0.15, 0.3, 0.7, 0.85, 1.0]) * length - length / 2
    height = g.rec_h / 2 + rng.uniform(0.035, 0.1)
    scope = lathe(prof_r, prof_y, m=12).rotated(_TO_X).moved((g.rec_len * 0.1, height, 0))
    b.add(scope, pal.Material((25, 25, 28), 0.6))
    for dx in (-0.06, 0.08):
        b.add(box((0.015, height - g.rec_h / 2, 0.02), (dx, (height + g.rec_h / 2) / 2, 0)),
              g.metal)


def _bipod(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x: float) -> None:
    """Two splayed legs folding down from the forend."""
    leg = rng.uniform(0.15, 0.28)
    for s in (-1, 1):
        foot = (x + leg * 0.3, -leg, s * leg * 0.35)
        b.add(cylinder((x, -g.rec_h * 0.2, 0), foot, 0.006, m=5), g.metal)


def _sling(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x0: float, x1: float) -> None:
    """A strap hanging in a sag below the gun between two swivels."""
    sag = rng.uniform(0.06, 0.2)
    t = np.linspace(0.0, 1.0, 9)
    y0 = -g.rec_h * 0.5
    path = np.stack([x0 + (x1 - x0) * t, y0 - sag * 4 * t * (1 - t), np.zeros_like(t)], axis=1)
    sec = np.array([[-0.002, -0.012], [0.002, -0.012], [0.002, 0.012], [-0.002, 0.012]])
    b.add(tube(path, 1.0, ref=(0, 0, 1), section=sec), pal.any_of(rng, pal.leather, pal.fabric))


def _launcher(b: ShapeBuilder, rng: np.random.Generator, g: Gun) -> None:
    """Shoulder-fired launcher: a wide tube with flared ends, grips, sight box and shoulder pad."""
    r = rng.uniform(0.035, 0.06)
    length = g.rec_len + g.barrel
    x0 = -length * rng.uniform(0.45, 0.6)
    prof_r = [r * 1.3, r, r, r * rng.uniform(1.0, 1.6)]
    prof_y = [0.0, 0.08, length - 0.1, length]
    b.add(lathe(prof_r, prof_y, m=14).rotated(_TO_X).moved((x0, 0, 0)), g.furniture)
    for x in (0.0, rng.uniform(0.15, 0.3)):
        grip = rounded_box((0.035, 0.11, 0.03), 0.01, (0, -0.055, 0)).rotated(rot_z(0.25))
        b.add(grip.moved((x, -r, 0)), g.metal)
    b.add(box((0.1, 0.05, 0.03), (0.05, r + 0.03, r * 0.8)), g.metal)
    b.add(box((0.12, 0.06, 0.05), (-0.15, -r - 0.02, 0)), g.furniture)


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A long gun of a random kind."""
    b = ShapeBuilder()
    g = _sample(rng)
    b.kind = g.kind
    if g.kind == "launcher":
        _launcher(b, rng, g)
        return b
    front = g.rec_len / 2
    b.add(rounded_box((g.rec_len, g.rec_h, g.width), 0.01, (0, 0, 0)), g.metal)
    muzzle = front + g.barrel
    b.add(cylinder((front, g.rec_h * 0.15, 0), (muzzle, g.rec_h * 0.15, 0), g.bore_r, m=10),
          g.metal)
    fore = g.barrel * rng.uniform(0.3, 0.9 if g.kind == "musket" else 0.6)
    fh = rng.uniform(0.03, 0.09)
    b.add(rounded_box((fore, fh, g.width * 0.9), 0.01, (front + fore / 2, g.rec_h * 0.1 - 0.01,
                                                         0), axis=0), g.furniture)
    bullpup = g.kind == "bullpup"
    grip_x = g.rec_len * (0.2 if bullpup else -0.25)
    if g.kind in ("assault", "smg", "sniper", "lmg", "bullpup") or rng.random() < 0.2:
        _grip(b, g, grip_x, g.furniture)
    _stock(b, rng, g, -g.rec_len / 2)
    _magazine(b, rng, g, -g.rec_len * 0.3 if bullpup else g.rec_len * 0.15)
    if rng.random() < {"sniper": 0.9, "hunting": 0.7, "lmg": 0.2, "assault": 0.35}.get(g.kind,
                                                                                    0.15):
        _scope(b, rng, g)
    elif g.kind in ("assault", "lmg") and rng.random() < 0.4:
        b.add(box((g.rec_len * 0.6, 0.05, 0.02), (0, g.rec_h / 2 + 0.025, 0)), g.metal)
    if rng.random() < {"sniper": 0.6, "lmg": 0.8}.get(g.kind, 0.06):
        _bipod(b, rng, g, front + fore * 0.8)
    if g.kind in ("assault", "carbine", "lmg", "smg") and rng.random() < 0.5:
        post = rng.uniform(0.04, 0.08)
        xs = front + g.barrel * rng.uniform(0.55, 0.8)
        b.add(prism([[xs - 0.03, g.rec_h * 0.15], [xs + 0.01, g.rec_h * 0.15],
                     [xs, g.rec_h * 0.15 + post]], 0.015), g.metal)
    if rng.random() < 0.25:
        _sling(b, rng, g, -g.rec_len / 2 - g.stock_len * 0.7, front + fore * 0.8)
    if g.kind in ("assault", "carbine") and rng.random() < 0.3:
        gl = rng.uniform(0.2, 0.35)
        y = g.rec_h * 0.1 - fh - 0.02
        b.add(cylinder((front, y, 0), (front + gl, y, 0), rng.uniform(0.02, 0.03), m=10),
              g.metal)
    if g.kind in ("musket", "assault", "hunting") and rng.random() < 0.15:
        tip = muzzle + rng.uniform(0.2, 0.45)
        b.add(prism([[muzzle - 0.05, g.rec_h * 0.15 - 0.01], [tip, g.rec_h * 0.15 - 0.02],
                     [muzzle - 0.05, g.rec_h * 0.15 - 0.03]], 0.004), pal.metal(rng))
    if rng.random() < 0.3:
        b.add(cylinder((muzzle - 0.01, g.rec_h * 0.15, 0), (muzzle + rng.uniform(0.04, 0.2),
                                                            g.rec_h * 0.15, 0),
                       g.bore_r * rng.uniform(1.5, 2.5), m=10), g.metal)
    return b
