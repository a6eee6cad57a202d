"""Cars: the closed road cars (sedans, sports and supercars, SUVs, hatchbacks, wagons, vans,
pickups), bubble, micro and kei cars, limousines and minibuses, open-top cars (convertibles,
roadsters, jeeps, T-buckets, vintage cars), trucks (flatbed and tow trucks, box trucks,
tractor units, monster trucks) and racing cars and open frames (Formula cars, dragsters, sprint
cars, land-speed streamliners, go-karts, dune buggies, golf carts, horseless carriages).

Road cars: the body is lofted from rounded cross-sections along X (bottom raised into wheel
arches, beltline, width), a glass cabin is lofted on top from a roof profile, and wheels,
lights, bumpers, mirrors, spoilers and beds are added per type.  Closed cabins stay solid (the
glass closes them, as ShapeNetVox32 fills them); open vehicles are frames, tubs and seats with
exposed wheels.
Each family is a row of :data:`FAMILIES` (its weight, proportions, builder and options): road
cars and trucks share :func:`_road_car` with per-family parameters (open or closed body, what
sits behind the cab, extras), the open frames have builders of their own; ``build`` draws a row
and calls its builder.
Frame: length along X with the front (hood, windshield) toward +X, as in the ShapeNetVox32 car
sample; width along Z; wheels on y = 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import rot_z
from .palette import Material
from .parts import wheel
from .primitives import (
    arc_path,
    box,
    box_between,
    cylinder,
    disc,
    ellipsoid,
    prism,
    rounded_box,
    sections_along_x,
    sphere,
    superellipsoid,
    torus,
    tube,
)

Range = tuple[float, float]


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


#: adds a family's body (and, for the families that place their own, its wheels) to the builder
Builder = Callable[[ShapeBuilder, np.random.Generator, Car], None]
#: adds what a road car or truck carries behind its cab, given the height of its floor
Rear = Callable[[ShapeBuilder, np.random.Generator, Car, float], None]


@dataclass(frozen=True)
class Family:
    """One structural family of cars: a row of :data:`FAMILIES`.

    Ranges are drawn uniformly; x fractions run from the rear end (0) to the front (1).
    """

    name: str  # recorded as the shape's subtype
    weight: float  # percent of the class
    length: Range  # metres
    width: Range  # fraction of the length
    roof: Range  # roof height, metres
    belt: Range  # beltline height, fraction of the roof height
    cab: tuple[float, float, float, float]  # Car.cab as fractions of the length, before jitter
    wheel_r: Range  # wheel radius, metres
    build: Builder
    wheels: float | None = 0.0  # _wheels pushed this far outboard; None: ``build`` places them
    liftable: bool = False  # may be lifted on big tyres (see _stance)
    lowerable: bool = False  # may be slammed (see _stance)
    width_m: Range | None = None  # absolute width (metres) replacing the ratio's
    compact: bool = False  # city car: at most 0.8 L wide; roof, belt, wheels, clearance capped
    overhangs: tuple[Range, Range] | None = None  # (front, rear) fractions of L, else the default
    tractor: bool = False  # the rear range of ``overhangs`` places the rear axle itself
    tandem: bool = False  # a second rear axle half the time


#: overhangs (front, rear) of short city cars and hatchbacks, and of long trucks and open frames
_SHORT: tuple[Range, Range] = ((0.08, 0.14), (0.04, 0.1))
_LONG: tuple[Range, Range] = ((0.05, 0.18), (0.1, 0.3))


def _sample(rng: np.random.Generator) -> tuple[Family, Car]:
    """Draw a family of :data:`FAMILIES` by weight, then its proportions."""
    w = np.array([f.weight for f in FAMILIES])
    f = FAMILIES[int(rng.choice(len(FAMILIES), p=w / w.sum()))]
    length = rng.uniform(*f.length)
    roof = rng.uniform(*f.roof)
    jitter = rng.uniform(-0.04, 0.04, 4)
    cab_x = tuple(float(np.clip(c + j, 0.0, 1.0) * length) for c, j in zip(f.cab, jitter,
                                                                             strict=True))
    wheel_r = rng.uniform(*f.wheel_r)
    clear = _clearance(rng, f.name, wheel_r)
    belt = roof * rng.uniform(*f.belt)
    clear, belt, roof, wheel_r = _stance(rng, f, clear, belt, roof, wheel_r)
    width = length * rng.uniform(*f.width)
    if f.width_m is not None:  # a limo is stretched, not widened; city cars are narrow
        width = rng.uniform(*f.width_m)
    if f.compact:  # city cars down to nearly cubic bubble cars
        width = min(width, 0.8 * length)
        roof, belt = min(roof, 0.9 * length), min(belt, 0.5 * length)
        wheel_r = min(wheel_r, 0.06 + 0.08 * length)
        clear = min(clear, 0.6 * wheel_r)
    car = Car(f.name, length, width, clear, belt, roof,
              cab_x, wheel_r, hood_drop=rng.uniform(0.0, 0.25), tail_drop=rng.uniform(0.0, 0.15),
              paint=pal.paint(rng))
    car.axles = _axles(rng, f, length, wheel_r)
    return f, car


def _clearance(rng: np.random.Generator, kind: str, wheel_r: float) -> float:
    """Ground clearance (metres): a set height for racers and karts, a range for golf carts,
    else a multiple of the wheel radius.

    All five draws are made for every family, in this order: the datasets already built from
    this generator depend on them, so skipping the unused ones would change every later draw.
    """
    special = {"racer": 0.06, "kart": 0.04, "monster": wheel_r * rng.uniform(1.2, 1.5),
               "buggy": wheel_r * rng.uniform(0.7, 0.9), "golf": rng.uniform(0.15, 0.25),
               "supercar": wheel_r * rng.uniform(0.25, 0.4)}
    return special.get(kind, wheel_r * rng.uniform(0.35, 0.7))


def _stance(rng: np.random.Generator, f: Family, clear: float, belt: float, roof: float,
            wheel_r: float) -> tuple[float, float, float, float]:
    """Lift an off-roader on big tyres or slam a road car: ``(clear, belt, roof, wheel_r)``.

    One draw decides for every family: below 0.45 a liftable car is lifted, else below 0.35 a
    lowerable one is slammed, so a family that is both (hatch, wagon) is never slammed.
    """
    mode = rng.random()
    if f.liftable and mode < 0.45:  # lifted off-roader on big tyres
        lift = rng.uniform(0.2, 0.6)
        wheel_r *= rng.uniform(1.1, 1.35)
        clear, belt, roof = clear + lift, belt + lift, roof + lift
    elif f.lowerable and mode < 0.35:  # slammed
        drop = max(0.0, min(clear - 0.04, rng.uniform(0.05, 0.25)))
        clear, belt, roof = clear - drop, belt - drop, roof - drop
    return clear, belt, roof, wheel_r


def _axles(rng: np.random.Generator, f: Family, length: float, wheel_r: float) -> list[float]:
    """Axle x positions: the default overhangs or the family's (drawn after the default pair,
    which every family draws), a tractor's rear axle under its fifth wheel, maybe a tandem."""
    front, rear = rng.uniform(0.12, 0.22), rng.uniform(0.1, 0.22)
    if f.overhangs is not None:
        front, rear = rng.uniform(*f.overhangs[0]), rng.uniform(*f.overhangs[1])
    if f.tractor:
        axles = [length * rear, length * (1 - front) - wheel_r]
    else:
        axles = [length * rear + wheel_r, length * (1 - front) - wheel_r]
    if f.tandem and rng.random() < 0.5:
        axles.insert(1, axles[0] + 2.3 * wheel_r)
    return axles


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


def _details(b: ShapeBuilder, rng: np.random.Generator, c: Car, top: np.ndarray,
             rear_y: float | None = None, mirrors: bool = True) -> None:
    """Headlights, tail lights (at ``rear_y`` when given), bumpers and (``mirrors``) mirrors."""
    lamp = pal.Material((240, 240, 225), 0.9)
    red = pal.Material((170, 20, 20), 0.8)
    yf, yr = top[-1] - 0.12, (top[0] - 0.12 if rear_y is None else rear_y)
    for s in (-1, 1):
        z = s * c.W * 0.36
        b.add(ellipsoid((0.08, 0.1, 0.25), (c.L / 2, yf, z), m=8, n=4), lamp)
        b.add(box((0.05, 0.08, 0.25), (-c.L / 2, yr, z)), red)
    dark = pal.any_of(rng, pal.plastic, pal.metal)
    if rng.random() < 0.6:
        for x in (-c.L / 2 - 0.04, c.L / 2 + 0.04):
            b.add(box((0.12, 0.14, c.W * 0.92), (x, c.clear + 0.2, 0)), dark)
    if mirrors:
        xm = c.cab[0] - c.L / 2 - 0.05
        for s in (-1, 1):
            b.add(box((0.1, 0.1, 0.16), (xm, top[-6] + 0.08, s * (c.W / 2 + 0.06))), c.paint)


def _pickup_bed(b: ShapeBuilder, rng: np.random.Generator, c: Car, floor: float) -> None:
    """Open load bed behind the cab: floor, sides and tailgate (hollow)."""
    x0, x1 = -c.L / 2, c.cab[3] - c.L / 2 - 0.05
    t = 0.06
    y0, y1 = floor - 0.03, c.belt + 0.02
    b.add(box_between((x0, y0, -c.W / 2), (x1, y0 + t, c.W / 2)), c.paint)
    for s in (-1, 1):
        z0, z1 = sorted((s * c.W / 2, s * (c.W / 2 - t)))
        b.add(box_between((x0, y0, z0), (x1, y1, z1)), c.paint)
    b.add(box_between((x0, y0, -c.W / 2), (x0 + t, y1, c.W / 2)), c.paint)


def _open_cockpit(b: ShapeBuilder, rng: np.random.Generator, c: Car,
                  roll_bar: bool = False) -> None:
    """Convertible/jeep: windshield frame, seats and (jeep) a roll bar instead of a roof."""
    glass = pal.glass(rng)
    xw = c.cab[0] - c.L / 2
    b.add(box((0.05, 0.35, c.W * 0.85), (xw, c.belt + 0.17, 0.0)), glass)
    seat = pal.any_of(rng, pal.leather, pal.fabric)
    for s in (-1, 1):
        xs = xw - 0.7
        b.add(box((0.5, 0.12, 0.5), (xs, c.belt - 0.05, s * c.W * 0.22)), seat)
        b.add(box((0.12, 0.55, 0.5), (xs - 0.3, c.belt + 0.15, s * c.W * 0.22)), seat)
    if roll_bar:
        xr = xw - 1.3
        for s in (-1, 1):
            b.add(cylinder((xr, c.belt - 0.1, s * c.W * 0.42), (xr, c.roof, s * c.W * 0.42),
                           0.04, m=6), pal.metal(rng))
        b.add(cylinder((xr, c.roof, -c.W * 0.42), (xr, c.roof, c.W * 0.42), 0.04, m=6),
              pal.metal(rng))


def _racer(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Open-wheel racer: narrow tub, nose cone and helmet, wheels outside the body; a modern car
    adds front and rear wings and side pods, a 1950s-60s one is a bare cigar with a headrest."""
    modern = rng.random() < 0.65
    tub_w = c.W * rng.uniform(0.28, 0.36)
    xs = np.linspace(0.0, c.L, 14)
    u = xs / c.L
    xc = rng.uniform(0.38, 0.5)  # cockpit station
    peak = rng.uniform(0.55, 0.72)
    top = 0.22 + (peak - 0.22) * np.clip(1.0 - np.abs(u - xc) / 0.5, 0.0, 1.0)
    hw = tub_w / 2 * np.interp(u, [0.0, 0.15, xc, 1.0], [0.55, 0.85, 1.0, 0.2])
    bot = 0.08 + (0.12 * np.clip((u - 0.7) / 0.3, 0.0, 1.0) if modern else 0.0)
    b.add(sections_along_x(xs - c.L / 2, np.full_like(xs, 0.0) + bot, top, hw, 0.08), c.paint)
    x_helm = (xc - 0.08) * c.L - c.L / 2
    b.add(ellipsoid((0.3, 0.28, 0.26), (x_helm, peak + 0.05, 0), m=10, n=5), pal.paint(rng))
    if not modern:  # headrest fairing and exhausts
        b.add(ellipsoid((c.L * 0.3, 0.25, 0.22), (x_helm - c.L * 0.15, peak - 0.05, 0), m=10,
                        n=5), c.paint)
        for s in (-1, 1):
            b.add(cylinder((x_helm - 0.3, 0.3, s * tub_w * 0.5), (-c.L / 2, 0.35, s * tub_w * 0.6),
                           0.04, m=6), pal.metal(rng))
        return
    wing = pal.any_of(rng, pal.paint, pal.plastic)
    b.add(box((0.4, 0.04, c.W * 0.95), (c.L / 2 - 0.2, 0.12, 0)), wing)
    yw = rng.uniform(0.8, 1.0)
    b.add(box((0.35, 0.05, c.W * 0.7), (-c.L / 2 + 0.15, yw, 0)), wing)
    for s in (-1, 1):
        b.add(box((0.3, 0.5, 0.03), (-c.L / 2 + 0.15, yw - 0.25, s * c.W * 0.35)), wing)
    if rng.random() < 0.6:  # airbox above the driver's head
        b.add(prism([[0.0, 0.0], [0.5, 0.0], [0.0, 0.3]], 0.25, (x_helm - 0.6, peak, 0)),
              c.paint)
    pod = rng.uniform(0.8, 1.3)
    for s in (-1, 1):
        b.add(ellipsoid((pod, 0.32, 0.32), (x_helm - 0.2 - pod / 4, 0.33, s * tub_w * 0.8), m=10,
                        n=5), c.paint)


def _fenders(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Vintage car: separate flowing fenders over the wheels and running boards (no draws)."""
    for s in (-1, 1):
        z = s * (c.W / 2 - 0.12)
        for ax in c.axles:
            b.add(ellipsoid((c.wheel_r * 2.8, c.wheel_r * 1.2, 0.3), (ax - c.L / 2, c.wheel_r *
                                                                       1.25, z), m=12, n=5),
                  c.paint)
        b.add(box((c.axles[1] - c.axles[0], 0.05, 0.25), ((c.axles[0] + c.axles[1]) / 2 - c.L / 2,
                                                          c.wheel_r * 0.6, z)), c.paint)


def _kart(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Go-kart: tube frame with a narrow floor tray, seat, steering wheel, side pods, nose
    fairing and rear bumper, and the engine beside the seat."""
    frame = pal.any_of(rng, pal.metal, pal.paint)
    for s_ in (-1, 1):
        rail = np.array([[-c.L * 0.42, 0.06, s_ * c.W * 0.22], [c.L * 0.15, 0.06, s_ * c.W * 0.22],
                         [c.L * 0.42, 0.06, s_ * c.W * 0.1]])
        b.add(tube(rail, 0.016, 6), frame)
    b.add(box((c.L * 0.5, 0.02, c.W * 0.3), (c.L * 0.12, 0.05, 0)), frame)
    seat = pal.any_of(rng, pal.plastic, pal.leather)
    b.add(box((0.35, 0.08, 0.4), (-0.2, 0.14, 0)), seat)
    b.add(box((0.08, 0.45, 0.4), (-0.4, 0.35, 0)), seat)
    b.add(cylinder((0.45, 0.1, 0), (0.2, 0.45, 0), 0.015, m=6), frame)
    b.add(torus((0.2, 0.45, 0), 0.14, 0.015, axis=0, m=12, n=4), pal.rubber(rng))
    b.add(box((0.3, 0.25, 0.2), (-0.45, 0.2, c.W * 0.18)), pal.metal(rng))
    pods = rng.random() < 0.7
    for s_ in (-1, 1):
        if pods:
            b.add(box((c.L * 0.35, 0.12, 0.12), (0.0, 0.12, s_ * c.W * 0.36)), c.paint)
        b.add(cylinder((-c.L / 2 + 0.04, 0.12, s_ * c.W * 0.3), (-c.L / 2 + 0.04, 0.12, 0),
                       0.015, m=6), frame)
    if rng.random() < 0.8:
        b.add(box((0.15, 0.2, c.W * 0.45), (c.L / 2 - 0.1, 0.15, 0)), c.paint)


def _buggy(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Dune buggy: floor pan, tube roll cage, seats, rear engine and a wedge nose."""
    cage = pal.any_of(rng, pal.metal, pal.paint)
    y0 = c.clear
    b.add(box((c.L * 0.55, 0.05, c.W * 0.36), (-c.L * 0.05, y0, 0)), c.paint)
    for s_ in (-1, 1):
        b.add(cylinder((-c.L * 0.42, y0, s_ * c.W * 0.3), (c.L * 0.35, y0, s_ * c.W * 0.2), 0.03,
                       m=6), cage)
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


def _cab_over(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> tuple[float, float, Material]:
    """Cab-over truck's front: a tall cab at the front on a ladder chassis.  Returns the x of
    the cab's back, the chassis height and the frame's material."""
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
    return x0, bot, frame


def _box_truck(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Box truck: a cab-over cab and a tall cargo box behind it."""
    x0, bot, _ = _cab_over(b, rng, c)
    top = c.roof * rng.uniform(1.0, 1.3)
    y0 = bot + 0.2
    b.add(box_between((-c.L / 2, y0, -c.W / 2 - 0.05), (x0 - rng.uniform(0.08, 0.3), top,
                                                      c.W / 2 + 0.05)), pal.painted(rng))


def _tractor(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Tractor unit (semi): a cab-over cab, sometimes a roof fairing, and behind it the bare
    frame with a fifth wheel, fuel tanks and often exhaust stacks."""
    x0, bot, frame = _cab_over(b, rng, c)
    x1 = c.L / 2
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


def _dragster(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Top-fuel dragster: bare rails and a needle nose, the cockpit and roll cage ahead of the
    engine (blower and scoop on top), huge rear slicks, bicycle-thin front wheels and a tall
    rear wing on struts behind the rear axle."""
    frame = pal.any_of(rng, pal.metal, pal.paint)
    steel = pal.metal(rng)
    rr, fr = c.wheel_r, rng.uniform(0.17, 0.24)
    chord = rng.uniform(0.8, 1.2)
    x_wing = -c.L / 2 + chord / 2
    xr = x_wing + chord / 2 + rng.uniform(0.1, 0.5)
    xf = c.L / 2 - fr - rng.uniform(0.05, 0.6)
    c.axles = [xr + c.L / 2, xf + c.L / 2]
    y_rail = rr * rng.uniform(0.5, 0.75)
    for s in (-1, 1):
        b.add(cylinder((xr - 0.2, y_rail, s * 0.22), (xf, fr + 0.05, s * 0.06), 0.035, m=6),
              frame)
    x_eng = xr + rng.uniform(0.75, 0.95)
    x_cock = x_eng + rng.uniform(0.7, 0.9)
    xs = np.linspace(x_cock - 0.4, c.L / 2, 9)
    u = (xs - xs[0]) / (xs[-1] - xs[0])
    top = y_rail + 0.35 - u * (y_rail + 0.3 - fr - 0.12)
    bot = np.minimum(y_rail - 0.08, top - 0.1) - u * 0.05
    b.add(sections_along_x(xs, bot, top, 0.28 - 0.22 * u, 0.05), c.paint)
    _dragster_engine(b, rng, x_eng, y_rail, steel, frame)
    cage_top = y_rail + rng.uniform(0.75, 0.95)
    for x in (x_cock - 0.35, x_cock + 0.3):
        hoop = np.array([[x, y_rail, -0.22], [x, cage_top, -0.16], [x, cage_top, 0.16],
                         [x, y_rail, 0.22]])
        b.add(tube(hoop, 0.025, 6), frame)
    b.add(sphere((x_cock - 0.1, cage_top - 0.2, 0), 0.14, m=10, n=5), pal.paint(rng))
    _dragster_wing(b, rng, c, x_wing, chord, xr, frame)
    tyre, rim = pal.rubber(rng), pal.metal(rng)
    rw = rng.uniform(0.38, 0.48)
    for s in (-1, 1):
        wheel(b, tyre, rim, (xr, rr, s * (c.W / 2 - rw / 2)), rr, rw)
        wheel(b, tyre, rim, (xf, fr, s * rng.uniform(0.35, 0.45)), fr, 0.07, spokes=True)


def _dragster_engine(b: ShapeBuilder, rng: np.random.Generator, x_eng: float, y_rail: float,
                     steel: Material, frame: Material) -> None:
    """Dragster engine block at ``x_eng`` on the rails: blower, scoop and zoomie headers."""
    b.add(box((0.75, 0.5, 0.45), (x_eng, y_rail + 0.3, 0)), steel)
    yb = y_rail + 0.55
    b.add(rounded_box((0.5, 0.32, 0.34), 0.06, (x_eng, yb + 0.16, 0)), steel)
    hs = rng.uniform(0.15, 0.4)
    b.add(prism([[-0.15, 0], [0.2, 0], [0.1, hs], [-0.15, hs]], 0.3,
                (x_eng, yb + 0.32, 0)), frame)
    for s in (-1, 1):  # zoomie headers
        for k in range(4):
            x = x_eng - 0.3 + 0.2 * k
            b.add(cylinder((x, y_rail + 0.25, s * 0.22), (x - 0.12, y_rail + 0.45, s * 0.42),
                           0.035, m=6), steel)


def _dragster_wing(b: ShapeBuilder, rng: np.random.Generator, c: Car, x_wing: float,
                   chord: float, xr: float, frame: Material) -> None:
    """Tall tilted rear wing with side plates, on struts from the rear axle at ``xr``."""
    wing = pal.any_of(rng, pal.paint, pal.metal)
    span = c.W * rng.uniform(0.7, 0.9)
    yw = c.roof
    b.add(box((chord, 0.06, span), (x_wing, yw, 0), rot_z(rng.uniform(0.1, 0.3))), wing)
    for s in (-1, 1):
        b.add(box((chord * 1.05, 0.5, 0.03), (x_wing, yw - 0.15, s * span / 2)), wing)
        b.add(cylinder((xr, c.wheel_r * 0.9, s * 0.25), (x_wing + 0.1, yw - 0.05, s * span * 0.3),
                       0.03, m=6), frame)


def _sprint(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Sprint car: narrow tub and fuel tail, a tall roll cage carrying a huge flat top wing with
    side boards, a small front wing, nerf bars and staggered rear tyres."""
    frame = pal.any_of(rng, pal.metal, pal.paint)
    rr = c.wheel_r
    fr = rr * rng.uniform(0.68, 0.8)
    xr = -c.L / 2 + rng.uniform(0.6, 0.8) + rr
    xf = xr + rng.uniform(2.1, 2.3)  # wheelbase
    c.axles = [xr + c.L / 2, xf + c.L / 2]
    xs = np.linspace(xr - rng.uniform(0.4, 0.7), xf + 0.35, 10)
    u = (xs - xs[0]) / (xs[-1] - xs[0])
    top = np.interp(u, [0, 0.25, 0.45, 0.6, 1], [0.95, 0.95, 0.8, 0.7, 0.55])
    hw = np.interp(u, [0, 0.3, 0.6, 1], [0.3, 0.28, 0.24, 0.12])
    b.add(sections_along_x(xs, np.full_like(xs, 0.22), top, hw, 0.08), c.paint)
    xc = xr + (xf - xr) * rng.uniform(0.3, 0.4)
    cage_top = rng.uniform(1.25, 1.45)
    for x in (xc - 0.4, xc + 0.35):
        hoop = np.array([[x, 0.6, -0.33], [x, cage_top, -0.28], [x, cage_top, 0.28],
                         [x, 0.6, 0.33]])
        b.add(tube(hoop, 0.025, 6), frame)
    b.add(sphere((xc - 0.1, 1.0, 0), 0.15, m=10, n=5), pal.paint(rng))
    wing = pal.any_of(rng, pal.paint, pal.painted)
    lw, span = rng.uniform(1.3, 1.7), c.W * rng.uniform(0.6, 0.75)
    yw = c.roof - 0.45
    wx = xc + rng.uniform(-0.1, 0.3)
    tilt = rot_z(-rng.uniform(0.05, 0.2))
    b.add(box((lw, 0.04, span), (wx, yw, 0), tilt), wing)
    for s in (-1, 1):
        b.add(box((lw * 1.05, 0.9, 0.03), (wx, yw + 0.05, s * span / 2), tilt), wing)
        b.add(cylinder((xc - 0.4, cage_top, s * 0.28), (wx - 0.3, yw, s * 0.28), 0.025, m=6),
              frame)
        b.add(cylinder((xc + 0.35, cage_top, s * 0.28), (wx + 0.4, yw, s * 0.28), 0.025, m=6),
              frame)
    fw = rng.uniform(0.5, 0.8)
    yf = fr * 2 + rng.uniform(0.1, 0.3)
    b.add(box((fw, 0.03, c.W * 0.45), (xf, yf, 0)), wing)
    b.add(cylinder((xf - 0.3, 0.55, 0), (xf, yf, 0), 0.03, m=6), frame)
    for s in (-1, 1):
        b.add(box((fw, 0.25, 0.03), (xf, yf + 0.1, s * c.W * 0.225)), wing)
        rail = np.array([[xf - fr, 0.35, s * 0.3], [xf - fr - 0.2, 0.35, s * c.W * 0.4],
                         [xr + rr + 0.2, 0.35, s * c.W * 0.4], [xr + rr, 0.35, s * 0.3]])
        b.add(tube(rail, 0.022, 6), frame)
    tyre, rim = pal.rubber(rng), pal.metal(rng)
    for s in (-1, 1):
        r = rr * (1.0 if s > 0 else rng.uniform(0.88, 0.96))
        w = rng.uniform(0.35, 0.45)
        wheel(b, tyre, rim, (xr, r, s * (c.W / 2 - w / 2)), r, w)
        wheel(b, tyre, rim, (xf, fr, s * (c.W * 0.4)), fr, rng.uniform(0.18, 0.25))


def _golf_cart(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Golf cart or utility cart: low floor, front cowl, bench seat(s) over the rear body, a flat
    canopy on four posts, sometimes a windscreen and a golf-bag rack or cargo box at the back."""
    body = c.paint
    trim = pal.any_of(rng, pal.plastic, pal.painted)
    y0 = c.clear
    hw = c.W / 2
    b.add(box_between((-c.L / 2 + 0.1, y0, -hw * 0.9), (c.L / 2 - 0.1, y0 + 0.08, hw * 0.9)),
          trim)
    cowl_l = rng.uniform(0.45, 0.65)
    y_cowl = rng.uniform(0.75, 0.95)
    xs = np.linspace(c.L / 2 - cowl_l, c.L / 2, 6)
    u = (xs - xs[0]) / cowl_l
    top = y_cowl - (y_cowl - y0 - 0.35) * u ** 2
    b.add(sections_along_x(xs, np.full_like(xs, y0), top, hw * (1.0 - 0.1 * u), 0.12), body)
    y_seat = rng.uniform(0.55, 0.7)
    rows = 2 if c.L > 3.0 else 1
    rear_l = rng.uniform(0.8, 1.05) * rows
    x_back = -c.L / 2 + rng.uniform(0.0, 0.25)
    b.add(rounded_box((rear_l, y_seat - y0, c.W), 0.08,
                      (x_back + rear_l / 2, (y0 + y_seat) / 2, 0), axis=0), body)
    _cart_benches(b, rng, c, rows, rear_l, x_back, y_seat)
    _cart_canopy(b, rng, c, x_back, c.L / 2 - cowl_l + 0.05, y_cowl, y_seat, trim)
    r = rng.random()
    if rows == 1 and r < 0.5:  # golf bags standing on the rear rack
        bag = pal.any_of(rng, pal.fabric, pal.leather)
        for s in (-1, 1):
            b.add(cylinder((x_back - 0.15, y_seat - 0.1, s * c.W * 0.22),
                           (x_back + 0.05, y_seat + 0.75, s * c.W * 0.22), 0.13, m=10), bag)
    elif rows == 1 and r < 0.75:  # utility cargo box
        b.add(box((0.5, 0.35, c.W * 0.9), (x_back - 0.2, y_seat + 0.1, 0)), trim)
    tyre, rim = pal.rubber(rng), pal.metal(rng)
    for ax in c.axles:
        for s in (-1, 1):
            wheel(b, tyre, rim, (ax - c.L / 2, c.wheel_r, s * (hw - 0.08)), c.wheel_r, 0.18)


def _cart_benches(b: ShapeBuilder, rng: np.random.Generator, c: Car, rows: int, rear_l: float,
                  x_back: float, y_seat: float) -> None:
    """One or two bench seats with backrests over the rear body (a second row faces back)."""
    seat = pal.any_of(rng, pal.leather, pal.plastic, pal.fabric)
    for k in range(rows):
        x1 = x_back + rear_l * (1.0 - k * 0.5)  # front of this bench
        sl = rear_l / rows * 0.8
        b.add(box((sl, 0.12, c.W * 0.9), (x1 - sl / 2, y_seat + 0.06, 0)), seat)
        facing = -1.0 if k == 1 else 1.0  # a rear bench faces backwards
        xb = x1 - sl if facing > 0 else x1
        b.add(box((0.1, 0.45, c.W * 0.9), (xb, y_seat + 0.33, 0)), seat)


def _cart_canopy(b: ShapeBuilder, rng: np.random.Generator, c: Car, x_back: float,
                 xf_post: float, y_cowl: float, y_seat: float, trim: Material) -> None:
    """Flat canopy on four posts (the front ones leaning back from the cowl), sometimes a
    windscreen, and the steering column and wheel."""
    hw = c.W / 2
    roof_y = c.roof
    xr_post = x_back + 0.15
    lean = rng.uniform(0.1, 0.35)
    metal = pal.metal(rng)
    for s in (-1, 1):
        z = s * hw * 0.85
        b.add(cylinder((xr_post, y_seat, z), (xr_post, roof_y, z), 0.025, m=6), metal)
        b.add(cylinder((xf_post, y_cowl - 0.05, z), (xf_post - lean, roof_y, z), 0.025, m=6),
              metal)
    x0, x1 = x_back - rng.uniform(0.0, 0.15), xf_post - lean + rng.uniform(0.05, 0.3)
    b.add(rounded_box((x1 - x0, rng.uniform(0.05, 0.12), c.W * rng.uniform(1.0, 1.08)), 0.04,
                      ((x0 + x1) / 2, roof_y, 0), axis=0), trim)
    if rng.random() < 0.5:
        b.add(box_between((xf_post - lean * 0.5 - 0.02, y_cowl, -hw * 0.8),
                          (xf_post - lean * 0.5 + 0.02, roof_y - 0.1, hw * 0.8)), pal.glass(rng))
    b.add(cylinder((xf_post - 0.1, y_cowl - 0.1, -c.W * 0.2), (xf_post - 0.35, y_seat + 0.45,
                                                              -c.W * 0.2), 0.02, m=6), metal)
    b.add(torus((xf_post - 0.35, y_seat + 0.45, -c.W * 0.2), 0.16, 0.02, axis=0, m=12, n=4),
          pal.rubber(rng))


def _horseless(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Veteran car (horseless carriage, about 1900-1910): tall spoked wheels with mudguards, a
    light frame, a high buttoned bench seat or two, a small bonnet or curved dash, a steering
    column or tiller, carriage lamps and sometimes a canopy (surrey top) on thin posts."""
    body = c.paint
    trim = pal.any_of(rng, pal.metal, pal.painted)
    rr = c.wheel_r
    fr = rr * rng.uniform(0.8, 1.0)
    xr, xf = c.axles[0] - c.L / 2, c.axles[1] - c.L / 2
    y_fr = rr * rng.uniform(0.9, 1.15)
    for s in (-1, 1):
        b.add(box_between((xr - 0.3, y_fr - 0.04, s * c.W * 0.28 - 0.03),
                          (xf + 0.2, y_fr + 0.04, s * c.W * 0.28 + 0.03)), trim)
    y_floor = y_fr + 0.06
    b.add(box_between((xr - 0.3, y_fr + 0.04, -c.W * 0.3), (xf - 0.2, y_floor, c.W * 0.3)), body)
    seat_h, n_rows, xs0, hw = _carriage_seats(b, rng, c, xf - xr, y_floor)
    x_dash = xs0 + 0.6
    _carriage_front(b, rng, c, x_dash, xf, y_floor, seat_h, hw, trim)
    if rng.random() < 0.4:  # canopy on four posts
        roof_y = c.roof
        xa, xb = xs0 - 0.9 * (n_rows - 1) - 0.35, x_dash + 0.1
        for x in (xa + 0.05, xb - 0.05):
            for s in (-1, 1):
                b.add(cylinder((x, y_floor + seat_h, s * hw), (x, roof_y, s * hw), 0.02, m=6),
                      trim)
        b.add(box_between((xa - 0.05, roof_y, -hw - 0.08), (xb + 0.05, roof_y + 0.06,
                                                          hw + 0.08)), pal.any_of(rng,
                                                                                  pal.fabric,
                                                                                  pal.leather))
    tyre, rim = pal.rubber(rng), pal.metal(rng)
    for x, r in ((xr, rr), (xf, fr)):
        for s in (-1, 1):
            z = s * (c.W / 2 - 0.06)
            wheel(b, tyre, rim, (x, r, z), r, 0.08, spokes=True)
            guard = arc_path((x, r, z), r + 0.08, 0.2, np.pi - 0.2, 8)
            b.add(tube(guard, 1.0, section=np.array([[0.012, -0.07], [0.012, 0.07],
                                                     [-0.012, 0.07], [-0.012, -0.07]]),
                       ref=(0, 0, 1)), body)


def _carriage_seats(b: ShapeBuilder, rng: np.random.Generator, c: Car, wheelbase: float,
                    y_floor: float) -> tuple[float, int, float, float]:
    """One or (on a long wheelbase, 60 %) two high buttoned benches on the floor.  Returns the
    seat height, the number of rows, the x of the front bench and the benches' half width."""
    xr = c.axles[0] - c.L / 2
    seat = pal.any_of(rng, pal.leather, pal.fabric)
    seat_h = rng.uniform(0.35, 0.55)
    n_rows = 2 if wheelbase > 1.9 and rng.random() < 0.6 else 1
    xs0 = xr - 0.35 + 0.55 * (n_rows - 1)
    hw = c.W * rng.uniform(0.3, 0.36)
    for k in range(n_rows):
        xs = xs0 - 0.9 * k if n_rows == 2 else xs0 + 0.15
        b.add(rounded_box((0.6, seat_h, hw * 2), 0.08, (xs, y_floor + seat_h / 2, 0), axis=0),
              c.paint)
        b.add(box((0.5, 0.12, hw * 1.8), (xs + 0.02, y_floor + seat_h + 0.06, 0)), seat)
        back = rng.uniform(0.4, 0.6)
        b.add(rounded_box((0.12, back, hw * 1.9), 0.05,
                          (xs - 0.28, y_floor + seat_h + back / 2, 0), axis=0), seat)
    return seat_h, n_rows, xs0, hw


def _carriage_front(b: ShapeBuilder, rng: np.random.Generator, c: Car, x_dash: float,
                    xf: float, y_floor: float, seat_h: float, hw: float,
                    trim: Material) -> None:
    """Bonnet over a front engine or a curved dash board, the steering column and wheel, and
    two carriage lamps."""
    if rng.random() < 0.5:  # bonnet over a front engine
        bl = min(0.8, xf + 0.2 - x_dash)
        b.add(rounded_box((bl, 0.45, c.W * 0.42), 0.06, (x_dash + bl / 2, y_floor + 0.22, 0),
                          axis=0), c.paint)
        b.add(box((0.06, 0.5, c.W * 0.44), (x_dash + bl, y_floor + 0.22, 0)), trim)
    else:  # curved dash board
        dash = np.array([[x_dash, y_floor, 0.0], [x_dash + 0.35, y_floor + 0.2, 0.0],
                         [x_dash + 0.45, y_floor + 0.55, 0.0]])
        b.add(tube(dash, 1.0, section=np.array([[0.02, -hw], [0.02, hw], [-0.02, hw],
                                                [-0.02, -hw]]), ref=(0, 0, 1)), c.paint)
    y_wheel = y_floor + seat_h + rng.uniform(0.2, 0.4)
    b.add(cylinder((x_dash + 0.1, y_floor, -hw * 0.4), (x_dash - 0.1, y_wheel, -hw * 0.4), 0.02,
                   m=6), trim)
    b.add(torus((x_dash - 0.1, y_wheel, -hw * 0.4), 0.17, 0.02, axis=1, m=12, n=4), trim)
    lamp = pal.metal(rng)
    for s in (-1, 1):
        b.add(box((0.14, 0.2, 0.14), (x_dash + 0.05, y_floor + 0.35, s * (hw + 0.1))), lamp)


def _tbucket(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """T-bucket hot rod: a small open bucket body at the back, an exposed V8 with blower, scoop
    and chrome headers on bare rails, a radiator shell, a beam front axle with skinny tyres and
    fat rear slicks, sometimes a chopped top."""
    steel = pal.metal(rng)
    frame = pal.Material((40, 40, 40), 0.4)
    rr = c.wheel_r
    fr = rng.uniform(0.26, 0.32)
    xr, xf = c.axles[0] - c.L / 2, c.L / 2 - fr - rng.uniform(0.0, 0.15)
    c.axles = [xr + c.L / 2, xf + c.L / 2]
    y_rail = fr * rng.uniform(1.0, 1.3)
    for s in (-1, 1):
        b.add(box_between((xr - 0.45, y_rail - 0.06, s * 0.3 - 0.04),
                          (xf + 0.1, y_rail + 0.06, s * 0.3 + 0.04)), frame)
    bl = rng.uniform(1.1, 1.5)
    x0 = xr - rng.uniform(0.45, 0.7)
    _bucket(b, rng, c, x0, bl, y_rail, steel)
    el = min(rng.uniform(0.7, 0.9), xf - x0 - bl - 0.3)
    xe = x0 + bl + 0.05 + el / 2
    b.add(box((el, 0.45, 0.55), (xe, y_rail + 0.28, 0)), steel)
    yb = y_rail + 0.5
    if rng.random() < 0.7:  # blower and scoop
        b.add(rounded_box((el * 0.7, 0.3, 0.32), 0.05, (xe, yb + 0.15, 0)), steel)
        hs = rng.uniform(0.1, 0.35)
        b.add(prism([[-0.15, 0], [0.2, 0], [0.1, hs], [-0.15, hs]], 0.3, (xe, yb + 0.3, 0)),
              steel)
    for s in (-1, 1):
        for k in range(4):
            x = xe - el * 0.35 + el * 0.23 * k
            b.add(cylinder((x, y_rail + 0.3, s * 0.27), (x - 0.1, y_rail + 0.05, s * 0.45),
                           0.03, m=6), steel)
    b.add(box((0.12, rng.uniform(0.5, 0.7), 0.5), (xf - 0.05, y_rail + 0.3, 0)), c.paint)
    b.add(cylinder((xf, fr, -c.W * 0.42), (xf, fr, c.W * 0.42), 0.035, m=6), steel)
    tyre, rim = pal.rubber(rng), pal.metal(rng)
    rw = rng.uniform(0.3, 0.42)
    for s in (-1, 1):
        wheel(b, tyre, rim, (xr, rr, s * (c.W / 2 - rw / 2)), rr, rw)
        wheel(b, tyre, rim, (xf, fr, s * (c.W * 0.46)), fr, 0.13)


def _bucket(b: ShapeBuilder, rng: np.random.Generator, c: Car, x0: float, bl: float,
            y_rail: float, steel: Material) -> None:
    """T-bucket body of length ``bl`` from ``x0`` on the rails: the tub, seat back, windscreen
    and sometimes (35 %) a chopped top on short posts."""
    y_belt = y_rail + rng.uniform(0.6, 0.8)
    xs = np.linspace(x0, x0 + bl, 8)
    u = (xs - x0) / bl
    top = y_belt - 0.1 * (1 - np.sin(np.pi * u))
    hw = c.W * np.interp(u, [0, 0.7, 1], [0.3, 0.3, 0.22])
    b.add(sections_along_x(xs, np.full_like(xs, y_rail - 0.05), top, hw, 0.1), c.paint)
    seat = pal.any_of(rng, pal.leather, pal.fabric)
    b.add(box((0.15, 0.4, c.W * 0.5), (x0 + 0.2, y_belt + 0.15, 0)), seat)
    b.add(box((0.04, 0.35, c.W * 0.5), (x0 + bl - 0.05, y_belt + 0.17, 0)), pal.glass(rng))
    if rng.random() < 0.35:  # chopped top on short posts
        yt = c.roof
        b.add(box_between((x0 + 0.05, yt - 0.05, -c.W * 0.28), (x0 + bl - 0.1, yt, c.W * 0.28)),
              pal.any_of(rng, pal.fabric, pal.paint))
        for s in (-1, 1):
            b.add(cylinder((x0 + bl - 0.1, y_belt, s * c.W * 0.27), (x0 + bl - 0.15, yt,
                                                                    s * c.W * 0.27), 0.02, m=6),
                  steel)
            b.add(box_between((x0 + 0.05, y_belt, s * c.W * 0.28 - 0.02),
                              (x0 + 0.3, yt, s * c.W * 0.28 + 0.02)), c.paint)


def _flatbed(b: ShapeBuilder, rng: np.random.Generator, c: Car, floor: float) -> None:
    """Flatbed behind a conventional cab on a bare frame: a plain deck, a stake body, a tilted
    rollback deck or a tow truck's wrecker boom."""
    x0, x1 = -c.L / 2, c.cab[3] - c.L / 2 - rng.uniform(0.05, 0.25)
    deck = pal.any_of(rng, pal.metal, pal.wood, pal.painted)
    r = rng.random()
    if r < 0.25:  # rollback carrier: the deck tilted back
        pivot = np.array([x0 + 0.3, floor, 0.0])
        d = box_between((x0, floor - 0.08, -c.W / 2), (x1, floor, c.W / 2))
        b.add(d.rotated(rot_z(rng.uniform(0.05, 0.2)), pivot), deck)
        return
    b.add(box_between((x0, floor - 0.08, -c.W / 2), (x1, floor, c.W / 2)), deck)
    if r < 0.55:  # stake sides
        h = rng.uniform(0.4, 0.9)
        n = max(2, int((x1 - x0) / 0.7))
        for k in range(n + 1):
            x = x0 + (x1 - x0) * k / n
            for s in (-1, 1):
                b.add(box((0.06, h, 0.06), (x, floor + h / 2, s * (c.W / 2 - 0.03))), deck)
        for s in (-1, 1):
            for y in (floor + h * 0.5, floor + h - 0.03):
                b.add(box_between((x0, y - 0.03, s * c.W / 2 - 0.05), (x1, y + 0.03,
                                                                     s * c.W / 2)), deck)
    elif r < 0.8:  # wrecker boom
        steel = pal.metal(rng)
        top = c.roof + rng.uniform(-0.3, 0.4)
        for s in (-1, 1):
            b.add(cylinder((x1 - 0.2, floor, s * 0.3), (x0 + 0.5, top, s * 0.1), 0.06, m=6),
                  steel)
        b.add(cylinder((x0 + 0.5, top, 0), (x0 - 0.1, top - 0.4, 0), 0.07, m=6), steel)
        b.add(cylinder((x0 - 0.1, top - 0.4, 0), (x0 - 0.1, floor - 0.2, 0), 0.015, m=4), steel)


def _bubble(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Bubble car (Isetta, Peel, Messerschmitt-like city car): a rounded body on small wheels,
    a glass dome over the top half, lamps and a bumper; nearly as tall and wide as it is long."""
    y0 = c.clear
    hb = c.belt - y0
    b.add(superellipsoid((c.L, 2 * hb, c.W), (0, y0 + hb, 0), rng.uniform(0.35, 0.7), m=16, n=9),
          c.paint)
    dome = c.roof - c.belt
    dx = rng.uniform(-0.1, 0.05) * c.L
    b.add(superellipsoid((c.L * rng.uniform(0.75, 0.9), 2 * dome, c.W * rng.uniform(0.85, 0.95)),
                         (dx, c.belt, 0), rng.uniform(0.6, 0.9), m=16, n=9), pal.glass(rng))
    if rng.random() < 0.6:  # painted roof cap
        b.add(superellipsoid((c.L * 0.5, dome * 0.5, c.W * 0.7), (dx - 0.05 * c.L,
                                                                 c.roof - dome * 0.2, 0), 0.8,
                             m=12, n=5), c.paint)
    lamp = pal.Material((240, 240, 225), 0.9)
    for s_ in (-1, 1):
        b.add(sphere((c.L / 2 - 0.08, y0 + hb * 0.9, s_ * c.W * 0.3), 0.07, m=8, n=4), lamp)
    b.add(box((0.08, 0.1, c.W * 0.6), (c.L * 0.44, y0 + 0.15, 0)), pal.metal(rng))
    tyre, rim = pal.rubber(rng), pal.metal(rng)
    for ax in c.axles:
        for s_ in (-1, 1):
            wheel(b, tyre, rim, (ax - c.L / 2, c.wheel_r, s_ * (c.W / 2 - 0.08)), c.wheel_r, 0.12)


def _streamliner(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Land-speed streamliner: a long, narrow teardrop body with a bubble canopy, a tall tail
    fin and small wheels half faired into the body."""
    h = rng.uniform(0.8, 1.15)
    y0 = c.wheel_r * rng.uniform(0.3, 0.6)
    xs = np.linspace(-c.L / 2, c.L / 2, 16)
    u = (xs + c.L / 2) / c.L  # 0 at the tail, 1 at the nose
    peak = rng.uniform(0.55, 0.7)
    rise = np.sin(np.pi / 2 * np.clip(u / peak, 0.0, 1.0)) ** 0.6
    fall = np.cos(np.pi / 2 * np.clip((u - peak) / (1 - peak), 0.0, 1.0)) ** 0.5
    prof = np.where(u < peak, rise, fall)
    prof = np.maximum(prof, 0.08)
    top = y0 + h * (0.35 + 0.65 * prof)
    bot = y0 + h * 0.35 * (1 - prof)
    b.add(sections_along_x(xs, bot, top, c.W / 2 * np.maximum(prof, 0.15), 0.2), c.paint)
    xcan = (peak + rng.uniform(-0.05, 0.1)) * c.L - c.L / 2
    b.add(ellipsoid((c.L * 0.12, 0.35, c.W * 0.45), (xcan, y0 + h - 0.05, 0), m=12, n=5),
          pal.glass(rng))
    fl = c.L * rng.uniform(0.1, 0.18)
    ft = y0 + h * 0.4
    b.add(prism([[-c.L / 2, ft], [-c.L / 2 + fl, ft], [-c.L / 2 + fl * 0.3, c.roof],
                 [-c.L / 2, c.roof]], 0.06), c.paint)
    tyre, rim = pal.rubber(rng), pal.metal(rng)
    for ax in c.axles:
        for s in (-1, 1):
            wheel(b, tyre, rim, (ax - c.L / 2, c.wheel_r, s * c.W * 0.35), c.wheel_r, 0.12)


def _roof_rack(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Sometimes (45 %) roof rails on short feet, optionally carrying a roof box or a load
    basket."""
    if rng.random() >= 0.45:
        return
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


def _roof_sign(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Sometimes (25 %) a taxi sign or police light bar on the roof."""
    if rng.random() >= 0.25:
        return
    a, bf, br, _ = c.cab
    lh = rng.uniform(0.12, 0.3)
    b.add(rounded_box((0.3, lh, c.W * rng.uniform(0.3, 0.8)), 0.05,
                      ((bf + br) / 2 - c.L / 2, c.roof + lh / 2, 0)), pal.light(rng))


def _spoiler(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Sometimes (40 %) a spoiler on the boot lid."""
    if rng.random() < 0.4:
        b.add(box((0.25, 0.04, c.W * 0.9), (-c.L / 2 + 0.2, c.belt + 0.22, 0)), c.paint)


def _spare_wheel(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Sometimes (40 %) a spare wheel on the tailgate."""
    if rng.random() < 0.4:
        b.add(disc((-c.L / 2 - 0.12, c.belt - 0.1, 0.0), c.wheel_r, 0.22, axis=0), pal.rubber(rng))


def _truck_box(b: ShapeBuilder, rng: np.random.Generator, c: Car, floor: float) -> None:
    """Sometimes (70 %) a tall cargo box behind a conventional truck's cab."""
    if rng.random() >= 0.7:
        return
    x1 = c.cab[3] - c.L / 2 - 0.1
    b.add(box_between((-c.L / 2, c.belt - 0.3, -c.W / 2), (x1, c.roof * rng.uniform(1.0, 1.3),
                                                           c.W / 2)), pal.painted(rng))


def _frame_rails(b: ShapeBuilder, c: Car, x0: float, floor: float) -> None:
    """Bare frame rails from the rear end to under the cab of a body-on-frame truck whose
    lofted body starts at ``x0`` (from the rear end)."""
    frame = pal.Material((40, 40, 40), 0.4)
    for s_ in (-1, 1):
        b.add(box_between((-c.L / 2 + 0.2, c.clear + 0.05, s_ * c.W * 0.3 - 0.07),
                          (x0 - c.L / 2 + 0.3, max(floor, c.clear + 0.25),
                           s_ * c.W * 0.3 + 0.07)), frame)


def _door_tops(b: ShapeBuilder, c: Car, floor: float) -> None:
    """Door tops along the sides of an open car's cut-down cockpit."""
    for s_ in (-1, 1):
        z0, z1 = sorted((s_ * c.W * 0.49, s_ * (c.W * 0.49 - 0.07)))
        b.add(box_between((c.cab[3] - c.L / 2, floor - 0.05, z0),
                          (c.cab[0] - c.L / 2, c.belt - 0.02, z1)), c.paint)


def _closed_cabin(b: ShapeBuilder, rng: np.random.Generator, c: Car, glass: Material,
                  top: np.ndarray, xs: np.ndarray) -> None:
    """Glass cabin over the body's top line ``top`` (at stations ``xs``) and a roof panel in
    the body colour (70 %) or another paint."""
    b.add(_cabin(c, top, xs), glass)
    roof_mat = c.paint if rng.random() < 0.7 else pal.paint(rng)
    a, bf, br, _ = c.cab
    if bf - br > 0.3:
        b.add(box((bf - br, 0.04, c.W * 0.82), ((bf + br) / 2 - c.L / 2, c.roof, 0.0)),
              roof_mat)


def _road_car(b: ShapeBuilder, rng: np.random.Generator, c: Car, *, body: str = "closed",
              rear: Rear | None = None, extras: tuple[Builder, ...] = (),
              roll_bar: bool = False, mirrors: bool = True, low_tail: bool = False) -> None:
    """Road car or truck: the lofted lower body under a glass cabin (``body="closed"``), cut
    down to an open cockpit (``"open"``, with a ``roll_bar`` or not) or starting at the cab on
    bare frame rails (``"frame"``); then ``rear`` behind the cab, the ``extras`` in order, and
    lights, bumpers and ``mirrors`` (tail lights under the deck when ``low_tail``)."""
    floor = c.belt - rng.uniform(0.4, 0.55)
    cut, x0 = None, 0.0
    if body == "frame":
        x0 = c.cab[3] - 0.05
        _frame_rails(b, c, x0, floor)
    elif body == "open":
        cut = (c.cab[3], c.cab[0], floor)
        _door_tops(b, c, floor)
    lower, xs, top = _lower_body(c, cut, x0=x0)
    b.add(lower, c.paint)
    glass = pal.glass(rng)  # drawn for open cars too (their windshield draws its own)
    if body == "open":
        _open_cockpit(b, rng, c, roll_bar)
    else:
        _closed_cabin(b, rng, c, glass, top, xs)
    if rear is not None:
        rear(b, rng, c, floor)
    for extra in extras:
        extra(b, rng, c)
    _details(b, rng, c, top, rear_y=floor - 0.1 if low_tail else None, mirrors=mirrors)


def _vintage_car(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Vintage car: a narrow closed body (0.8 of the sampled width) between separate fenders."""
    c.W *= 0.8
    _road_car(b, rng, c, extras=(_fenders,))


def _monster_truck(b: ShapeBuilder, rng: np.random.Generator, c: Car) -> None:
    """Monster truck: a pickup on a chassis with shock towers, high above giant wheels."""
    _monster(b, c)
    _road_car(b, rng, c, body="frame", rear=_pickup_bed)


_open = partial(_road_car, body="open", mirrors=False)  # convertible or roadster, top down
_rack = partial(_road_car, extras=(_roof_rack,))

#: The families of the car class, in draw order: name, weight (percent of the class), length
#: (m), width / length, roof (m), belt / roof, cabin fractions (a, b, c, d) of the length, wheel
#: radius (m), builder, options.  Open frames (racer ... horseless) ignore the cabin.  The mix
#: follows ShapeNet's car synset (02958343), which is mostly closed road cars: its sub-synsets
#: are chiefly sedans, coupés and sports cars, racers, convertibles, station wagons, jeeps,
#: hatchbacks, minivans, limousines and cabs (ShapeNetCore taxonomy; docs/DATA.md).
FAMILIES: tuple[Family, ...] = (
    # closed-cabin road cars (71 %)
    Family("sedan", 20, (4.2, 5.2), (0.35, 0.45), (1.3, 1.6), (0.6, 0.68), (0.66, 0.52, 0.3, 0.2),
           (0.3, 0.36), partial(_road_car, extras=(_roof_sign,)), lowerable=True),
    Family("sports", 11, (4.0, 4.7), (0.42, 0.54), (1.0, 1.3), (0.6, 0.7), (0.6, 0.45, 0.3, 0.12),
           (0.31, 0.36), partial(_road_car, extras=(_spoiler,)), lowerable=True),
    Family("supercar", 5, (4.2, 4.8), (0.44, 0.5), (0.98, 1.2), (0.55, 0.65),
           (0.62, 0.5, 0.35, 0.15), (0.32, 0.36), _road_car),
    Family("suv", 11, (4.2, 5.1), (0.37, 0.46), (1.6, 2.0), (0.55, 0.62), (0.72, 0.6, 0.07, 0.02),
           (0.36, 0.42), partial(_road_car, extras=(_roof_rack, _spare_wheel)), liftable=True),
    Family("hatch", 9, (3.4, 4.3), (0.4, 0.52), (1.4, 1.75), (0.58, 0.66), (0.7, 0.55, 0.12, 0.03),
           (0.28, 0.33), _rack, liftable=True, lowerable=True, overhangs=_SHORT),
    Family("wagon", 5, (4.4, 5.0), (0.36, 0.42), (1.4, 1.55), (0.58, 0.66), (0.7, 0.56, 0.06, 0.02),
           (0.3, 0.35), _rack, liftable=True, lowerable=True),
    Family("van", 4, (4.5, 5.5), (0.36, 0.42), (1.8, 2.2), (0.45, 0.55), (0.88, 0.76, 0.04, 0.01),
           (0.32, 0.38), _rack, liftable=True),
    Family("pickup", 6, (5.0, 5.9), (0.34, 0.4), (1.75, 1.95), (0.55, 0.62),
           (0.72, 0.6, 0.42, 0.38), (0.38, 0.44),
           partial(_road_car, body="frame", rear=_pickup_bed), liftable=True),
    # unusual closed cars: bubble, micro and kei cars, stretch limousines, minibuses (4.5 %)
    Family("bubble", 0.5, (1.6, 2.6), (0.55, 0.75), (1.15, 1.45), (0.45, 0.55),
           (0.5, 0.5, 0.4, 0.4), (0.14, 0.2), _bubble, wheels=None, width_m=(1.0, 1.7),
           compact=True, overhangs=_SHORT),
    Family("micro", 1.0, (1.5, 3.0), (0.55, 0.62), (1.25, 1.65), (0.5, 0.56), (0.8, 0.7, 0.05, 0.0),
           (0.25, 0.29), _road_car, width_m=(1.0, 1.7), compact=True, overhangs=_SHORT),
    Family("kei", 0.5, (3.2, 3.5), (0.42, 0.47), (1.6, 1.8), (0.45, 0.52), (0.86, 0.76, 0.03, 0.0),
           (0.26, 0.29), _road_car, overhangs=_SHORT),
    Family("limo", 1.5, (5.8, 9.0), (0.26, 0.3), (1.4, 1.5), (0.6, 0.66), (0.72, 0.64, 0.2, 0.14),
           (0.33, 0.37), _road_car, lowerable=True, width_m=(1.8, 2.0)),
    Family("minibus", 1.0, (4.8, 6.2), (0.33, 0.4), (2.3, 2.8), (0.38, 0.48),
           (0.96, 0.88, 0.03, 0.01), (0.33, 0.38), _rack, overhangs=_LONG),
    # open-top road cars and classics (12.5 %)
    Family("jeep", 3, (3.6, 4.4), (0.42, 0.48), (1.7, 1.9), (0.5, 0.56), (0.66, 0.62, 0.1, 0.05),
           (0.36, 0.42), partial(_road_car, body="open", roll_bar=True,
                                 extras=(_roof_rack, _spare_wheel)), liftable=True),
    Family("convertible", 5, (4.0, 4.8), (0.4, 0.47), (1.25, 1.4), (0.62, 0.72),
           (0.66, 0.56, 0.3, 0.2), (0.3, 0.35), _open, lowerable=True),
    Family("roadster", 2, (3.6, 4.3), (0.43, 0.5), (1.05, 1.2), (0.66, 0.76), (0.6, 0.5, 0.3, 0.25),
           (0.3, 0.34), _open),
    Family("tbucket", 0.5, (3.2, 3.8), (0.45, 0.52), (1.1, 1.35), (0.5, 0.6), (0.5, 0.5, 0.4, 0.4),
           (0.36, 0.42), _tbucket, wheels=None, overhangs=_LONG),
    Family("vintage", 1, (3.5, 4.8), (0.36, 0.42), (1.6, 2.0), (0.5, 0.58), (0.6, 0.55, 0.25, 0.2),
           (0.36, 0.42), _vintage_car),
    Family("hotrod", 1, (3.8, 4.4), (0.4, 0.46), (1.3, 1.45), (0.55, 0.62),
           (0.45, 0.4, 0.18, 0.12), (0.3, 0.42), _road_car, lowerable=True),
    # trucks (3 %)
    Family("flatbed", 0.5, (5.2, 7.0), (0.32, 0.38), (1.9, 2.4), (0.5, 0.58),
           (0.84, 0.74, 0.6, 0.57), (0.38, 0.44),
           partial(_road_car, body="frame", rear=_flatbed, low_tail=True), overhangs=_LONG),
    Family("truck", 0.5, (6.0, 9.0), (0.27, 0.35), (2.8, 3.4), (0.45, 0.55),
           (0.99, 0.9, 0.75, 0.72), (0.45, 0.52), partial(_road_car, rear=_truck_box),
           overhangs=_LONG, tandem=True),
    Family("boxtruck", 0.5, (6.0, 8.5), (0.28, 0.34), (2.5, 3.0), (0.42, 0.5),
           (0.99, 0.9, 0.76, 0.74), (0.45, 0.52), _box_truck, overhangs=_LONG, tandem=True),
    Family("semi", 0.5, (5.8, 7.0), (0.36, 0.43), (3.0, 3.9), (0.36, 0.44),
           (0.99, 0.93, 0.64, 0.62), (0.5, 0.55), _tractor,
           overhangs=((0.04, 0.08), (0.12, 0.2)), tractor=True, tandem=True),
    Family("monster", 1, (4.5, 5.5), (0.45, 0.55), (2.7, 3.2), (0.72, 0.78),
           (0.72, 0.6, 0.42, 0.38), (0.7, 0.9), _monster_truck, wheels=0.25, overhangs=_LONG),
    # racing cars and open frames (9 %)
    Family("racer", 5, (4.5, 5.2), (0.36, 0.42), (0.9, 1.0), (0.5, 0.6), (0.55, 0.5, 0.4, 0.35),
           (0.3, 0.35), _racer, wheels=0.25),
    Family("dragster", 0.5, (6.5, 8.5), (0.17, 0.21), (1.8, 2.5), (0.3, 0.35),
           (0.5, 0.5, 0.4, 0.4), (0.55, 0.65), _dragster, wheels=None),
    Family("sprint", 0.5, (3.6, 4.2), (0.48, 0.56), (1.8, 2.1), (0.4, 0.5), (0.5, 0.5, 0.4, 0.4),
           (0.42, 0.48), _sprint, wheels=None, overhangs=_LONG),
    Family("streamliner", 0.3, (7.0, 11.0), (0.09, 0.13), (1.6, 2.2), (0.4, 0.5),
           (0.5, 0.5, 0.4, 0.4), (0.3, 0.38), _streamliner, wheels=None),
    Family("golf", 0.7, (2.3, 3.6), (0.4, 0.5), (1.75, 1.95), (0.45, 0.52), (0.5, 0.5, 0.4, 0.4),
           (0.2, 0.26), _golf_cart, wheels=None, overhangs=_LONG),
    Family("kart", 0.5, (1.8, 2.1), (0.62, 0.72), (0.9, 1.0), (0.3, 0.35), (0.5, 0.5, 0.4, 0.4),
           (0.12, 0.14), _kart, overhangs=_LONG),
    Family("buggy", 1.0, (3.2, 3.9), (0.45, 0.52), (1.5, 1.7), (0.3, 0.35), (0.7, 0.6, 0.3, 0.25),
           (0.33, 0.4), _buggy, wheels=0.2, overhangs=_LONG),
    Family("horseless", 0.5, (2.6, 3.6), (0.42, 0.52), (1.7, 2.3), (0.4, 0.5),
           (0.5, 0.5, 0.4, 0.4), (0.38, 0.5), _horseless, wheels=None, overhangs=_LONG),
)


def build(rng: np.random.Generator) -> ShapeBuilder:
    """A car of a random family (a row of :data:`FAMILIES`, drawn by weight)."""
    b = ShapeBuilder()
    f, c = _sample(rng)
    b.kind = c.kind
    f.build(b, rng, c)
    if f.wheels is not None:
        _wheels(b, rng, c, outboard=f.wheels)
    return b
