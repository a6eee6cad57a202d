"""Airplanes: airliners, business jets, fighters, light props, gliders and biplanes.

Frame: fuselage along X with the nose toward +X (ShapeNetVox32's airplane sample has its tail
fin at -X), wings spanning Z, +Y up, wheels (if any) on y = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import palette as pal
from .builder import ShapeBuilder
from .geometry import Part, ellipse_ring, loft, place_ring, rot_x
from .palette import Material
from .primitives import box, cylinder, disc, ellipsoid

_XI = (1.0 - np.cos(np.linspace(0.0, np.pi, 7))) / 2.0  # chordwise stations, clustered at ends


def airfoil_ring(le: np.ndarray, chord: float, thick: float, span_axis: int) -> np.ndarray:
    """Closed airfoil section (12 points) starting at leading edge ``le``, chord along -X.

    The section lies in the plane spanned by X and the thickness axis: Y for wings
    (``span_axis=2``), Z for fins (``span_axis=1``).
    """
    x = -_XI * chord
    half = 2.6 * thick * chord * np.sqrt(_XI) * (1.0 - _XI)
    upper = np.stack([x, half], axis=1)
    lower = np.stack([x[1:-1][::-1], -0.6 * half[1:-1][::-1]], axis=1)
    ring = np.vstack([upper, lower])
    tax = np.array([0.0, 1.0, 0.0]) if span_axis == 2 else np.array([0.0, 0.0, 1.0])
    return place_ring(ring, le, np.array([1.0, 0.0, 0.0]), tax)


def lifting_surface(root_le: np.ndarray, root_c: float, tip_dx: float, tip_dy: float,
                    half_span: float, tip_c: float, thick: float, mirrored: bool = True) -> Part:
    """Wing or stabiliser: one loft through left tip, root and right tip (or root to one tip).

    ``tip_dx`` is the sweep offset of the tip leading edge (negative = swept back), ``tip_dy``
    the dihedral rise.
    """
    tips = [root_le + [tip_dx, tip_dy, s * half_span] for s in ((-1, 1) if mirrored else (1,))]
    rings = [airfoil_ring(t, tip_c, thick * 0.7, 2) for t in tips]
    root = airfoil_ring(root_le, root_c, thick, 2)
    seq = [rings[0], root, rings[1]] if mirrored else [root, rings[0]]
    return loft(np.stack(seq))


def fin(root_le: np.ndarray, root_c: float, height: float, sweep: float, tip_c: float,
        thick: float) -> Part:
    """Vertical tail fin rising from ``root_le``."""
    tip = root_le + [-sweep, height, 0.0]
    return loft(np.stack([airfoil_ring(root_le, root_c, thick, 1),
                          airfoil_ring(tip, tip_c, thick * 0.8, 1)]))


@dataclass
class Fuselage:
    """Fuselage length, radius, height of its axis and tail upsweep."""

    length: float
    r: float
    y: float
    upsweep: float

    def radius_at(self, x: np.ndarray) -> np.ndarray:
        """Radius at nose-relative station ``x`` (0 = tail end, length = nose tip)."""
        u = x / self.length
        nose = np.clip((1.0 - u) / 0.15, 0.0, 1.0) ** 0.5
        tail = np.clip(u / 0.35, 0.0, 1.0) ** 0.8
        return self.r * np.maximum(np.minimum(nose, 0.15 + 0.85 * tail), 0.04)


def _fuselage_part(f: Fuselage, aspect: float) -> Part:
    """Lofted circular/elliptic fuselage with a tapering, upswept tail cone."""
    xs = np.linspace(0.0, f.length, 16)
    r = f.radius_at(xs)
    lift = f.upsweep * f.r * np.clip(1.0 - xs / (0.35 * f.length), 0.0, 1.0)
    ring = ellipse_ring(1.0, aspect, 12)
    rings = [place_ring(ring * rk, [x - f.length / 2, f.y + dy, 0.0], [0, 0, 1.0], [0, 1.0, 0])
             for x, rk, dy in zip(xs, r, lift, strict=True)]
    return loft(np.stack(rings))


def _engine(b: ShapeBuilder, mat: Material, dark: Material, front: np.ndarray, length: float,
            radius: float, prop: bool) -> None:
    """Turbofan nacelle (with dark intake) or a propeller nacelle with spinner and blades."""
    tail = front - [length, 0.0, 0.0]
    b.add(cylinder(tail, front, radius * 0.7, radius, m=12), mat)
    if prop:
        b.add(ellipsoid((radius * 1.2, radius * 1.1, radius * 1.1), front, m=10, n=5), dark)
        _propeller(b, dark, front + [radius * 0.4, 0, 0], radius * 3.5)
    else:
        b.add(disc(front + [0.002, 0, 0], radius * 0.85, 0.01, axis=0, m=12), dark)


def _propeller(b: ShapeBuilder, mat: Material, hub: np.ndarray, radius: float) -> None:
    """Three thin blades around the X axis."""
    for k in range(3):
        blade = box((0.01 * radius * 3, radius, radius * 0.12), hub + [0, radius / 2, 0])
        b.add(blade.rotated(rot_x(2 * np.pi * k / 3 + 0.4), hub), mat)


def _gear(b: ShapeBuilder, mat: Material, tyre: Material, at: np.ndarray, height: float,
          wheel_r: float) -> None:
    """A landing-gear strut from ``at`` down to a wheel whose axle is ``height`` lower."""
    axle = at - [0.0, height, 0.0]
    b.add(cylinder(axle, at, wheel_r * 0.2, m=6), mat)
    b.add(disc(axle, wheel_r, wheel_r * 0.6, axis=2, m=12), tyre)


@dataclass
class Plan:
    """Sampled layout of one airplane."""

    kind: str
    f: Fuselage
    span: float
    root_c: float
    tip_c: float
    sweep: float  # tip leading-edge offset along -X
    wing_x: float  # root leading edge x
    wing_y: float  # wing root height offset from the fuselage axis
    dihedral: float
    thick: float


#: kind -> (weight, fuselage radius / length, span / length)
KINDS: dict[str, tuple[float, tuple[float, float], tuple[float, float]]] = {
    "airliner": (0.25, (0.03, 0.075), (0.8, 1.35)),
    "bizjet": (0.09, (0.04, 0.07), (0.8, 1.25)),
    "cargo": (0.08, (0.07, 0.1), (0.95, 1.35)),
    "fighter": (0.15, (0.035, 0.075), (0.45, 0.85)),
    "prop": (0.11, (0.05, 0.09), (1.0, 1.5)),
    "glider": (0.06, (0.03, 0.05), (1.6, 2.6)),
    "biplane": (0.06, (0.06, 0.09), (0.9, 1.3)),
    "wing": (0.06, (0.07, 0.1), (1.6, 2.4)),
    "concorde": (0.04, (0.028, 0.04), (0.35, 0.5)),
    "flyingboat": (0.05, (0.06, 0.09), (1.1, 1.5)),
    "twinboom": (0.05, (0.06, 0.09), (0.9, 1.3)),
}


def _plan(rng: np.random.Generator) -> Plan:
    """Sample proportions for one of several airplane kinds."""
    names = list(KINDS)
    kind = str(rng.choice(names, p=[KINDS[n][0] for n in names]))
    _, r, span = KINDS[kind]
    length = {"wing": rng.uniform(0.3, 0.6), "twinboom": rng.uniform(0.4, 0.6)}.get(kind, 1.0)
    f = Fuselage(length, rng.uniform(*r), 0.0, rng.uniform(0.0, 0.8))
    s = rng.uniform(*span)
    if kind == "concorde":
        root_c, tip_c = rng.uniform(0.45, 0.6), rng.uniform(0.02, 0.06)
        sweep = s / 2 * rng.uniform(1.2, 1.8)
    elif kind in ("fighter", "wing"):
        root_c, tip_c = rng.uniform(0.3, 0.55), rng.uniform(0.02, 0.12)
        sweep = s / 2 * rng.uniform(0.5, 1.3) * (0.5 if kind == "wing" else 1.0)
    elif kind in ("glider", "biplane", "prop", "cargo", "flyingboat", "twinboom"):
        root_c = rng.uniform(0.09, 0.18) * (0.6 if kind == "glider" else 1.0)
        tip_c = root_c * rng.uniform(0.4, 1.0)
        sweep = s / 2 * rng.uniform(0.0, 0.12)
    else:
        root_c = rng.uniform(0.14, 0.26)
        tip_c = root_c * rng.uniform(0.2, 0.45)
        sweep = s / 2 * rng.uniform(0.25, 0.75)
    wing_y = f.r * rng.choice([-0.7, 0.0, 0.75], p=[0.55, 0.2, 0.25])
    if kind in ("cargo", "flyingboat", "twinboom"):
        wing_y = f.r * 0.85
    wing_x = rng.uniform(0.0, 0.18) if kind != "fighter" else rng.uniform(-0.05, 0.15)
    if kind == "concorde":
        wing_y, wing_x = -f.r * 0.5, rng.uniform(-0.05, 0.05)
    return Plan(kind, f, s, root_c, tip_c, sweep, wing_x, wing_y,
                np.radians(rng.uniform(-4.0, 8.0)), rng.uniform(0.08, 0.14))


def _wings(b: ShapeBuilder, p: Plan, mat: Material) -> None:
    """Main wing (two stacked wings for a biplane, with struts)."""
    le = np.array([p.wing_x + p.root_c / 2, p.f.y + p.wing_y, 0.0])
    rise = np.tan(p.dihedral) * p.span / 2
    b.add(lifting_surface(le, p.root_c, -p.sweep, rise, p.span / 2, p.tip_c, p.thick), mat)
    if p.kind == "biplane":
        up = le + [0.03, p.f.r * 3.2, 0]
        b.add(lifting_surface(up, p.root_c, -p.sweep, 0.0, p.span / 2, p.tip_c, p.thick), mat)
        for s in (-1, 1):
            for dz in (0.35, 0.75):
                z = s * dz * p.span / 2
                lo = le + [-p.root_c / 2, 0, z]
                b.add(cylinder(lo, lo + [0.02, up[1] - le[1], 0], 0.004, m=4), mat)


def _tail(b: ShapeBuilder, rng: np.random.Generator, p: Plan, mat: Material) -> None:
    """Vertical fin(s) and horizontal stabiliser: conventional, T-tail, twin fins or none."""
    tail_x = -p.f.length / 2
    top = p.f.y + p.f.r * (0.6 + p.f.upsweep)
    if p.kind == "wing":
        _tip_fins(b, rng, p, mat)
        return
    if p.kind == "twinboom":
        _boom_tail(b, rng, p, mat)
        return
    fh = p.f.r * rng.uniform(1.5, 5.5) * (0.7 if p.kind == "glider" else 1.0)
    fc = rng.uniform(0.1, 0.2)
    fsweep = fh * rng.uniform(0.2, 1.2)
    twin = p.kind == "fighter" and rng.random() < 0.6
    for z in ((-p.f.r * 0.8, p.f.r * 0.8) if twin else (0.0,)):
        b.add(fin(np.array([tail_x + fc * 1.05, top - 0.01, z]), fc, fh, fsweep, fc * 0.45,
                  0.1), mat)
    style = rng.choice(["low", "t", "none"], p=[0.7, 0.22, 0.08]) if p.kind != "cargo" else "t"
    if (p.kind == "fighter" and rng.random() < 0.4) or p.kind == "concorde":
        style = "none"
    if style == "none":
        return
    hs = p.span * rng.uniform(0.25, 0.42) / 2
    hc = fc * rng.uniform(0.6, 1.0)
    y = top + fh - 0.01 if style == "t" else top - p.f.r * 0.3
    x = tail_x + hc + (-fsweep + fc * 0.3 if style == "t" else 0.02)
    b.add(lifting_surface(np.array([x, y, 0.0]), hc, -hs * 0.4, hs * 0.05, hs, hc * 0.5, 0.1),
          mat)


def _boom_tail(b: ShapeBuilder, rng: np.random.Generator, p: Plan, mat: Material) -> None:
    """Twin-boom layout: booms from the wing back to twin fins joined by a stabiliser."""
    zb = p.span * rng.uniform(0.12, 0.2)
    y = p.f.y + p.wing_y
    x0, x1 = p.wing_x, -0.5
    fh, fc = p.f.r * rng.uniform(2.0, 4.0), rng.uniform(0.1, 0.16)
    for s in (-1, 1):
        b.add(cylinder((x0 + 0.1, y, s * zb), (x1 + fc * 0.5, y, s * zb), p.f.r * 0.35, m=8),
              mat)
        b.add(fin(np.array([x1 + fc, y, s * zb]), fc, fh, fh * 0.3, fc * 0.6, 0.1), mat)
    ys = y + (fh * 0.9 if rng.random() < 0.5 else 0.0)
    b.add(box((fc * 0.8, 0.008, 2 * zb), (x1 + fc * 0.5 - fh * 0.3 * (ys > y), ys, 0.0)), mat)


def _tip_fins(b: ShapeBuilder, rng: np.random.Generator, p: Plan, mat: Material) -> None:
    """Flying wing: no tail, sometimes small fins at the wing tips."""
    if rng.random() < 0.5:
        return
    for s in (-1, 1):
        le = np.array([p.wing_x + p.root_c / 2 - p.sweep, p.f.y + p.wing_y, s * p.span / 2])
        b.add(fin(le, p.tip_c * 1.2, p.span * 0.06, p.span * 0.03, p.tip_c * 0.6, 0.1), mat)


def _floats(b: ShapeBuilder, p: Plan, mat: Material) -> None:
    """Seaplane floats under the fuselage, on struts."""
    depth = p.f.r * 2.2
    for s in (-1, 1):
        z = s * p.f.r * 2.5
        c = np.array([0.05, p.f.y - p.f.r - depth, z])
        b.add(ellipsoid((0.6, p.f.r * 0.9, p.f.r * 0.9), c, m=10, n=5), mat)
        for dx in (-0.1, 0.15):
            b.add(cylinder(c + [dx, 0, 0], [dx + 0.05, p.f.y, z * 0.3], 0.004, m=4), mat)


def _engines(b: ShapeBuilder, rng: np.random.Generator, p: Plan, mat: Material,
             dark: Material) -> None:
    """Under-wing, tail-mounted or nose engines depending on the kind."""
    if p.kind == "glider":
        return
    if p.kind == "twinboom":
        _propeller(b, dark, np.array([0.5 - p.f.length - 0.01, p.f.y, 0.0]), p.f.r * 2.0)
        return
    if p.kind == "concorde":
        for s in (-1, 1):
            b.add(box((0.22, p.f.r * 1.2, p.f.r * 2.4), (-0.2, p.f.y - p.f.r * 1.3,
                                                         s * p.span * 0.16)), mat)
        return
    if p.kind == "wing":
        for sd in (-1, 1):
            b.add(ellipsoid((0.2, p.f.r * 0.9, p.f.r), (0.0, p.f.y + p.f.r * 0.6,
                                                         sd * p.f.r * 1.5), m=10, n=5), mat)
        return
    if p.kind in ("prop", "biplane") and (p.kind == "biplane" or rng.random() < 0.6):
        _propeller(b, dark, np.array([p.f.length / 2 + 0.01, p.f.y, 0.0]), p.f.r * 2.2)
        return
    if p.kind == "fighter":
        if rng.random() < 0.5:
            return
        for s in (-1, 1):
            b.add(box((0.25, p.f.r * 0.9, p.f.r * 0.7),
                      (0.1, p.f.y - p.f.r * 0.2, s * p.f.r * 1.1)), mat)
        return
    if p.kind == "bizjet" or (p.kind == "airliner" and rng.random() < 0.15):
        er = p.f.r * rng.uniform(0.45, 0.7)
        for s in (-1, 1):
            front = np.array([-p.f.length * 0.22, p.f.y + p.f.r * 0.5, s * (p.f.r + er * 1.3)])
            _engine(b, mat, dark, front, er * 4.5, er, False)
        return
    n = int(rng.choice([2, 4], p=[0.7, 0.3])) if p.kind in ("airliner", "cargo",
                                                             "flyingboat") else 2
    er = p.f.r * rng.uniform(0.5, 0.9) * (0.7 if n == 4 else 1.0)
    prop = p.kind in ("prop", "flyingboat") or rng.random() < (0.6 if p.kind == "cargo" else 0.1)
    fracs = (0.35,) if n == 2 else (0.28, 0.6)
    for frac in fracs:
        for s in (-1, 1):
            z = s * frac * p.span / 2
            x = p.wing_x + p.root_c / 2 - p.sweep * frac + er * 1.5
            y = p.f.y + p.wing_y + np.tan(p.dihedral) * abs(z) - er * (0.2 if prop else 1.2)
            _engine(b, mat, dark, np.array([x, y, z]), er * (3.0 if prop else 4.0), er, prop)


def build(rng: np.random.Generator) -> ShapeBuilder:
    """An airplane assembled from fuselage, wings, tail, engines and optional landing gear."""
    b = ShapeBuilder()
    p = _plan(rng)
    b.kind = p.kind
    body = pal.any_of(rng, pal.paint, pal.plastic, pal.metal)
    trim = body if rng.random() < 0.5 else pal.any_of(rng, pal.paint, pal.metal)
    dark = pal.rubber(rng)
    aspect = rng.uniform(1.3, 1.6) if p.kind == "flyingboat" else rng.uniform(0.75, 1.3)
    shift = 0.5 - p.f.length / 2 if p.kind == "twinboom" else 0.0
    b.add(_fuselage_part(p.f, aspect).moved((shift, 0.0, 0.0)), body)
    if rng.random() < 0.6:
        canopy = (p.f.length / 2 - p.f.length * rng.uniform(0.08, 0.25), p.f.y + p.f.r * 0.6, 0)
        b.add(ellipsoid((p.f.r * 3, p.f.r * 1.2, p.f.r * 1.0), canopy, m=10, n=5), pal.glass(rng))
    _wings(b, p, trim)
    _tail(b, rng, p, trim)
    _engines(b, rng, p, trim, dark)
    if p.kind == "flyingboat":
        for sd in (-1, 1):
            tip = np.array([p.wing_x, p.f.y + p.wing_y - p.f.r * 1.5, sd * p.span * 0.42])
            b.add(ellipsoid((0.12, p.f.r * 0.6, p.f.r * 0.6), tip, m=10, n=5), trim)
            b.add(cylinder(tip, tip + [0, p.f.r * 1.5, 0], 0.004, m=4), trim)
    elif p.kind == "prop" and rng.random() < 0.25:
        _floats(b, p, trim)
    elif rng.random() < 0.5 and p.kind not in ("wing", "twinboom"):
        wr = p.f.r * rng.uniform(0.3, 0.5)
        low = p.f.y - p.f.r
        gear_h = p.f.r * rng.uniform(0.8, 2.2)
        for at in ([p.f.length * 0.38, low, 0.0], [p.wing_x - p.root_c * 0.3, low, p.f.r * 1.6],
                   [p.wing_x - p.root_c * 0.3, low, -p.f.r * 1.6]):
            _gear(b, trim, dark, np.array(at), gear_h, wr)
    return b
