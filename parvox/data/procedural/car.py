"""Cars: sedans, hatchbacks, wagons, SUVs, vans, pickups, sports cars, convertibles, buses,
trucks, open-wheel racers, jeeps, vintage cars and microcars.

The body is lofted from rounded cross-sections along X (bottom raised into wheel arches,
beltline, width), a glass cabin is lofted on top from a roof profile, and wheels, lights,
bumpers, mirrors, spoilers and beds are added per type.
Frame: length along X with the front (hood, windshield) toward +X, as in the ShapeNetVox32 car
sample; width along Z; wheels on y = 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .palette import Material
from .parts import wheel
from .primitives import (
    box,
    box_between,
    cylinder,
    disc,
    ellipsoid,
    prism,
    rounded_box,
    sections_along_x,
    torus,
    tube,
)


@dataclass
class Car:
    """Proportions of one car (metres); x measured from the rear end (0) to the front (L)."""

    kind: str
    L: float
    W: float
    clear: float
    belt: float  # beltline height (top of the lower body)
    roof: float
    cab: tuple[float, float, float, float]  # cabin x: windshield base, roof front, roof back, base
    wheel_r: float
    axles: list[float] = field(default_factory=list)
    hood_drop: float = 0.1  # how much lower the front end is than the beltline
    tail_drop: float = 0.05
    paint: Material = pal.Material((200, 0, 0), 0.8)


#: kind -> (weight, L, W / L, roof, belt / roof, cabin fractions (a, b, c, d) of L, wheel r)
KINDS: dict[str, tuple] = {
    "sedan": (0.06, (4.2, 5.2), (0.35, 0.45), (1.3, 1.6), (0.6, 0.68), (0.66, 0.52, 0.3, 0.2),
              (0.3, 0.36)),
    "hatch": (0.05, (3.4, 4.3), (0.4, 0.52), (1.4, 1.75), (0.58, 0.66), (0.7, 0.55, 0.12, 0.03),
              (0.28, 0.33)),
    "wagon": (0.03, (4.4, 5.0), (0.36, 0.42), (1.4, 1.55), (0.58, 0.66), (0.7, 0.56, 0.06, 0.02),
              (0.3, 0.35)),
    "suv": (0.05, (4.2, 5.1), (0.37, 0.46), (1.6, 2.0), (0.55, 0.62), (0.72, 0.6, 0.07, 0.02),
            (0.36, 0.42)),
    "van": (0.03, (4.5, 5.5), (0.36, 0.42), (1.8, 2.2), (0.45, 0.55), (0.88, 0.76, 0.04, 0.01),
            (0.32, 0.38)),
    "pickup": (0.07, (5.0, 5.9), (0.34, 0.4), (1.75, 1.95), (0.55, 0.62), (0.72, 0.6, 0.42, 0.38),
               (0.38, 0.44)),
    "sports": (0.06, (4.0, 4.7), (0.42, 0.54), (1.0, 1.3), (0.6, 0.7), (0.6, 0.45, 0.3, 0.12),
               (0.31, 0.36)),
    "convertible": (0.05, (4.0, 4.8), (0.4, 0.47), (1.25, 1.4), (0.62, 0.72),
                    (0.66, 0.56, 0.3, 0.2), (0.3, 0.35)),
    "limo": (0.04, (5.8, 7.5), (0.26, 0.3), (1.4, 1.5), (0.6, 0.66), (0.72, 0.64, 0.2, 0.14),
             (0.33, 0.37)),
    "truck": (0.03, (6.0, 9.0), (0.27, 0.35), (2.8, 3.4), (0.45, 0.55), (0.99, 0.9, 0.75, 0.72),
              (0.45, 0.52)),
    "monster": (0.05, (4.5, 5.5), (0.45, 0.55), (2.7, 3.2), (0.72, 0.78), (0.72, 0.6, 0.42, 0.38),
                (0.7, 0.9)),
    "racer": (0.07, (4.5, 5.2), (0.36, 0.42), (0.9, 1.0), (0.5, 0.6), (0.55, 0.5, 0.4, 0.35),
              (0.3, 0.35)),
    "kart": (0.05, (1.8, 2.1), (0.62, 0.72), (0.9, 1.0), (0.3, 0.35), (0.5, 0.5, 0.4, 0.4),
             (0.12, 0.14)),
    "buggy": (0.05, (3.2, 3.9), (0.45, 0.52), (1.5, 1.7), (0.3, 0.35), (0.7, 0.6, 0.3, 0.25),
              (0.33, 0.4)),
    "jeep": (0.06, (3.6, 4.4), (0.42, 0.48), (1.7, 1.9), (0.5, 0.56), (0.66, 0.62, 0.1, 0.05),
             (0.36, 0.42)),
    "vintage": (0.04, (3.5, 4.8), (0.36, 0.42), (1.6, 2.0), (0.5, 0.58), (0.6, 0.55, 0.25, 0.2),
                (0.36, 0.42)),
    "hotrod": (0.04, (3.8, 4.4), (0.4, 0.46), (1.3, 1.45), (0.55, 0.62), (0.45, 0.4, 0.18, 0.12),
               (0.3, 0.42)),
    "micro": (0.04, (2.5, 3.0), (0.55, 0.62), (1.5, 1.6), (0.5, 0.56), (0.8, 0.7, 0.05, 0.0),
              (0.25, 0.29)),
    "minibus": (0.03, (4.8, 6.2), (0.33, 0.4), (2.3, 2.8), (0.38, 0.48), (0.96, 0.88, 0.03, 0.01),
                (0.33, 0.38)),
    "roadster": (0.04, (3.6, 4.3), (0.43, 0.5), (1.05, 1.2), (0.66, 0.76), (0.6, 0.5, 0.3, 0.25),
                 (0.3, 0.34)),
    "boxtruck": (0.03, (6.0, 8.5), (0.28, 0.34), (2.5, 3.0), (0.42, 0.5), (0.99, 0.9, 0.76, 0.74),
                 (0.45, 0.52)),
    "semi": (0.04, (5.8, 7.0), (0.36, 0.43), (3.0, 3.9), (0.36, 0.44), (0.99, 0.93, 0.64, 0.62),
             (0.5, 0.55)),
}

#: kinds that may be lifted on big tyres or lowered on the ground
_LIFTABLE = ("suv", "pickup", "jeep", "van", "hatch", "wagon")
_LOWERABLE = ("sedan", "sports", "hatch", "wagon", "hotrod", "limo", "convertible")


def _sample(rng: np.random.Generator) -> Car:
    """Sample a car type and its proportions."""
    names = list(KINDS)
    w = np.array([KINDS[n][0] for n in names])
    kind = str(rng.choice(names, p=w / w.sum()))
    _, lr, wr, rr, br, cab, wheel_r = KINDS[kind]
    length = rng.uniform(*lr)
    roof = rng.uniform(*rr)
    jitter = rng.uniform(-0.04, 0.04, 4)
    cab_x = tuple(float(np.clip(c + j, 0.0, 1.0) * length) for c, j in zip(cab, jitter,
                                                                             strict=True))
    wr_ = rng.uniform(*wheel_r)
    clear = {"racer": 0.06, "kart": 0.04, "monster": wr_ * rng.uniform(1.2, 1.5),
             "buggy": wr_ * rng.uniform(0.7, 0.9)}.get(kind, wr_ * rng.uniform(0.35, 0.7))
    belt = roof * rng.uniform(*br)
    mode = rng.random()
    if kind in _LIFTABLE and mode < 0.45:  # lifted off-roader on big tyres
        lift = rng.uniform(0.2, 0.6)
        wr_ *= rng.uniform(1.1, 1.35)
        clear, belt, roof = clear + lift, belt + lift, roof + lift
    elif kind in _LOWERABLE and mode < 0.35:  # slammed
        drop = max(0.0, min(clear - 0.04, rng.uniform(0.05, 0.25)))
        clear, belt, roof = clear - drop, belt - drop, roof - drop
    car = Car(kind, length, length * rng.uniform(*wr), clear, belt, roof,
              cab_x, wr_, hood_drop=rng.uniform(0.0, 0.25), tail_drop=rng.uniform(0.0, 0.15),
              paint=pal.paint(rng))
    overhang_f, overhang_r = rng.uniform(0.12, 0.22), rng.uniform(0.1, 0.22)
    if kind == "hatch" or kind == "micro":
        overhang_f, overhang_r = rng.uniform(0.08, 0.14), rng.uniform(0.04, 0.1)
    if kind in ("truck", "kart", "buggy", "monster", "boxtruck", "minibus"):
        overhang_f, overhang_r = rng.uniform(0.05, 0.18), rng.uniform(0.1, 0.3)
    car.axles = [length * overhang_r + wr_, length * (1 - overhang_f) - wr_]
    if kind == "semi":
        overhang_f = rng.uniform(0.04, 0.08)
        car.axles = [length * rng.uniform(0.12, 0.2), length * (1 - overhang_f) - wr_]
    if kind in ("truck", "semi", "boxtruck") and rng.random() < 0.5:
        car.axles.insert(1, car.axles[0] + 2.3 * wr_)
    return car


def _body_profile(c: Car, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bottom (with wheel arches), top and half width of the lower body at stations ``xs``."""
    bot = np.full_like(xs, c.clear)
    for ax in c.axles:
        dx = xs - ax
        arch = c.wheel_r * 1.12
        inside = np.abs(dx) < arch
        bot[inside] = np.maximum(bot[inside], c.wheel_r + np.sqrt(arch**2 - dx[inside] ** 2)
                                 * 0.85 - c.wheel_r * 0.25)
    u = xs / c.L
    top = c.belt - c.tail_drop * np.clip(1 - u / 0.15, 0, 1) ** 2 \
        - c.hood_drop * np.clip((u - 0.75) / 0.25, 0, 1) ** 1.5
    bot = np.minimum(bot, top - 0.1)
    taper = 1.0 - 0.12 * np.clip(np.abs(u - 0.5) / 0.5 - 0.6, 0, 1) / 0.4
    return bot, top, c.W / 2 * taper


def _lower_body(c: Car, cut: tuple[float, float, float] | None = None,
                n: int = 22, x0: float = 0.0) -> tuple[object, np.ndarray, np.ndarray]:
    """Lofted lower body; also returns its stations and (uncut) top line.

    ``cut = (x0, x1, y)`` lowers the top to ``y`` between ``x0`` and ``x1`` (an open cockpit
    or a pickup bed), with extra stations so that the step is sharp.  The body starts at ``x0``
    (behind it a body-on-frame truck has its bed on bare frame rails).
    """
    xs = np.linspace(x0, c.L, n)
    if cut is not None:
        edges = [cut[0] - 0.01, cut[0] + 0.01, cut[1] - 0.01, cut[1] + 0.01]
        xs = np.unique(np.clip(np.concatenate([xs, edges]), 0.0, c.L))
    bot, top, hw = _body_profile(c, xs)
    shaped = top
    if cut is not None:
        inside = (xs > cut[0]) & (xs < cut[1])
        shaped = np.where(inside, np.maximum(np.minimum(top, cut[2]), bot + 0.05), top)
    part = sections_along_x(xs - c.L / 2, bot, shaped, hw, 0.25 * (shaped - bot))
    return part, xs, top


def _cabin(c: Car, belt_at: np.ndarray, xs_body: np.ndarray, n: int = 10) -> object:
    """Glass cabin lofted over the beltline from the windshield base to the rear window base."""
    a, bf, br, d = c.cab
    xs = np.linspace(d, a, n)
    roof = np.interp(xs, [d, br, bf, a], [0.0, 1.0, 1.0, 0.0])
    base = np.interp(xs, xs_body, belt_at) - 0.05
    top = base + np.maximum(roof * (c.roof - base), 0.03)
    hw = c.W / 2 * (0.98 - 0.1 * roof)
    return sections_along_x(xs - c.L / 2, base, top, hw, 0.12)


def _wheels(b: ShapeBuilder, rng: np.random.Generator, c: Car, outboard: float = 0.0) -> None:
    """Wheels on every axle, on both sides."""
    tyre, rim = pal.rubber(rng), pal.metal(rng)
    width = c.wheel_r * rng.uniform(0.55, 0.8)
    for ax in c.axles:
        for s in (-1, 1):
            z = s * (c.W / 2 - width / 2 + 0.02 + outboard)
            wheel(b, tyre, rim, (ax - c.L / 2, c.wheel_r, z), c.wheel_r, width)


def _details(b: ShapeBuilder, rng: np.random.Generator, c: Car, top: np.ndarray) -> None:
    """Headlights, tail lights, bumpers and mirrors."""
    lamp = pal.Material((240, 240, 225), 0.9)
    red = pal.Material((170, 20, 20), 0.8)
    yf, yr = top[-1] - 0.12, top[0] - 0.12
    for s in (-1, 1):
        z = s * c.W * 0.36
        b.add(ellipsoid((0.08, 0.1, 0.25), (c.L / 2, yf, z), m=8, n=4), lamp)
        b.add(box((0.05, 0.08, 0.25), (-c.L / 2, yr, z)), red)
    dark = pal.any_of(rng, pal.plastic, pal.metal)
    if rng.random() < 0.6:
        for x in (-c.L / 2 - 0.04, c.L / 2 + 0.04):
            b.add(box((0.12, 0.14, c.W * 0.92), (x, c.clear + 0.2, 0)), dark)
    if c.kind not in ("racer", "convertible", "roadster"):
        xm = c.cab[0] - c.L / 2 - 0.05
        for s in (-1, 1):
            b.add(box((0.1, 0.1, 0.16), (xm, top[-6] + 0.08, s * (c.W / 2 + 0.06))), c.paint)


def _pickup_bed(b: ShapeBuilder, c: Car, floor: float) -> None:
    """Open load bed behind the cab: floor, sides and tailgate (hollow)."""
    x0, x1 = -c.L / 2, c.cab[3] - c.L / 2 - 0.05
    t = 0.06
    y0, y1 = floor - 0.03, c.belt + 0.02
    b.add(box_between((x0, y0, -c.W / 2), (x1, y0 + t, c.W / 2)), c.paint)
    for s in (-1, 1):
        z0, z1 = sorted((s * c.W / 2, s * (c.W / 2 - t)))
        b.add(box_between((x0, y0, z0), (x1, y1, z1)), c.paint)
    b.add(box_between((x0, y0, -c.W / 2), (x0 + t, y1, c.W / 2)), c.paint)


def _open_cockpit(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Convertible/jeep: windshield frame, seats and (jeep) a roll bar instead of a roof."""
    glass = pal.glass(rng)
    xw = c.cab[0] - c.L / 2
    b.add(box((0.05, 0.35, c.W * 0.85), (xw, c.belt + 0.17, 0.0)), glass)
    seat = pal.any_of(rng, pal.leather, pal.fabric)
    for s in (-1, 1):
        xs = xw - 0.7
        b.add(box((0.5, 0.12, 0.5), (xs, c.belt - 0.05, s * c.W * 0.22)), seat)
        b.add(box((0.12, 0.55, 0.5), (xs - 0.3, c.belt + 0.15, s * c.W * 0.22)), seat)
    if c.kind == "jeep":
        xr = xw - 1.3
        for s in (-1, 1):
            b.add(cylinder((xr, c.belt - 0.1, s * c.W * 0.42), (xr, c.roof, s * c.W * 0.42),
                           0.04, m=6), pal.metal(rng))
        b.add(cylinder((xr, c.roof, -c.W * 0.42), (xr, c.roof, c.W * 0.42), 0.04, m=6),
              pal.metal(rng))


def _racer(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Open-wheel racer: narrow tub, nose cone, wings, helmet; wheels outside the body."""
    tub_w = c.W * 0.35
    xs = np.linspace(0.0, c.L, 14)
    u = xs / c.L
    top = 0.25 + 0.45 * np.clip(1.0 - np.abs(u - 0.45) / 0.45, 0.0, 1.0)
    hw = tub_w / 2 * np.clip(1.2 - u, 0.25, 1.0)
    b.add(sections_along_x(xs - c.L / 2, np.full_like(xs, 0.08), top, hw, 0.08), c.paint)
    wing = pal.any_of(rng, pal.paint, pal.plastic)
    b.add(box((0.4, 0.04, c.W * 0.95), (c.L / 2 - 0.2, 0.12, 0)), wing)
    b.add(box((0.35, 0.05, c.W * 0.7), (-c.L / 2 + 0.15, 0.95, 0)), wing)
    for s in (-1, 1):
        b.add(box((0.3, 0.5, 0.03), (-c.L / 2 + 0.15, 0.7, s * c.W * 0.35)), wing)
    b.add(ellipsoid((0.3, 0.28, 0.26), (-0.1, 0.75, 0), m=10, n=5), pal.paint(rng))
    for s in (-1, 1):
        b.add(ellipsoid((1.2, 0.35, 0.35), (-0.3, 0.35, s * tub_w * 0.8), m=10, n=5), c.paint)


def _vintage(b: ShapeBuilder, c: Car) -> None:
    """Separate flowing fenders over the wheels and running boards."""
    for s in (-1, 1):
        z = s * (c.W / 2 - 0.12)
        for ax in c.axles:
            b.add(ellipsoid((c.wheel_r * 2.8, c.wheel_r * 1.2, 0.3), (ax - c.L / 2, c.wheel_r *
                                                                       1.25, z), m=12, n=5),
                  c.paint)
        b.add(box((c.axles[1] - c.axles[0], 0.05, 0.25), ((c.axles[0] + c.axles[1]) / 2 - c.L / 2,
                                                          c.wheel_r * 0.6, z)), c.paint)


def _kart(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Go-kart: flat chassis, seat, steering wheel, side pods and an engine beside the seat."""
    frame = pal.any_of(rng, pal.metal, pal.paint)
    b.add(box((c.L * 0.85, 0.04, c.W * 0.55), (0, 0.06, 0)), frame)
    seat = pal.any_of(rng, pal.plastic, pal.leather)
    b.add(box((0.35, 0.08, 0.4), (-0.2, 0.14, 0)), seat)
    b.add(box((0.08, 0.45, 0.4), (-0.4, 0.35, 0)), seat)
    b.add(cylinder((0.45, 0.1, 0), (0.2, 0.45, 0), 0.015, m=6), frame)
    b.add(torus((0.2, 0.45, 0), 0.14, 0.015, axis=0, m=12, n=4), pal.rubber(rng))
    b.add(box((0.3, 0.25, 0.2), (-0.45, 0.2, c.W * 0.18)), pal.metal(rng))
    for s_ in (-1, 1):
        b.add(box((c.L * 0.45, 0.12, 0.12), (0.0, 0.12, s_ * c.W * 0.33)), c.paint)
    b.add(box((0.15, 0.2, c.W * 0.5), (c.L / 2 - 0.1, 0.15, 0)), c.paint)


def _buggy(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Dune buggy: floor pan, tube roll cage, seats, rear engine and a wedge nose."""
    cage = pal.any_of(rng, pal.metal, pal.paint)
    y0 = c.clear
    b.add(box((c.L * 0.75, 0.06, c.W * 0.6), (0, y0, 0)), c.paint)
    xf, xr = c.L * 0.12, -c.L * 0.22
    top = c.roof
    hw = c.W * 0.3
    for x in (xf, xr):
        hoop = np.array([[x, y0, -hw], [x, top, -hw * 0.8], [x, top, hw * 0.8], [x, y0, hw]])
        b.add(tube(hoop, 0.03, 6), cage)
    for zz in (-hw * 0.8, hw * 0.8):
        b.add(cylinder((xf, top, zz), (xr, top, zz), 0.03, m=6), cage)
        b.add(cylinder((c.L * 0.4, y0 + 0.2, zz * 1.2), (xf, top, zz), 0.03, m=6), cage)
    b.add(prism([[0, 0], [c.L * 0.3, 0], [0, 0.4]], c.W * 0.5, (c.L * 0.12, y0, 0)), c.paint)
    b.add(box((0.6, 0.45, c.W * 0.4), (-c.L * 0.36, y0 + 0.25, 0)), pal.metal(rng))
    seat = pal.any_of(rng, pal.leather, pal.fabric)
    for s_ in (-1, 1):
        b.add(box((0.45, 0.5, 0.42), (-c.L * 0.05, y0 + 0.3, s_ * hw * 0.5)), seat)


def _monster(b: ShapeBuilder, c: Car) -> None:
    """Monster-truck chassis: frame rails and shock towers down to the giant wheels."""
    frame = pal.Material((40, 40, 40), 0.4)
    for s_ in (-1, 1):
        b.add(box((c.L * 0.8, 0.2, 0.15), (0, c.wheel_r, s_ * c.W * 0.25)), frame)
        for ax in c.axles:
            b.add(cylinder((ax - c.L / 2, c.wheel_r, s_ * c.W * 0.25),
                           (ax - c.L / 2, c.clear + 0.1, s_ * c.W * 0.3), 0.06, m=6), frame)


def _cab_over(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Cab-over truck: a tall cab at the front on a ladder chassis, and behind it a cargo box
    (box truck) or the bare frame with fuel tanks, exhaust stacks and a fifth wheel (tractor)."""
    x0 = c.cab[3] - c.L / 2  # back of the cab
    x1 = c.L / 2
    bot = c.wheel_r * rng.uniform(0.9, 1.3)
    frame = pal.Material((40, 40, 40), 0.4)
    for s_ in (-1, 1):
        b.add(box_between((-c.L / 2 + 0.1, bot - 0.05, s_ * c.W * 0.3 - 0.08),
                          (x1 - 0.2, bot + 0.2, s_ * c.W * 0.3 + 0.08)), frame)
    b.add(rounded_box((x1 - x0, c.roof - bot, c.W), 0.12, ((x0 + x1) / 2, (c.roof + bot) / 2, 0)),
          c.paint)
    glass = pal.glass(rng)
    b.add(box((0.06, (c.roof - c.belt) * 0.7, c.W * 0.86), (x1, c.belt + (c.roof - c.belt) * 0.4,
                                                         0)), glass)
    for s_ in (-1, 1):
        b.add(box(((x1 - x0) * 0.4, (c.roof - c.belt) * 0.55, 0.06),
                  (x1 - (x1 - x0) * 0.3, c.belt + (c.roof - c.belt) * 0.35, s_ * c.W / 2)), glass)
    b.add(box((0.2, 0.35, c.W * 0.96), (x1 + 0.02, c.clear + 0.2, 0)), pal.metal(rng))
    if c.kind == "boxtruck":
        top = c.roof * rng.uniform(1.0, 1.3)
        y0 = bot + 0.2
        b.add(box_between((-c.L / 2, y0, -c.W / 2 - 0.05), (x0 - rng.uniform(0.08, 0.3), top,
                                                          c.W / 2 + 0.05)), pal.painted(rng))
        return
    if rng.random() < 0.6:  # roof fairing
        fh = rng.uniform(0.4, 0.9)
        b.add(prism([[x0, c.roof - 0.05], [x1 - 0.5, c.roof - 0.05], [x0, c.roof + fh]],
                    c.W * 0.9), c.paint)
    steel = pal.metal(rng)
    ax_r = c.axles[0] - c.L / 2
    b.add(disc((ax_r, bot + 0.25, 0), 0.6, 0.08, axis=1), frame)
    for s_ in (-1, 1):
        xt = (x0 + c.axles[-1] - c.L / 2 - c.wheel_r) / 2
        b.add(cylinder((xt - 0.5, bot, s_ * c.W * 0.4), (xt + 0.5, bot, s_ * c.W * 0.4), 0.3,
                       m=12), steel)
    if rng.random() < 0.7:  # exhaust stacks behind the cab
        h = c.roof + rng.uniform(0.0, 0.6)
        for s_ in (-1, 1):
            b.add(cylinder((x0 - 0.1, bot, s_ * c.W * 0.42), (x0 - 0.1, h, s_ * c.W * 0.42), 0.07,
                           m=8), steel)


def _roof_rack(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Roof rails on short feet, optionally carrying a roof box or a load basket."""
    a, bf, br, _ = c.cab
    xa, xb = br - c.L / 2 + 0.1, bf - c.L / 2 - 0.1
    if xb - xa < 0.5:
        return
    h = rng.uniform(0.06, 0.12)
    mat = pal.any_of(rng, pal.metal, pal.plastic)
    for s_ in (-1, 1):
        z = s_ * c.W * 0.38
        b.add(box_between((xa, c.roof - 0.02, z - 0.03), (xb, c.roof + h, z + 0.03)), mat)
    r = rng.random()
    if r < 0.45:  # aerodynamic roof box
        bh = rng.uniform(0.3, 0.45)
        bl = (xb - xa) * rng.uniform(0.7, 1.0)
        b.add(rounded_box((bl, bh, c.W * rng.uniform(0.5, 0.7)), 0.12,
                          ((xa + xb) / 2, c.roof + h + bh / 2, 0), axis=2), pal.plastic(rng))
    elif r < 0.75:  # basket with a load
        bh = rng.uniform(0.15, 0.6)
        b.add(box(((xb - xa) * 0.8, bh, c.W * 0.6), ((xa + xb) / 2, c.roof + h + bh / 2, 0)),
              pal.fabric(rng))


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A car of a random type."""
    b = ShapeBuilder()
    c = _sample(rng)
    b.kind = c.kind
    special = {"racer": (_racer, 0.25), "kart": (_kart, 0.0), "buggy": (_buggy, 0.2)}
    if c.kind in special:
        fn, outboard = special[c.kind]
        fn(b, rng, c)
        _wheels(b, rng, c, outboard=outboard)
        return b
    if c.kind == "vintage":
        c.W *= 0.8
    if c.kind in ("semi", "boxtruck"):
        _cab_over(b, rng, c)
        _wheels(b, rng, c)
        return b
    if c.kind == "monster":
        _monster(b, c)
    floor = c.belt - rng.uniform(0.4, 0.55)
    cut, x0 = None, 0.0
    if c.kind in ("pickup", "monster"):
        x0 = c.cab[3] - 0.05
        frame = pal.Material((40, 40, 40), 0.4)
        for s_ in (-1, 1):
            b.add(box_between((-c.L / 2 + 0.2, c.clear + 0.05, s_ * c.W * 0.3 - 0.07),
                              (x0 - c.L / 2 + 0.3, max(floor, c.clear + 0.25),
                               s_ * c.W * 0.3 + 0.07)), frame)
    elif c.kind in ("convertible", "jeep", "roadster"):
        cut = (c.cab[3], c.cab[0], floor)
        for s_ in (-1, 1):
            z0, z1 = sorted((s_ * c.W * 0.49, s_ * (c.W * 0.49 - 0.07)))
            b.add(box_between((c.cab[3] - c.L / 2, floor - 0.05, z0),
                              (c.cab[0] - c.L / 2, c.belt - 0.02, z1)), c.paint)
    lower, xs, top = _lower_body(c, cut, x0=x0)
    b.add(lower, c.paint)
    glass = pal.glass(rng)
    if c.kind in ("convertible", "jeep", "roadster"):
        _open_cockpit(b, rng, c)
    else:
        b.add(_cabin(c, top, xs), glass)
        roof_mat = c.paint if rng.random() < 0.7 else pal.paint(rng)
        a, bf, br, _ = c.cab
        if bf - br > 0.3:
            b.add(box((bf - br, 0.04, c.W * 0.82), ((bf + br) / 2 - c.L / 2, c.roof, 0.0)),
                  roof_mat)
    if c.kind in ("pickup", "monster"):
        _pickup_bed(b, c, floor)
    if c.kind == "truck" and rng.random() < 0.7:
        x1 = c.cab[3] - c.L / 2 - 0.1
        b.add(box_between((-c.L / 2, c.belt - 0.3, -c.W / 2), (x1, c.roof * rng.uniform(1.0, 1.3),
                                                               c.W / 2)), pal.painted(rng))
    if c.kind == "vintage":
        _vintage(b, c)
    if c.kind == "sports" and rng.random() < 0.4:
        b.add(box((0.25, 0.04, c.W * 0.9), (-c.L / 2 + 0.2, c.belt + 0.22, 0)), c.paint)
    if c.kind in ("suv", "wagon", "van", "hatch", "jeep", "minibus") and rng.random() < 0.45:
        _roof_rack(b, rng, c)
    elif c.kind == "sedan" and rng.random() < 0.25:  # taxi sign or police light bar
        a, bf, br, _ = c.cab
        lh = rng.uniform(0.12, 0.3)
        b.add(rounded_box((0.3, lh, c.W * rng.uniform(0.3, 0.8)), 0.05,
                          ((bf + br) / 2 - c.L / 2, c.roof + lh / 2, 0)), pal.light(rng))
    if c.kind in ("jeep", "suv") and rng.random() < 0.4:
        b.add(disc((-c.L / 2 - 0.12, c.belt - 0.1, 0.0), c.wheel_r, 0.22, axis=0), pal.rubber(rng))
    _details(b, rng, c, top)
    _wheels(b, rng, c, outboard=0.25 if c.kind == "monster" else 0.0)
    return b
