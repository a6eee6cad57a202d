"""Closed primitive parts: boxes, rounded boxes, frusta, capsules, ellipsoids, tubes, lathes.

All constructors return a watertight, outward-oriented :class:`~.geometry.Part` placed directly
in object coordinates (metres, +Y up), so composing a shape is mostly a matter of choosing
centres, end points and sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .geometry import (
    X_AXIS,
    Y_AXIS,
    Z_AXIS,
    Part,
    ellipse_ring,
    loft,
    path_frames,
    perpendicular,
    place_ring,
    rounded_rect_ring,
    unit,
)

Vec3 = Sequence[float] | np.ndarray

_BOX_FACES = np.array(
    [[0, 2, 1], [0, 3, 2], [4, 5, 6], [4, 6, 7], [0, 1, 5], [0, 5, 4],
     [2, 3, 7], [2, 7, 6], [1, 2, 6], [1, 6, 5], [0, 4, 7], [0, 7, 3]], dtype=np.int64)
_AXES = (X_AXIS, Y_AXIS, Z_AXIS)


def box(size: Vec3, center: Vec3 = (0.0, 0.0, 0.0), rot: np.ndarray | None = None) -> Part:
    """Axis-aligned box of extents ``size`` centred at ``center`` (optionally rotated about it)."""
    sx, sy, sz = (0.5 * float(s) for s in size)
    v = np.array([[-sx, -sy, -sz], [sx, -sy, -sz], [sx, sy, -sz], [-sx, sy, -sz],
                  [-sx, -sy, sz], [sx, -sy, sz], [sx, sy, sz], [-sx, sy, sz]])
    if rot is not None:
        v = v @ rot.T
    return Part(v + np.asarray(center, dtype=np.float64), _BOX_FACES.copy())


def box_between(lo: Vec3, hi: Vec3) -> Part:
    """Axis-aligned box spanning the corners ``lo`` and ``hi``."""
    lo_a, hi_a = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    return box(np.abs(hi_a - lo_a), 0.5 * (lo_a + hi_a))


def _axis_frame(axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(extrusion direction, ring u, ring v) for extruding along coordinate ``axis``."""
    d = _AXES[axis]
    u, v = _AXES[(axis + 1) % 3], _AXES[(axis + 2) % 3]
    return d, u, v


def extrude(ring2d: np.ndarray, length: float, center: Vec3 = (0, 0, 0), axis: int = 2) -> Part:
    """Extrude a star-shaped 2D ring along coordinate ``axis`` (ring coords map to the next two
    axes cyclically: axis 0 -> (y, z), 1 -> (z, x), 2 -> (x, y))."""
    d, u, v = _axis_frame(axis)
    c = np.asarray(center, dtype=np.float64)
    r0 = place_ring(ring2d, c - 0.5 * length * d, u, v)
    r1 = place_ring(ring2d, c + 0.5 * length * d, u, v)
    return loft(np.stack([r0, r1]))


def rounded_box(size: Vec3, radius: float, center: Vec3 = (0, 0, 0), axis: int = 2,
                segs: int = 3) -> Part:
    """Box whose edges parallel to ``axis`` are rounded with ``radius`` (``segs=1``: bevelled)."""
    s = np.asarray(size, dtype=np.float64)
    a1, a2 = (axis + 1) % 3, (axis + 2) % 3
    ring = rounded_rect_ring(s[a1], s[a2], radius, segs)
    return extrude(ring, s[axis], center, axis)


def prism(poly2d: np.ndarray | list[list[float]], depth: float, center: Vec3 = (0, 0, 0),
          axis: int = 2) -> Part:
    """Extrude a star-shaped polygon (e.g. a wedge triangle, a stock profile) along ``axis``.

    For ``axis=2`` the polygon is given in (x, y) and extruded symmetrically about
    ``center[2]``; ``center`` offsets the polygon as well.
    """
    return extrude(np.asarray(poly2d, dtype=np.float64), depth, center, axis)


def superellipsoid(size: Vec3, center: Vec3 = (0, 0, 0), exponent: float = 1.0, m: int = 16,
                   n: int = 9) -> Part:
    """Ellipsoid-like blob with extents ``size``; ``exponent < 1`` gives a cushion/rounded box."""
    a = 0.5 * np.asarray(size, dtype=np.float64)
    lat = np.linspace(-np.pi / 2, np.pi / 2, n + 2)[1:-1]
    lon = np.linspace(0.0, 2.0 * np.pi, m, endpoint=False)

    def spow(x: np.ndarray) -> np.ndarray:
        return np.sign(x) * np.abs(x) ** exponent

    cl, sl = spow(np.cos(lat))[:, None], spow(np.sin(lat))[:, None]
    co, so = spow(np.cos(lon))[None, :], spow(np.sin(lon))[None, :]
    rings = np.stack([a[0] * cl * co, a[1] * sl * np.ones_like(co), a[2] * cl * so], axis=-1)
    c = np.asarray(center, dtype=np.float64)
    caps = (c - [0.0, a[1], 0.0], c + [0.0, a[1], 0.0])
    return loft(rings + c, cap_points=caps)


def ellipsoid(size: Vec3, center: Vec3 = (0, 0, 0), m: int = 14, n: int = 7) -> Part:
    """Ellipsoid with full extents ``size``."""
    return superellipsoid(size, center, 1.0, m, n)


def sphere(center: Vec3, radius: float, m: int = 14, n: int = 7) -> Part:
    """Sphere of ``radius``."""
    return superellipsoid((2 * radius,) * 3, center, 1.0, m, n)


def cylinder(p0: Vec3, p1: Vec3, r0: float, r1: float | None = None, m: int = 16,
             aspect: float = 1.0, up: Vec3 | None = None) -> Part:
    """Frustum from ``p0`` (radius ``r0``) to ``p1`` (radius ``r1``, default ``r0``).

    ``aspect`` scales the section along ``up`` (projected off the axis) to make elliptic
    cylinders; ``m=4`` gives a square-ish rod.
    """
    a, b = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    t = unit(b - a)
    if up is None:
        v = perpendicular(t)
    else:
        upv = np.asarray(up, dtype=np.float64)
        v = unit(upv - (upv @ t) * t)
    u = np.cross(v, t)
    r1 = r0 if r1 is None else r1
    ring = ellipse_ring(1.0, aspect, m, np.pi / m)
    rings = np.stack([place_ring(ring * r0, a, u, v), place_ring(ring * r1, b, u, v)])
    return loft(rings)


def disc(center: Vec3, radius: float, thickness: float, axis: int = 1, m: int = 20) -> Part:
    """Short cylinder (wheel, plate, driver cone) centred at ``center`` along ``axis``."""
    c = np.asarray(center, dtype=np.float64)
    d = _AXES[axis] * 0.5 * thickness
    return cylinder(c - d, c + d, radius, m=m)


def capsule(p0: Vec3, p1: Vec3, radius: float, m: int = 12, n_cap: int = 3) -> Part:
    """Cylinder from ``p0`` to ``p1`` with hemispherical ends."""
    a, b = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    t = unit(b - a)
    v = perpendicular(t)
    u = np.cross(v, t)
    ang = np.linspace(0.0, np.pi / 2, n_cap + 1)[1:]
    offs = np.concatenate([-np.cos(ang[::-1]), [0.0], [0.0], np.cos(ang)]) * radius
    rads = np.concatenate([np.sin(ang[::-1]), [1.0], [1.0], np.sin(ang)]) * radius
    cents = [a + o * t if k <= n_cap else b + o * t for k, o in enumerate(offs)]
    ring = ellipse_ring(1.0, 1.0, m)
    rings = np.stack([place_ring(ring * r, c, u, v) for r, c in zip(rads, cents, strict=True)])
    return loft(rings, cap_points=(a - radius * t, b + radius * t))


def tube(path: np.ndarray, radius: float | np.ndarray, m: int = 8, ref: Vec3 | None = None,
         section: np.ndarray | None = None, closed: bool = False) -> Part:
    """Sweep a section along a polyline ``path`` (K, 3).

    ``radius`` (scalar or (K,)) scales the section, a unit circle by default; ``section`` (M, 2)
    replaces it (first coordinate along the path normal, second along the binormal, which
    follows ``ref`` when given).  ``closed`` joins the end back to the start (tori, loops).
    """
    path = np.asarray(path, dtype=np.float64)
    if closed:
        path = np.vstack([path[-1:], path, path[:1]])
    tang, normal, binorm, bend, stretch = path_frames(
        path, None if ref is None else np.asarray(ref, dtype=np.float64))
    sec = ellipse_ring(1.0, 1.0, m) if section is None else np.asarray(section, dtype=np.float64)
    rad = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(path) - 2 * closed,))
    if closed:
        rad = np.concatenate([rad[-1:], rad, rad[:1]])
    offs = sec[None, :, :1] * normal[:, None, :] + sec[None, :, 1:] * binorm[:, None, :]
    offs = offs * rad[:, None, None]
    along = np.einsum("kmi,ki->km", offs, bend) * (stretch - 1.0)[:, None]
    rings = path[:, None, :] + offs + along[:, :, None] * bend[:, None, :]
    if closed:
        rings = rings[1:-1]
    return loft(rings, closed=closed)


def lathe(radii: Sequence[float] | np.ndarray, heights: Sequence[float] | np.ndarray,
          center: Vec3 = (0, 0, 0), m: int = 16, closed_profile: bool = False) -> Part:
    """Surface of revolution about the vertical axis through ``center``.

    The profile is the polyline (radius, height).  An open profile is capped at both ends (a
    vase or a base); a ``closed_profile`` loop gives a hollow shell (a lamp shade, a ring).
    """
    r = np.asarray(radii, dtype=np.float64)
    h = np.asarray(heights, dtype=np.float64)
    c = np.asarray(center, dtype=np.float64)
    ring = ellipse_ring(1.0, 1.0, m)
    rings = np.stack([place_ring(ring * rk, c + [0.0, hk, 0.0], X_AXIS, Z_AXIS)
                      for rk, hk in zip(r, h, strict=True)])
    if closed_profile:
        return loft(rings, closed=True)
    caps = (c + [0.0, h[0], 0.0], c + [0.0, h[-1], 0.0])
    return loft(rings, cap_points=caps)


def arc_path(center: Vec3, radius: float, a0: float, a1: float, k: int = 12,
             plane: tuple[int, int] = (0, 1)) -> np.ndarray:
    """Points of a circular arc from angle ``a0`` to ``a1`` in the coordinate ``plane``."""
    t = np.linspace(a0, a1, k)
    pts = np.tile(np.asarray(center, dtype=np.float64), (k, 1))
    pts[:, plane[0]] += radius * np.cos(t)
    pts[:, plane[1]] += radius * np.sin(t)
    return pts


def torus(center: Vec3, major: float, minor: float, axis: int = 1, m: int = 20,
          n: int = 8) -> Part:
    """Torus around coordinate ``axis`` (a ring, a steering wheel, a tyre)."""
    plane = ((axis + 1) % 3, (axis + 2) % 3)
    path = arc_path(center, major, 0.0, 2 * np.pi * (1 - 1 / m), m, plane)
    return tube(path, minor, n, ref=_AXES[axis], closed=True)


def bezier(points: Sequence[Vec3] | np.ndarray, k: int = 12) -> np.ndarray:
    """Sample a Bezier curve with the given control points at ``k`` parameters."""
    p = np.asarray(points, dtype=np.float64)
    t = np.linspace(0.0, 1.0, k)[:, None, None]
    q = np.broadcast_to(p, (k, *p.shape))
    while q.shape[1] > 1:
        q = q[:, :-1] * (1.0 - t) + q[:, 1:] * t
    return q[:, 0]


def sections_along_x(xs: np.ndarray, y_bot: np.ndarray, y_top: np.ndarray,
                     half_w: np.ndarray, radius: float | np.ndarray, segs: int = 3,
                     z: float = 0.0) -> Part:
    """Loft rounded-rectangle cross-sections placed along +X (car bodies, stocks, hulls' decks).

    Each station has its own bottom, top and half width; ``radius`` rounds the section corners
    (clipped per station to fit).
    """
    rad = np.broadcast_to(np.asarray(radius, dtype=np.float64), xs.shape)
    rings = []
    for x, b, t, w, r in zip(xs, y_bot, y_top, half_w, rad, strict=True):
        h, wd = max(t - b, 1e-4), max(2 * w, 1e-4)
        ring = rounded_rect_ring(wd, h, max(min(r, 0.49 * h, 0.49 * wd), 1e-5), segs)
        rings.append(place_ring(ring, np.array([x, 0.5 * (b + t), z]), Z_AXIS, Y_AXIS))
    return loft(np.stack(rings))
