"""Rifles and other long guns: hunting rifles, assault rifles, carbines, snipers, shotguns,
SMGs, muskets, bullpups, lever actions, light machine guns and shoulder-fired launchers.

Parts are laid along X around the receiver (x = 0): stock at -X, barrel and muzzle toward +X
(the ShapeNetVox32 rifle sample has its thick stock at -X and thin barrel at +X), +Y up, the
gun's thickness along Z.  The bore line sits at a sampled height on the receiver, and what hangs
below it (grips, magazines of many lengths, drums, bipods, foregrips, under-barrel launchers) and
what rises above it (scopes on low or tall mounts, carry handles, top or pan magazines, cheek
rests) is chosen per gun, so the barrel's height within the bounding box varies a lot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import rot_z
from .palette import Material
from .primitives import arc_path, box, box_between, cylinder, disc, lathe, prism, rounded_box, tube

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
    bore_y: float  # height of the bore line (receiver centre at y = 0)
    metal: Material
    furniture: Material


KINDS = {  # kind: (weight, receiver length, barrel length, stock length)
    "hunting": (0.1, (0.18, 0.26), (0.45, 0.7), (0.3, 0.4)),
    "assault": (0.13, (0.2, 0.32), (0.28, 0.5), (0.2, 0.35)),
    "carbine": (0.1, (0.18, 0.26), (0.18, 0.32), (0.15, 0.3)),
    "sniper": (0.1, (0.22, 0.32), (0.55, 0.9), (0.28, 0.4)),
    "shotgun": (0.09, (0.18, 0.26), (0.3, 0.7), (0.0, 0.38)),
    "smg": (0.13, (0.16, 0.26), (0.08, 0.25), (0.0, 0.3)),
    "musket": (0.04, (0.15, 0.2), (0.85, 1.2), (0.35, 0.45)),
    "bullpup": (0.08, (0.4, 0.55), (0.2, 0.45), (0.0, 0.0)),
    "lever": (0.05, (0.16, 0.22), (0.4, 0.6), (0.3, 0.36)),
    "lmg": (0.1, (0.28, 0.42), (0.4, 0.65), (0.22, 0.35)),
    "launcher": (0.09, (0.3, 0.45), (0.5, 0.8), (0.0, 0.0)),
}

_WOODEN = ("hunting", "musket", "lever")


def _sample(rng: np.random.Generator) -> Gun:
    """Pick a kind and its proportions and materials."""
    names = list(KINDS)
    w = np.array([KINDS[n][0] for n in names])
    kind = str(rng.choice(names, p=w / w.sum()))
    _, rl, bl, sl = KINDS[kind]
    wooden = kind in _WOODEN or (kind == "shotgun" and rng.random() < 0.5)
    furniture = pal.wood(rng) if wooden and rng.random() < 0.85 else pal.plastic(rng)
    metal = pal.Material((int(rng.integers(20, 80)),) * 3, 0.6) if rng.random() < 0.8 \
        else pal.metal(rng)
    rec_h = rng.uniform(0.045, 0.15) if kind not in ("musket", "lever") else rng.uniform(0.04, 0.07)
    bore_r = rng.uniform(0.008, 0.016) * (1.4 if kind == "shotgun" else 1.0)
    if kind == "sniper" and rng.random() < 0.5:
        bore_r *= 1.4  # heavy barrel
    width = rng.uniform(0.025, 0.08) if kind not in _WOODEN else rng.uniform(0.025, 0.045)
    return Gun(kind, rng.uniform(*rl), rec_h, rng.uniform(*bl), bore_r, rng.uniform(*sl), width,
               rec_h * rng.uniform(-0.3, 0.4), metal, furniture)


def _stock(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x0: float) -> str:
    """Butt stock ending at ``x0`` (its front); returns its style.

    Styles: solid (with drop, optionally a cheek rest), skeleton/thumbhole frame, collapsible
    tube, folded alongside the receiver, or none.
    """
    if g.stock_len <= 0.0:
        return "none"
    sl = g.stock_len
    if g.kind in ("hunting", "musket", "lever", "shotgun"):
        drop = rng.uniform(0.0, 0.12)
    else:
        drop = rng.uniform(-0.02, 0.05)
    butt = rng.uniform(0.09, 0.2)
    styles = ["solid", "skeleton", "tube", "folded"]
    p = {"assault": [0.35, 0.2, 0.25, 0.2], "carbine": [0.25, 0.2, 0.35, 0.2],
         "smg": [0.2, 0.25, 0.25, 0.3], "sniper": [0.55, 0.35, 0.1, 0.0],
         "lmg": [0.6, 0.25, 0.15, 0.0], "shotgun": [0.7, 0.1, 0.1, 0.1]}.get(g.kind)
    style = "solid" if p is None else str(rng.choice(styles, p=p))
    top = g.rec_h / 2
    if style == "folded":  # side-folder: the stock frame lies along the receiver's right side
        z = g.width / 2 + 0.012
        fl = min(sl, g.rec_len + 0.15)
        loop = np.array([[x0, top * 0.6, z], [x0 + fl, top * 0.6, z],
                         [x0 + fl, top * 0.6 - butt * 0.7, z], [x0, -g.rec_h * 0.4, z]])
        b.add(tube(loop, 0.01, 6, ref=(0, 0, 1), closed=True), g.metal)
        b.add(box((0.025, 0.03, 0.02), (x0 - 0.012, 0.0, z * 0.6)), g.metal)
        return style
    if style == "tube":
        yb = g.bore_y * 0.5
        b.add(cylinder((x0, yb, 0), (x0 - sl * 0.85, yb - drop, 0), 0.018, m=10), g.metal)
        b.add(rounded_box((0.05, butt, g.width), 0.01, (x0 - sl * 0.85, yb - drop - butt * 0.3, 0)),
              g.furniture)
        return style
    poly = [[x0, top], [x0, -g.rec_h * 0.6], [x0 - sl, -drop - butt + top],
            [x0 - sl, top - drop]]
    if style == "solid":
        b.add(prism(poly, g.width, (0, 0, 0)), g.furniture)
    else:
        loop = np.array([[x0, top * 0.8, 0], [x0 - sl, top - drop, 0],
                         [x0 - sl, top - drop - butt, 0], [x0 - sl * 0.4, -g.rec_h * 0.5, 0]])
        b.add(tube(loop, rng.uniform(0.01, 0.016), 6, ref=(0, 0, 1), closed=True), g.furniture)
        b.add(box((0.025, butt, g.width), (x0 - sl, top - drop - butt / 2, 0)), g.furniture)
    if g.kind == "sniper" or rng.random() < 0.15:  # raised cheek rest
        ch = rng.uniform(0.02, 0.06)
        cx = x0 - sl * 0.5
        yt = top - drop * 0.5
        b.add(box((sl * 0.4, ch, g.width * 0.9), (cx, yt + ch / 2 - 0.005, 0)), g.furniture)
    if g.kind == "sniper" and rng.random() < 0.35:  # monopod under the butt
        mh = rng.uniform(0.06, 0.15)
        yb = top - drop - butt
        b.add(cylinder((x0 - sl * 0.8, yb + 0.01, 0), (x0 - sl * 0.8, yb - mh, 0), 0.008, m=6),
              g.metal)
    return style


def _grip(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x: float, mat: Material) -> None:
    """Raked pistol grip under the receiver at ``x`` and a trigger guard in front of it."""
    h = rng.uniform(0.09, 0.14)
    grip = rounded_box((0.035, h, g.width * 0.8), 0.01, (0, -h / 2, 0))
    b.add(grip.rotated(rot_z(rng.uniform(0.15, 0.4))).moved((x, -g.rec_h / 2 + 0.005, 0)), mat)
    guard = arc_path((x + 0.045, -g.rec_h / 2, 0), 0.03, np.pi, 2 * np.pi, 7)
    b.add(tube(guard, 0.004, 5, ref=(0, 0, 1)), g.metal)


def _magazine(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x: float) -> str:
    """Magazine near ``x``: straight, curved (banana), drum, tube, top, pan, side or none."""
    choices = {"assault": (["curved", "straight", "drum", "none"], [0.5, 0.35, 0.05, 0.1]),
               "carbine": (["straight", "curved", "none"], [0.55, 0.25, 0.2]),
               "smg": (["straight", "side", "top", "drum"], [0.55, 0.2, 0.1, 0.15]),
               "lmg": (["drum", "straight", "top", "pan", "none"],
                [0.25, 0.15, 0.15, 0.15, 0.3]),
               "bullpup": (["straight", "curved"], [0.6, 0.4]),
               "shotgun": (["tube", "straight"], [0.85, 0.15]),
               "lever": (["tube"], [1.0]),
               "sniper": (["none", "straight"], [0.5, 0.5])}
    names, p = choices.get(g.kind, (["none", "straight"], [0.6, 0.4]))
    kind = str(rng.choice(names, p=p))
    length = rng.uniform(0.06, 0.32 if g.kind in ("assault", "smg", "lmg", "bullpup") else 0.14)
    y = -g.rec_h / 2
    mw = min(g.width * 0.75, 0.035)
    if kind == "straight":
        mag = box((rng.uniform(0.03, 0.05), length, mw), (0, -length / 2 + 0.01, 0))
        b.add(mag.rotated(rot_z(rng.uniform(-0.3, 0.0))).moved((x, y, 0)), g.metal)
    elif kind == "curved":
        r = rng.uniform(0.2, 0.35)
        path = arc_path((x + r, y + 0.01, 0), r, np.pi, np.pi + length / r, 6)
        sec = np.array([[-0.022, -mw / 2], [0.022, -mw / 2], [0.022, mw / 2], [-0.022, mw / 2]])
        b.add(tube(path, 1.0, ref=(0, 0, 1), section=sec), g.metal)
    elif kind == "drum":
        r = rng.uniform(0.05, 0.1)
        b.add(box((0.04, 0.04, mw), (x, y - 0.015, 0)), g.metal)
        b.add(disc((x, y - r - 0.02, 0), r, rng.uniform(0.05, 0.09), axis=2, m=16), g.metal)
    elif kind == "tube":
        x1 = g.rec_len / 2 + g.barrel * rng.uniform(0.6, 0.95)
        yt = g.bore_y - g.bore_r * 2.2
        b.add(cylinder((g.rec_len / 2 - 0.01, yt, 0), (x1, yt, 0), g.bore_r * 0.9, m=8), g.metal)
    elif kind == "top":  # Bren/Owen style: the magazine stands on the receiver
        mag = box((0.04, length, mw), (0, length / 2 - 0.01, 0))
        b.add(mag.rotated(rot_z(rng.uniform(-0.35, 0.0))).moved((x, g.rec_h / 2, 0)), g.metal)
    elif kind == "pan":  # DP/Lewis style flat pan on top
        r = rng.uniform(0.1, 0.14)
        b.add(disc((x, g.rec_h / 2 + 0.03, 0), r, rng.uniform(0.025, 0.04), axis=1, m=18),
              g.metal)
        b.add(cylinder((x, g.rec_h / 2 - 0.01, 0), (x, g.rec_h / 2 + 0.02, 0), 0.02, m=8),
              g.metal)
    elif kind == "side":  # Sten/Sterling style: sticks out of the left side
        b.add(box((0.045, 0.03, length + g.width / 2), (x, g.bore_y,
                                                        -(length + g.width / 2) / 2)), g.metal)
    return kind


def _scope(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x: float,
           base: float = 0.0) -> None:
    """Telescopic sight (a lathe turned onto X) on low or tall rings above the receiver (or
    ``base`` higher, on a carry handle or riser)."""
    length = rng.uniform(0.2, 0.42)
    r0, r1 = rng.uniform(0.013, 0.02), rng.uniform(0.02, 0.04)
    prof_r = [r1 * 0.9, r1 * 0.9, r0, r0, r0, r1 * 1.2, r1 * 1.2]
    prof_y = np.array([0.0, 0.12, 0.25, 0.5, 0.65, 0.85, 1.0]) * length - length / 2
    height = g.rec_h / 2 + r1 + rng.uniform(0.01, 0.09) + base
    scope = lathe(prof_r, prof_y, m=12).rotated(_TO_X).moved((x, height, 0))
    b.add(scope, pal.Material((25, 25, 28), 0.6))
    if rng.random() < 0.5:  # elevation and windage turrets
        b.add(cylinder((x, height, 0), (x, height + r0 + rng.uniform(0.015, 0.03), 0), 0.012,
                       m=8), pal.Material((25, 25, 28), 0.6))
        b.add(cylinder((x, height, 0), (x, height, r0 + rng.uniform(0.015, 0.04)), 0.012, m=8),
              pal.Material((25, 25, 28), 0.6))
    for dx in (-length * 0.22, length * 0.22):
        b.add(box((0.02, height - g.rec_h / 2, 0.02), (x + dx, (height + g.rec_h / 2) / 2, 0)),
              g.metal)


def _top(b: ShapeBuilder, rng: np.random.Generator, g: Gun, has_top_mag: bool) -> None:
    """Sighting on top: scope, red dot, carry handle, iron sights or a rail."""
    p_scope = {"sniper": 0.9, "hunting": 0.65, "lmg": 0.2, "assault": 0.3, "carbine": 0.25,
               "bullpup": 0.35}.get(g.kind, 0.12)
    r = rng.random()
    top = g.rec_h / 2
    if has_top_mag:
        return
    if r < p_scope:
        _scope(b, rng, g, g.rec_len * rng.uniform(-0.1, 0.2))
    elif g.kind in ("assault", "carbine", "lmg", "bullpup") and r < p_scope + 0.3:
        ch = rng.uniform(0.035, 0.1)  # carry handle on two posts, with a rear sight
        hl = g.rec_len * rng.uniform(0.45, 0.8)
        for dx in (-hl / 2 + 0.015, hl / 2 - 0.015):
            b.add(box((0.03, ch, 0.022), (dx, top + ch / 2 - 0.005, 0)), g.metal)
        b.add(box((hl, 0.018, 0.026), (0, top + ch, 0)), g.metal)
        b.add(box((0.025, 0.02, 0.02), (-hl / 2 + 0.02, top + ch + 0.018, 0)), g.metal)
        if rng.random() < 0.35:  # optic mounted on the handle
            _scope(b, rng, g, 0.0, ch + 0.005)
    elif r < p_scope + 0.45:  # red dot on a rail
        b.add(box((g.rec_len * 0.8, 0.012, 0.024), (0, top + 0.005, 0)), g.metal)
        b.add(rounded_box((0.06, 0.045, 0.035), 0.01, (g.rec_len * 0.1, top + 0.03, 0), axis=0),
              pal.Material((25, 25, 28), 0.6))


def _handle(b: ShapeBuilder, rng: np.random.Generator, g: Gun) -> None:
    """Bolt handle (bolt actions, on the right) or a charging handle (either side)."""
    bolt = {"hunting": 0.85, "sniper": 0.85, "carbine": 0.2, "lmg": 0.1}.get(g.kind, 0.0)
    if rng.random() < bolt:
        reach = rng.uniform(0.04, 0.09)
        side = -1.0 if rng.random() < 0.15 else 1.0  # left-handed actions exist
        x = -g.rec_len * rng.uniform(0.1, 0.35)
        p0 = np.array([x, g.bore_y, side * (g.width / 2 - 0.005)])
        p1 = p0 + [-0.01, -rng.uniform(0.0, 0.04), side * reach]
        b.add(cylinder(p0, p1, 0.006, m=6), g.metal)
        b.add(cylinder(p1 - [0, 0, 0.012], p1 + [0, 0, 0.012], 0.011, m=8), g.metal)
    elif g.kind in ("musket", "lever") or (g.kind in ("hunting", "shotgun")
                                           and rng.random() < 0.15):
        # exposed hammer: a side lock (flintlock, percussion) or on top (lever action)
        x = -g.rec_len * rng.uniform(0.1, 0.4)
        side = g.kind != "lever" and rng.random() < 0.8
        z = g.width / 2 + (rng.uniform(0.005, 0.03) if side else -g.width / 2)
        if side:
            b.add(box((0.1, 0.03, z), (x, g.bore_y - 0.005, z / 2)), g.metal)
        b.add(prism([[x - 0.015, g.bore_y], [x + 0.005, g.bore_y], [x - 0.03, g.bore_y + 0.04]],
                     0.01, (0, 0, z)), g.metal)
    elif g.kind in ("assault", "carbine", "smg", "lmg", "bullpup", "shotgun") and \
            rng.random() < 0.6:
        side = 1.0 if rng.random() < 0.5 else -1.0
        reach = rng.uniform(0.02, 0.06)
        x = g.rec_len * rng.uniform(-0.2, 0.45)
        z0, z1 = sorted((side * (g.width / 2 - 0.005), side * (g.width / 2 + reach)))
        b.add(box_between((x - 0.01, g.bore_y - 0.007, z0), (x + 0.01, g.bore_y + 0.007, z1)),
              g.metal)


def _bipod(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x: float, y: float) -> None:
    """Two legs from the forend: deployed (splayed down) or folded forward under the barrel."""
    leg = rng.uniform(0.15, 0.35)
    if rng.random() < 0.75:
        for s in (-1, 1):
            foot = (x + leg * 0.25, y - leg, s * leg * 0.35)
            b.add(cylinder((x, y, 0), foot, 0.007, m=5), g.metal)
    else:
        for s in (-1, 1):
            b.add(cylinder((x, y, s * 0.012), (x + leg, y - 0.01, s * 0.012), 0.007, m=5),
                  g.metal)


def _sling(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x0: float, x1: float) -> None:
    """A strap hanging in a sag below the gun between two swivels."""
    sag = rng.uniform(0.06, 0.3)
    t = np.linspace(0.0, 1.0, 9)
    y0 = -g.rec_h * 0.5
    path = np.stack([x0 + (x1 - x0) * t, y0 - sag * 4 * t * (1 - t), np.zeros_like(t)], axis=1)
    sec = np.array([[-0.002, -0.012], [0.002, -0.012], [0.002, 0.012], [-0.002, 0.012]])
    b.add(tube(path, 1.0, ref=(0, 0, 1), section=sec), pal.any_of(rng, pal.leather, pal.fabric))


def _launcher(b: ShapeBuilder, rng: np.random.Generator, g: Gun) -> None:
    """Shoulder-fired launcher: a wide tube with flared ends, grips, sight box and shoulder pad."""
    r = rng.uniform(0.035, 0.07)
    length = g.rec_len + g.barrel
    x0 = -length * rng.uniform(0.45, 0.6)
    prof_r = [r * rng.uniform(1.0, 1.4), r, r, r * rng.uniform(1.0, 1.6)]
    prof_y = [0.0, 0.08, length - 0.1, length]
    b.add(lathe(prof_r, prof_y, m=14).rotated(_TO_X).moved((x0, 0, 0)), g.furniture)
    for x in (0.0, rng.uniform(0.15, 0.3)):
        grip = rounded_box((0.035, 0.11, 0.03), 0.01, (0, -0.055, 0)).rotated(rot_z(0.25))
        b.add(grip.moved((x, -r, 0)), g.metal)
    if rng.random() < 0.5:  # rocket warhead sticking out of the muzzle (RPG style)
        hr = r * rng.uniform(1.3, 1.9)
        x1 = x0 + length
        b.add(lathe([r * 0.6, hr, hr, 0.01], [0.0, 0.08, 0.2, 0.35], m=12).rotated(_TO_X)
              .moved((x1, 0, 0)), pal.any_of(rng, pal.painted, pal.metal))
    sight = pal.Material((25, 25, 28), 0.6)
    if rng.random() < 0.6:  # optical sight on a bracket on the left side (RPG-7, Carl Gustaf)
        reach = rng.uniform(0.04, 0.1)
        sy = rng.uniform(0.0, 0.6) * r
        b.add(box((0.04, 0.03, reach), (0.05, sy, -(r * 0.7 + reach / 2))), g.metal)
        b.add(lathe([0.02, 0.025, 0.025, 0.02], [0.0, 0.03, 0.12, 0.16], m=10).rotated(_TO_X)
              .moved((-0.03, sy + 0.02, -(r * 0.7 + reach))), sight)
    else:
        sh = rng.uniform(0.03, 0.14)
        b.add(box((0.1, sh, 0.03), (0.05, r + sh / 2, r * 0.6)), g.metal)
    b.add(box((0.12, 0.06, 0.05), (-0.15, -r - 0.02, 0)), g.furniture)
    if rng.random() < 0.3:  # bipod or monopod under the front of the tube
        leg = rng.uniform(0.2, 0.4)
        xb = x0 + length * rng.uniform(0.6, 0.8)
        for s in (-1, 1):
            b.add(cylinder((xb, -r * 0.8, 0), (xb + leg * 0.2, -r - leg, s * leg * 0.3), 0.008,
                           m=5), g.metal)


def _bullpup_body(b: ShapeBuilder, rng: np.random.Generator, g: Gun) -> None:
    """Bullpup: a long, tall housing whose rear end is the butt, and a cheek piece on top."""
    h = g.rec_h * rng.uniform(1.2, 1.8)
    x0 = -g.rec_len / 2
    b.add(rounded_box((g.rec_len * 0.6, h, g.width), 0.015,
                      (x0 + g.rec_len * 0.3, g.rec_h / 2 - h / 2, 0)), g.furniture)
    b.add(box((0.025, h * 1.05, g.width * 1.05), (x0 - 0.01, g.rec_h / 2 - h / 2, 0)),
          pal.rubber(rng))


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A long gun of a random kind."""
    b = ShapeBuilder()
    g = _sample(rng)
    b.kind = g.kind
    if g.kind == "launcher":
        _launcher(b, rng, g)
        return b
    front = g.rec_len / 2
    bullpup = g.kind == "bullpup"
    b.add(rounded_box((g.rec_len, g.rec_h, g.width), 0.01, (0, 0, 0)), g.metal)
    if bullpup:
        _bullpup_body(b, rng, g)
    muzzle = front + g.barrel
    yb = g.bore_y
    b.add(cylinder((front - 0.02, yb, 0), (muzzle, yb, 0), g.bore_r, m=10), g.metal)
    if g.kind == "shotgun" and rng.random() < 0.35:  # double barrel: side by side or over-under
        if rng.random() < 0.5:
            b.add(cylinder((front - 0.02, yb, g.bore_r * 2), (muzzle, yb, g.bore_r * 2), g.bore_r,
                           m=10), g.metal)
        else:
            yb2 = yb - g.bore_r * 2
            b.add(cylinder((front - 0.02, yb2, 0), (muzzle, yb2, 0), g.bore_r, m=10), g.metal)
    # forend / handguard / pump
    fore = g.barrel * rng.uniform(0.3, 0.9 if g.kind == "musket" else 0.6)
    fh = rng.uniform(0.03, 0.09)
    fy = yb - fh * rng.uniform(0.1, 0.45)
    if g.kind == "shotgun" and rng.random() < 0.6:
        pump = rng.uniform(0.12, 0.22)
        px = front + g.barrel * rng.uniform(0.15, 0.35)
        b.add(cylinder((px, yb - g.bore_r * 2.2, 0), (px + pump, yb - g.bore_r * 2.2, 0),
                       rng.uniform(0.018, 0.03), m=10), g.furniture)
        fy, fore = yb - g.bore_r * 2.2, 0.0
    else:
        b.add(rounded_box((fore, fh, g.width * rng.uniform(0.8, 1.2)), 0.01,
                          (front + fore / 2, fy, 0), axis=0), g.furniture)
    grip_x = g.rec_len * (0.25 if bullpup else -0.25)
    pistol = g.kind in ("assault", "smg", "lmg", "bullpup", "carbine") or \
        (g.kind in ("sniper", "shotgun") and rng.random() < 0.5) or rng.random() < 0.1
    if pistol:
        _grip(b, rng, g, grip_x, g.furniture)
    if g.kind == "lever":  # lever loop behind the trigger
        loop = arc_path((-g.rec_len * 0.1, -g.rec_h / 2 - 0.025, 0), 0.035, np.pi * 0.1,
                        -np.pi * 1.1, 8)
        b.add(tube(loop, 0.005, 5, ref=(0, 0, 1)), g.metal)
    stock = _stock(b, rng, g, -g.rec_len / 2)
    mag = _magazine(b, rng, g, -g.rec_len * 0.3 if bullpup else g.rec_len * 0.15)
    _top(b, rng, g, mag in ("top", "pan"))
    # front sight
    if g.kind != "sniper" and rng.random() < 0.6:
        post = rng.uniform(0.02, 0.08)
        xs = front + g.barrel * rng.uniform(0.55, 0.95)
        b.add(prism([[xs - 0.03, yb], [xs + 0.01, yb], [xs, yb + g.bore_r + post]], 0.015),
              g.metal)
    # under the forend: bipod, vertical foregrip or grenade launcher
    under = rng.random()
    p_bipod = {"sniper": 0.6, "lmg": 0.8, "assault": 0.12, "hunting": 0.1}.get(g.kind, 0.03)
    if under < p_bipod and fore > 0.0:
        _bipod(b, rng, g, front + fore * rng.uniform(0.5, 0.95), fy - fh / 2)
    elif g.kind in ("assault", "carbine", "smg", "bullpup") and under < p_bipod + 0.3 and fore:
        gl = rng.uniform(0.2, 0.32)
        if rng.random() < 0.4 and g.kind != "smg":  # under-barrel grenade launcher
            r = rng.uniform(0.02, 0.03)
            y = fy - fh / 2 - r
            b.add(cylinder((front, y, 0), (front + min(gl, fore + 0.05), y, 0), r, m=10),
                  g.metal)
            grip = rounded_box((0.03, 0.09, 0.028), 0.01, (0, -0.045, 0)).rotated(rot_z(0.25))
            b.add(grip.moved((front + 0.03, y - r + 0.005, 0)), g.metal)
        else:
            h = rng.uniform(0.06, 0.12)
            xg = front + fore * rng.uniform(0.3, 0.8)
            b.add(rounded_box((0.03, h, 0.03), 0.01, (xg, fy - fh / 2 - h / 2 + 0.005, 0)),
                  g.furniture)
    _handle(b, rng, g)
    p_sling = 0.5 if g.kind in _WOODEN + ("sniper", "shotgun") else 0.3
    if g.kind == "lmg" and rng.random() < 0.5:  # barrel carry handle, folded to one side
        side = 1.0 if rng.random() < 0.5 else -1.0
        reach = rng.uniform(0.05, 0.12)
        xh = front + g.barrel * rng.uniform(0.1, 0.3)
        b.add(cylinder((xh, yb, 0), (xh, yb + 0.01, side * reach), 0.008, m=6), g.metal)
        b.add(cylinder((xh - 0.06, yb + 0.01, side * reach), (xh + 0.06, yb + 0.01, side * reach),
                       0.014, m=8), g.furniture)
    if g.kind in ("shotgun", "lever") and rng.random() < 0.4:
        # side-saddle shell carrier (shotgun) or saddle ring (carbine-length lever guns)
        reach = rng.uniform(0.015, 0.04)
        side = -1.0 if g.kind == "shotgun" else 1.0
        z0, z1 = sorted((side * g.width / 2 * 0.9, side * (g.width / 2 + reach)))
        b.add(box_between((-g.rec_len * 0.1, -g.rec_h * 0.3, z0),
                          (g.rec_len * 0.35, g.rec_h * 0.25, z1)), g.metal)
    if g.kind == "lmg" and mag == "none":  # belt box hanging on the left side
        bw = rng.uniform(0.06, 0.1)
        bh = rng.uniform(0.08, 0.14)
        b.add(box((rng.uniform(0.1, 0.16), bh, bw), (g.rec_len * 0.1, -g.rec_h / 2 - bh / 2 + 0.02,
                                                    -(g.width / 2 + bw / 2))), g.furniture)
    if rng.random() < p_sling and stock not in ("none", "folded"):
        _sling(b, rng, g, -g.rec_len / 2 - g.stock_len * 0.7, front + max(fore, 0.1) * 0.8)
    if g.kind in ("musket", "assault", "hunting") and rng.random() < 0.15:
        tip = muzzle + rng.uniform(0.2, 0.45)
        b.add(prism([[muzzle - 0.05, yb - 0.01], [tip, yb - 0.02], [muzzle - 0.05, yb - 0.03]],
                     0.004), pal.metal(rng))
    if rng.random() < 0.35:  # muzzle brake / suppressor
        length = rng.uniform(0.04, 0.25)
        b.add(cylinder((muzzle - 0.01, yb, 0), (muzzle + length, yb, 0),
                       g.bore_r * rng.uniform(1.5, 2.8), m=10), g.metal)
    return b
