"""Rifles and other long guns: hunting rifles, assault rifles, carbines, snipers, shotguns,
SMGs, muskets, bullpups, lever actions, light machine guns and shoulder-fired launchers.

Parts are laid along X around the receiver (x = 0): stock at -X, barrel and muzzle toward +X
(the ShapeNetVox32 rifle sample has its thick stock at -X and thin barrel at +X), +Y up, the
gun's thickness along Z.  The bore line sits at a sampled height on the receiver, and what hangs
below it (grips, magazines of many lengths, drums, bipods, foregrips, under-barrel launchers) and
what rises above it (scopes on low or tall mounts, carry handles, top or pan magazines, cheek
rests) is chosen per gun, so the barrel's height within the bounding box varies a lot.

Each kind of gun is a row of :data:`FAMILIES` (its weight, proportions, builder and the chances
of its parts); ``build`` draws a row and calls its builder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import rot_z
from .palette import Material
from .primitives import arc_path, box, box_between, cylinder, disc, lathe, prism, rounded_box, tube

_TO_X = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # maps +Y onto +X
_STOCK_STYLES = ("solid", "skeleton", "tube", "folded")

Range = tuple[float, float]


@dataclass
class Gun:
    """Main dimensions (metres) and materials of one gun."""

    family: Family
    rec_len: float
    rec_h: float
    barrel: float
    bore_r: float
    stock_len: float
    width: float
    bore_y: float  # height of the bore line (receiver centre at y = 0)
    metal: Material
    furniture: Material

    @property
    def kind(self) -> str:
        """The family's name."""
        return self.family.name


#: adds a whole gun of one family to the builder
GunBuilder = Callable[[ShapeBuilder, np.random.Generator, Gun], None]


@dataclass(frozen=True)
class Family:
    """One kind of long gun: a row of :data:`FAMILIES`.

    Ranges are drawn uniformly.  ``p_*`` and ``wood`` are chances, tested with :func:`_chance`
    (no draw at 0 or 1).
    """

    name: str  # recorded as the shape's subtype
    weight: float  # share of the class (normalised when drawn: the weights sum to 1.01)
    receiver: Range  # receiver length (m)
    barrel: Range  # barrel length (m)
    stock: Range  # butt stock length (m); 0: none
    build: GunBuilder
    # proportions and materials
    rec_h: Range = (0.045, 0.15)  # receiver height (m)
    width: Range = (0.025, 0.08)  # receiver thickness (m)
    bore: float = 1.0  # scale of the bore radius
    p_heavy: float = 0.0  # heavy barrel (bore radius x 1.4)
    wood: float = 0.0  # traditional furniture, then wooden 85 % of the time (else plastic)
    # stock
    drop: Range = (-0.02, 0.05)  # drop of the butt (m)
    stocks: tuple[float, float, float, float] | None = None  # chances of _STOCK_STYLES; None: solid
    p_cheek: float = 0.15  # raised cheek rest on a solid or skeleton stock
    p_monopod: float = 0.0  # monopod under the butt
    # feed and sights
    magazines: tuple[tuple[str, float], ...] = (("none", 0.6), ("straight", 0.4))  # kind, chance
    mag_len: float = 0.14  # longest box magazine (m)
    belt_fed: bool = False  # a belt box on the left side when there is no magazine
    p_scope: float = 0.12  # telescopic sight (unless a magazine stands on top)
    p_carry: float = 0.0  # else a carry handle (this much more of the same draw)
    p_sight: float = 0.6  # front sight post
    # action and grip
    p_bolt: float = 0.0  # bolt handle
    p_hammer: float = 0.0  # else an exposed hammer
    p_sidelock: float = 0.8  # the hammer on a side lock (else on top)
    p_charging: float = 0.0  # else a charging handle
    p_grip: float = 0.0  # pistol grip (else still 10 %)
    lever: bool = False  # lever loop behind the trigger
    # barrel and forend
    p_double: float = 0.0  # second barrel, side by side or over-under
    forend: float = 0.6  # longest forend, fraction of the barrel
    p_pump: float = 0.0  # pump slide instead of a forend
    p_bipod: float = 0.03  # bipod under the forend
    p_foregrip: float = 0.0  # else a foregrip (this much more of the same draw)
    grenade: bool = False  # the foregrip may be an under-barrel grenade launcher (40 %)
    # fittings
    p_sling: float = 0.3
    p_barrel_handle: float = 0.0  # carry handle on the barrel, folded to one side
    p_saddle: float = 0.0  # side-saddle shell carrier (shotgun) or saddle ring (lever gun)
    p_bayonet: float = 0.0


def _chance(rng: np.random.Generator, p: float) -> bool:
    """True with probability ``p``; draws only when 0 < p < 1, as the generator always has (the
    datasets already built from it depend on which draws are made)."""
    return p >= 1.0 or (p > 0.0 and rng.random() < p)


def _sample(rng: np.random.Generator) -> Gun:
    """Draw a family of :data:`FAMILIES` by weight, then its proportions and materials."""
    w = np.array([f.weight for f in FAMILIES])
    f = FAMILIES[int(rng.choice(len(FAMILIES), p=w / w.sum()))]
    wooden = _chance(rng, f.wood)
    furniture = pal.wood(rng) if wooden and rng.random() < 0.85 else pal.plastic(rng)
    metal = pal.Material((int(rng.integers(20, 80)),) * 3, 0.6) if rng.random() < 0.8 \
        else pal.metal(rng)
    rec_h = rng.uniform(*f.rec_h)
    bore_r = rng.uniform(0.008, 0.016) * f.bore
    if _chance(rng, f.p_heavy):
        bore_r *= 1.4  # heavy barrel
    width = rng.uniform(*f.width)
    return Gun(f, rng.uniform(*f.receiver), rec_h, rng.uniform(*f.barrel), bore_r,
               rng.uniform(*f.stock), width, rec_h * rng.uniform(-0.3, 0.4), metal, furniture)


def _stock(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x0: float) -> str:
    """Butt stock ending at ``x0`` (its front); returns its style.

    Styles: solid (with drop, optionally a cheek rest), skeleton/thumbhole frame, collapsible
    tube, folded alongside the receiver, or none.
    """
    if g.stock_len <= 0.0:
        return "none"
    f = g.family
    drop = rng.uniform(*f.drop)
    butt = rng.uniform(0.09, 0.2)
    style = "solid" if f.stocks is None else str(rng.choice(_STOCK_STYLES, p=f.stocks))
    if style == "folded":
        _folded_stock(b, g, x0, butt)
    elif style == "tube":
        _tube_stock(b, g, x0, drop, butt)
    else:
        _fixed_stock(b, rng, g, x0, drop, butt, style)
    return style


def _folded_stock(b: ShapeBuilder, g: Gun, x0: float, butt: float) -> None:
    """Side-folder: the stock frame lies along the receiver's right side."""
    top = g.rec_h / 2
    z = g.width / 2 + 0.012
    fl = min(g.stock_len, g.rec_len + 0.15)
    loop = np.array([[x0, top * 0.6, z], [x0 + fl, top * 0.6, z],
                     [x0 + fl, top * 0.6 - butt * 0.7, z], [x0, -g.rec_h * 0.4, z]])
    b.add(tube(loop, 0.01, 6, ref=(0, 0, 1), closed=True), g.metal)
    b.add(box((0.025, 0.03, 0.02), (x0 - 0.012, 0.0, z * 0.6)), g.metal)


def _tube_stock(b: ShapeBuilder, g: Gun, x0: float, drop: float, butt: float) -> None:
    """Collapsible stock: a buffer tube behind the receiver and a butt plate."""
    sl = g.stock_len
    yb = g.bore_y * 0.5
    b.add(cylinder((x0, yb, 0), (x0 - sl * 0.85, yb - drop, 0), 0.018, m=10), g.metal)
    b.add(rounded_box((0.05, butt, g.width), 0.01, (x0 - sl * 0.85, yb - drop - butt * 0.3, 0)),
          g.furniture)


def _fixed_stock(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x0: float, drop: float,
                 butt: float, style: str) -> None:
    """Solid stock (a prism) or skeleton/thumbhole frame, maybe a cheek rest and a monopod."""
    sl = g.stock_len
    top = g.rec_h / 2
    poly = [[x0, top], [x0, -g.rec_h * 0.6], [x0 - sl, -drop - butt + top],
            [x0 - sl, top - drop]]
    if style == "solid":
        b.add(prism(poly, g.width, (0, 0, 0)), g.furniture)
    else:
        loop = np.array([[x0, top * 0.8, 0], [x0 - sl, top - drop, 0],
                         [x0 - sl, top - drop - butt, 0], [x0 - sl * 0.4, -g.rec_h * 0.5, 0]])
        b.add(tube(loop, rng.uniform(0.01, 0.016), 6, ref=(0, 0, 1), closed=True), g.furniture)
        b.add(box((0.025, butt, g.width), (x0 - sl, top - drop - butt / 2, 0)), g.furniture)
    if _chance(rng, g.family.p_cheek):  # raised cheek rest
        ch = rng.uniform(0.02, 0.06)
        cx = x0 - sl * 0.5
        yt = top - drop * 0.5
        b.add(box((sl * 0.4, ch, g.width * 0.9), (cx, yt + ch / 2 - 0.005, 0)), g.furniture)
    if _chance(rng, g.family.p_monopod):  # monopod under the butt
        mh = rng.uniform(0.06, 0.15)
        yb = top - drop - butt
        b.add(cylinder((x0 - sl * 0.8, yb + 0.01, 0), (x0 - sl * 0.8, yb - mh, 0), 0.008, m=6),
              g.metal)


def _long_gun(b: ShapeBuilder, rng: np.random.Generator, g: Gun, bullpup: bool = False) -> None:
    """A rifle, shotgun, SMG or musket built around its receiver: barrel(s), forend, grip,
    stock, magazine, sights, what hangs under the forend, the action's handle and fittings.  A
    ``bullpup`` has its action and magazine behind the grip, in a housing that ends in the butt.
    """
    f = g.family
    front = g.rec_len / 2
    b.add(rounded_box((g.rec_len, g.rec_h, g.width), 0.01, (0, 0, 0)), g.metal)
    if bullpup:
        _bullpup_body(b, rng, g)
    muzzle = front + g.barrel
    _barrels(b, rng, g, front, muzzle)
    fore, fh, fy = _forend(b, rng, g, front)
    grip_x = g.rec_len * (0.25 if bullpup else -0.25)
    if _chance(rng, f.p_grip) or rng.random() < 0.1:  # any gun may have a pistol grip
        _grip(b, rng, g, grip_x, g.furniture)
    if f.lever:  # lever loop behind the trigger
        loop = arc_path((-g.rec_len * 0.1, -g.rec_h / 2 - 0.025, 0), 0.035, np.pi * 0.1,
                        -np.pi * 1.1, 8)
        b.add(tube(loop, 0.005, 5, ref=(0, 0, 1)), g.metal)
    stock = _stock(b, rng, g, -g.rec_len / 2)
    mag = _magazine(b, rng, g, -g.rec_len * 0.3 if bullpup else g.rec_len * 0.15)
    _top(b, rng, g, mag in ("top", "pan"))
    if _chance(rng, f.p_sight):  # front sight
        post = rng.uniform(0.02, 0.08)
        xs = front + g.barrel * rng.uniform(0.55, 0.95)
        yb = g.bore_y
        b.add(prism([[xs - 0.03, yb], [xs + 0.01, yb], [xs, yb + g.bore_r + post]], 0.015),
              g.metal)
    _under_forend(b, rng, g, front, fore, fy, fh)
    _handle(b, rng, g)
    _fittings(b, rng, g, front, mag)
    if rng.random() < f.p_sling and stock not in ("none", "folded"):
        _sling(b, rng, g, -g.rec_len / 2 - g.stock_len * 0.7, front + max(fore, 0.1) * 0.8)
    _muzzle(b, rng, g, muzzle)


def _barrels(b: ShapeBuilder, rng: np.random.Generator, g: Gun, front: float,
             muzzle: float) -> None:
    """The barrel on the bore line from the receiver's ``front`` to the ``muzzle``, sometimes
    doubled: side by side or over-under."""
    yb = g.bore_y
    b.add(cylinder((front - 0.02, yb, 0), (muzzle, yb, 0), g.bore_r, m=10), g.metal)
    if _chance(rng, g.family.p_double):  # double barrel: side by side or over-under
        if rng.random() < 0.5:
            b.add(cylinder((front - 0.02, yb, g.bore_r * 2), (muzzle, yb, g.bore_r * 2), g.bore_r,
                           m=10), g.metal)
        else:
            yb2 = yb - g.bore_r * 2
            b.add(cylinder((front - 0.02, yb2, 0), (muzzle, yb2, 0), g.bore_r, m=10), g.metal)


def _forend(b: ShapeBuilder, rng: np.random.Generator, g: Gun,
            front: float) -> tuple[float, float, float]:
    """Forend or handguard under the barrel, or a pump slide on the magazine tube.  Returns
    the forend's length (0 for a pump), height and centre height."""
    yb = g.bore_y
    fore = g.barrel * rng.uniform(0.3, g.family.forend)
    fh = rng.uniform(0.03, 0.09)
    fy = yb - fh * rng.uniform(0.1, 0.45)
    if _chance(rng, g.family.p_pump):
        pump = rng.uniform(0.12, 0.22)
        px = front + g.barrel * rng.uniform(0.15, 0.35)
        b.add(cylinder((px, yb - g.bore_r * 2.2, 0), (px + pump, yb - g.bore_r * 2.2, 0),
                       rng.uniform(0.018, 0.03), m=10), g.furniture)
        fy, fore = yb - g.bore_r * 2.2, 0.0
    else:
        b.add(rounded_box((fore, fh, g.width * rng.uniform(0.8, 1.2)), 0.01,
                          (front + fore / 2, fy, 0), axis=0), g.furniture)
    return fore, fh, fy


def _under_forend(b: ShapeBuilder, rng: np.random.Generator, g: Gun, front: float, fore: float,
                  fy: float, fh: float) -> None:
    """Under the forend (length ``fore``, centre height ``fy``, height ``fh``): a bipod, or a
    vertical foregrip or under-barrel grenade launcher, or nothing."""
    f = g.family
    under = rng.random()
    if under < f.p_bipod and fore > 0.0:
        _bipod(b, rng, g, front + fore * rng.uniform(0.5, 0.95), fy - fh / 2)
    elif under < f.p_bipod + f.p_foregrip and fore:
        gl = rng.uniform(0.2, 0.32)
        if rng.random() < 0.4 and f.grenade:  # under-barrel grenade launcher
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


def _fittings(b: ShapeBuilder, rng: np.random.Generator, g: Gun, front: float,
              mag: str) -> None:
    """A barrel carry handle, a side saddle or saddle ring, and a belt-fed gun's belt box
    (when it has no magazine ``mag``)."""
    yb = g.bore_y
    if _chance(rng, g.family.p_barrel_handle):  # barrel carry handle, folded to one side
        side = 1.0 if rng.random() < 0.5 else -1.0
        reach = rng.uniform(0.05, 0.12)
        xh = front + g.barrel * rng.uniform(0.1, 0.3)
        b.add(cylinder((xh, yb, 0), (xh, yb + 0.01, side * reach), 0.008, m=6), g.metal)
        b.add(cylinder((xh - 0.06, yb + 0.01, side * reach), (xh + 0.06, yb + 0.01, side * reach),
                       0.014, m=8), g.furniture)
    if _chance(rng, g.family.p_saddle):
        # side-saddle shell carrier (shotgun) or saddle ring (carbine-length lever guns)
        reach = rng.uniform(0.015, 0.04)
        side = -1.0 if g.kind == "shotgun" else 1.0
        z0, z1 = sorted((side * g.width / 2 * 0.9, side * (g.width / 2 + reach)))
        b.add(box_between((-g.rec_len * 0.1, -g.rec_h * 0.3, z0),
                          (g.rec_len * 0.35, g.rec_h * 0.25, z1)), g.metal)
    if g.family.belt_fed and mag == "none":  # belt box hanging on the left side
        bw = rng.uniform(0.06, 0.1)
        bh = rng.uniform(0.08, 0.14)
        b.add(box((rng.uniform(0.1, 0.16), bh, bw), (g.rec_len * 0.1, -g.rec_h / 2 - bh / 2 + 0.02,
                                                    -(g.width / 2 + bw / 2))), g.furniture)


def _muzzle(b: ShapeBuilder, rng: np.random.Generator, g: Gun, muzzle: float) -> None:
    """Sometimes a bayonet under the ``muzzle``, and a muzzle brake or suppressor (35 %)."""
    yb = g.bore_y
    if _chance(rng, g.family.p_bayonet):
        tip = muzzle + rng.uniform(0.2, 0.45)
        b.add(prism([[muzzle - 0.05, yb - 0.01], [tip, yb - 0.02], [muzzle - 0.05, yb - 0.03]],
                     0.004), pal.metal(rng))
    if rng.random() < 0.35:  # muzzle brake / suppressor
        length = rng.uniform(0.04, 0.25)
        b.add(cylinder((muzzle - 0.01, yb, 0), (muzzle + length, yb, 0),
                       g.bore_r * rng.uniform(1.5, 2.8), m=10), g.metal)


def _grip(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x: float, mat: Material) -> None:
    """Raked pistol grip under the receiver at ``x`` and a trigger guard in front of it."""
    h = rng.uniform(0.09, 0.14)
    grip = rounded_box((0.035, h, g.width * 0.8), 0.01, (0, -h / 2, 0))
    b.add(grip.rotated(rot_z(rng.uniform(0.15, 0.4))).moved((x, -g.rec_h / 2 + 0.005, 0)), mat)
    guard = arc_path((x + 0.045, -g.rec_h / 2, 0), 0.03, np.pi, 2 * np.pi, 7)
    b.add(tube(guard, 0.004, 5, ref=(0, 0, 1)), g.metal)


def _magazine(b: ShapeBuilder, rng: np.random.Generator, g: Gun, x: float) -> str:
    """Magazine near ``x``: straight, curved (banana), drum, tube, top, pan, side or none."""
    names = [name for name, _ in g.family.magazines]
    kind = str(rng.choice(names, p=[p for _, p in g.family.magazines]))
    length = rng.uniform(0.06, g.family.mag_len)
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
    p_scope = g.family.p_scope
    r = rng.random()  # drawn even when a top magazine leaves no room (built datasets have it)
    top = g.rec_h / 2
    if has_top_mag:
        return
    if r < p_scope:
        _scope(b, rng, g, g.rec_len * rng.uniform(-0.1, 0.2))
    elif r < p_scope + g.family.p_carry:
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
    """Bolt handle (bolt actions, on the right), else an exposed hammer, else a charging
    handle (either side)."""
    if rng.random() < g.family.p_bolt:
        reach = rng.uniform(0.04, 0.09)
        side = -1.0 if rng.random() < 0.15 else 1.0  # left-handed actions exist
        x = -g.rec_len * rng.uniform(0.1, 0.35)
        p0 = np.array([x, g.bore_y, side * (g.width / 2 - 0.005)])
        p1 = p0 + [-0.01, -rng.uniform(0.0, 0.04), side * reach]
        b.add(cylinder(p0, p1, 0.006, m=6), g.metal)
        b.add(cylinder(p1 - [0, 0, 0.012], p1 + [0, 0, 0.012], 0.011, m=8), g.metal)
    elif _chance(rng, g.family.p_hammer):
        # exposed hammer: a side lock (flintlock, percussion) or on top (lever action)
        x = -g.rec_len * rng.uniform(0.1, 0.4)
        side = _chance(rng, g.family.p_sidelock)
        z = g.width / 2 + (rng.uniform(0.005, 0.03) if side else -g.width / 2)
        if side:
            b.add(box((0.1, 0.03, z), (x, g.bore_y - 0.005, z / 2)), g.metal)
        b.add(prism([[x - 0.015, g.bore_y], [x + 0.005, g.bore_y], [x - 0.03, g.bore_y + 0.04]],
                     0.01, (0, 0, z)), g.metal)
    elif _chance(rng, g.family.p_charging):
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


#: The families of the rifle class, in draw order: name, weight, receiver, barrel and stock
#: lengths (m), builder, then what sets the family apart (:class:`Family`'s defaults otherwise).
#: Weights as docs/DATA.md's class table gives them.
FAMILIES: tuple[Family, ...] = (
    Family("hunting", 0.1, (0.18, 0.26), (0.45, 0.7), (0.3, 0.4), _long_gun,
           width=(0.025, 0.045), wood=1.0, drop=(0.0, 0.12), p_scope=0.65, p_bolt=0.85,
           p_hammer=0.15, p_bipod=0.1, p_sling=0.5, p_bayonet=0.15),
    Family("assault", 0.13, (0.2, 0.32), (0.28, 0.5), (0.2, 0.35), _long_gun,
           stocks=(0.35, 0.2, 0.25, 0.2),
           magazines=(("curved", 0.5), ("straight", 0.35), ("drum", 0.05), ("none", 0.1)),
           mag_len=0.32, p_scope=0.3, p_carry=0.3, p_charging=0.6, p_grip=1.0, p_bipod=0.12,
           p_foregrip=0.3, grenade=True, p_bayonet=0.15),
    Family("carbine", 0.1, (0.18, 0.26), (0.18, 0.32), (0.15, 0.3), _long_gun,
           stocks=(0.25, 0.2, 0.35, 0.2),
           magazines=(("straight", 0.55), ("curved", 0.25), ("none", 0.2)),
           p_scope=0.25, p_carry=0.3, p_bolt=0.2, p_charging=0.6, p_grip=1.0, p_foregrip=0.3,
           grenade=True),
    Family("sniper", 0.1, (0.22, 0.32), (0.55, 0.9), (0.28, 0.4), _long_gun, p_heavy=0.5,
           stocks=(0.55, 0.35, 0.1, 0.0), p_cheek=1.0, p_monopod=0.35,
           magazines=(("none", 0.5), ("straight", 0.5)), p_scope=0.9, p_sight=0.0, p_bolt=0.85,
           p_grip=0.5, p_bipod=0.6, p_sling=0.5),
    Family("shotgun", 0.09, (0.18, 0.26), (0.3, 0.7), (0.0, 0.38), _long_gun, bore=1.4, wood=0.5,
           drop=(0.0, 0.12), stocks=(0.7, 0.1, 0.1, 0.1),
           magazines=(("tube", 0.85), ("straight", 0.15)), p_hammer=0.15, p_charging=0.6,
           p_grip=0.5, p_double=0.35, p_pump=0.6, p_sling=0.5, p_saddle=0.4),
    Family("smg", 0.13, (0.16, 0.26), (0.08, 0.25), (0.0, 0.3), _long_gun,
           stocks=(0.2, 0.25, 0.25, 0.3),
           magazines=(("straight", 0.55), ("side", 0.2), ("top", 0.1), ("drum", 0.15)),
           mag_len=0.32, p_charging=0.6, p_grip=1.0, p_foregrip=0.3),
    Family("musket", 0.04, (0.15, 0.2), (0.85, 1.2), (0.35, 0.45), _long_gun,
           rec_h=(0.04, 0.07), width=(0.025, 0.045), wood=1.0, drop=(0.0, 0.12), p_hammer=1.0,
           forend=0.9, p_sling=0.5, p_bayonet=0.15),
    Family("bullpup", 0.08, (0.4, 0.55), (0.2, 0.45), (0.0, 0.0), partial(_long_gun, bullpup=True),
           magazines=(("straight", 0.6), ("curved", 0.4)), mag_len=0.32, p_scope=0.35,
           p_carry=0.3, p_charging=0.6, p_grip=1.0, p_foregrip=0.3, grenade=True),
    Family("lever", 0.05, (0.16, 0.22), (0.4, 0.6), (0.3, 0.36), _long_gun,
           rec_h=(0.04, 0.07), width=(0.025, 0.045), wood=1.0, drop=(0.0, 0.12),
           magazines=(("tube", 1.0),), p_hammer=1.0, p_sidelock=0.0, lever=True, p_sling=0.5,
           p_saddle=0.4),
    Family("lmg", 0.1, (0.28, 0.42), (0.4, 0.65), (0.22, 0.35), _long_gun,
           stocks=(0.6, 0.25, 0.15, 0.0),
           magazines=(("drum", 0.25), ("straight", 0.15), ("top", 0.15), ("pan", 0.15),
                      ("none", 0.3)),
           mag_len=0.32, belt_fed=True, p_scope=0.2, p_carry=0.3, p_bolt=0.1, p_charging=0.6,
           p_grip=1.0, p_bipod=0.8, p_barrel_handle=0.5),
    Family("launcher", 0.09, (0.3, 0.45), (0.5, 0.8), (0.0, 0.0), _launcher),
)


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A long gun of a random family (a row of :data:`FAMILIES`, drawn by weight)."""
    b = ShapeBuilder()
    g = _sample(rng)
    b.kind = g.kind
    g.family.build(b, rng, g)
    return b
