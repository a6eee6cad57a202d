"""Low-level mesh building blocks: closed lofts, rings, frames and rigid transforms.

Every part is a :class:`Part`, a plain ``(vertices, faces)`` pair of numpy arrays.  The central
operation is :func:`loft`, which joins a sequence of equally sized point rings into one closed,
consistently outward-oriented triangle mesh (side quads plus fan caps, or a closed loop of rings
for tori).  Boxes, cylinders, capsules, ellipsoids, swept tubes, lathes and prisms are all lofts.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

X_AXIS = np.array([1.0, 0.0, 0.0])
Y_AXIS = np.array([0.0, 1.0, 0.0])
Z_AXIS = np.array([0.0, 0.0, 1.0])


class Part(NamedTuple):
    """A closed triangle mesh: ``vertices`` (V, 3) float64 and ``faces`` (F, 3) int64."""

    vertices: np.ndarray
    faces: np.ndarray

    def moved(self, offset: np.ndarray | list[float] | tuple[float, ...]) -> Part:
        """Return the part translated by ``offset``."""
        return Part(self.vertices + np.asarray(offset, dtype=np.float64), self.faces)

    def rotated(self, rot: np.ndarray, origin: np.ndarray | None = None) -> Part:
        """Return the part rotated by the 3x3 matrix ``rot`` about ``origin`` (default: 0)."""
        o = np.zeros(3) if origin is None else np.asarray(origin, dtype=np.float64)
        return Part((self.vertices - o) @ rot.T + o, self.faces)

    def mirrored(self, axis: int = 2) -> Part:
        """Return the mirror image through the plane ``coord[axis] = 0`` (winding kept outward)."""
        v = self.vertices.copy()
        v[:, axis] = -v[:, axis]
        return Part(v, self.faces[:, ::-1].copy())


def rot_x(angle: float) -> np.ndarray:
    """Rotation matrix about +X by ``angle`` radians."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(angle: float) -> np.ndarray:
    """Rotation matrix about +Y by ``angle`` radians."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(angle: float) -> np.ndarray:
    """Rotation matrix about +Z by ``angle`` radians."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def unit(v: np.ndarray) -> np.ndarray:
    """Normalise vectors along the last axis (zero vectors stay zero)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 1e-12, n, 1.0)


def signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Signed volume enclosed by a closed triangle mesh (positive when faces point outward)."""
    tri = vertices[faces]
    return float(np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0)


def _ring_faces(n_rings: int, m: int, closed: bool) -> np.ndarray:
    """Side triangles joining consecutive rings of ``m`` points (ring ``s`` starts at ``s*m``)."""
    n_bands = n_rings if closed else n_rings - 1
    s = np.arange(n_bands)[:, None]
    i = np.arange(m)[None, :]
    a = s * m + i
    b = s * m + (i + 1) % m
    c = ((s + 1) % n_rings) * m + (i + 1) % m
    d = ((s + 1) % n_rings) * m + i
    tris = np.stack([np.stack([a, b, c], -1), np.stack([a, c, d], -1)], axis=2)
    return tris.reshape(-1, 3)


def loft(
    rings: np.ndarray,
    *,
    closed: bool = False,
    cap_points: tuple[np.ndarray, np.ndarray] | None = None,
) -> Part:
    """Join ``rings`` (S, M, 3) into a closed mesh.

    With ``closed=False`` the first and last rings are capped by fans around their centroids (or
    around ``cap_points``), so each ring should be star-shaped about that point.  With
    ``closed=True`` the last ring connects back to the first (a torus-like loop).  The winding is
    flipped if needed so that the enclosed volume is positive.
    """
    rings = np.asarray(rings, dtype=np.float64)
    n_rings, m, _ = rings.shape
    verts = rings.reshape(-1, 3)
    faces = _ring_faces(n_rings, m, closed)
    if not closed:
        start = rings[0].mean(axis=0) if cap_points is None else np.asarray(cap_points[0])
        end = rings[-1].mean(axis=0) if cap_points is None else np.asarray(cap_points[1])
        i0, i1 = len(verts), len(verts) + 1
        verts = np.vstack([verts, start, end])
        i = np.arange(m)
        j = (i + 1) % m
        last = (n_rings - 1) * m
        cap0 = np.stack([np.full(m, i0), j, i], axis=1)
        cap1 = np.stack([np.full(m, i1), last + i, last + j], axis=1)
        faces = np.vstack([faces, cap0, cap1])
    faces = faces.astype(np.int64)
    if signed_volume(verts, faces) < 0.0:
        faces = faces[:, ::-1].copy()
    return Part(verts, faces)


def ellipse_ring(a: float, b: float, m: int, phase: float = 0.0) -> np.ndarray:
    """``m`` points (M, 2) of an axis-aligned ellipse with half-axes ``a``, ``b``."""
    t = phase + np.linspace(0.0, 2.0 * np.pi, m, endpoint=False)
    return np.stack([a * np.cos(t), b * np.sin(t)], axis=1)


def rounded_rect_ring(w: float, h: float, r: float, segs: int = 3) -> np.ndarray:
    """Points of a ``w`` x ``h`` rectangle centred at 0 with corner radius ``r``.

    ``segs=1`` gives a chamfered (bevelled) rectangle; ``r=0`` a plain rectangle (4 points).
    """
    r = float(np.clip(r, 0.0, 0.5 * min(w, h)))
    if r <= 1e-9:
        return np.array([[w / 2, h / 2], [-w / 2, h / 2], [-w / 2, -h / 2], [w / 2, -h / 2]])
    centers = np.array([[w / 2 - r, h / 2 - r], [-w / 2 + r, h / 2 - r],
                        [-w / 2 + r, -h / 2 + r], [w / 2 - r, -h / 2 + r]])
    pts = []
    for k, c in enumerate(centers):
        t = np.linspace(0.0, np.pi / 2, segs + 1) + k * np.pi / 2
        pts.append(c + r * np.stack([np.cos(t), np.sin(t)], axis=1))
    return np.vstack(pts)


def place_ring(ring2d: np.ndarray, center: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Map 2D ring points into 3D: ``center + x*u + y*v``."""
    return np.asarray(center) + ring2d[:, :1] * np.asarray(u) + ring2d[:, 1:2] * np.asarray(v)


def perpendicular(t: np.ndarray) -> np.ndarray:
    """Some unit vector perpendicular to the unit vector ``t``."""
    ref = Z_AXIS if abs(t[2]) < 0.9 else X_AXIS
    return unit(np.cross(t, ref))


def path_frames(
    path: np.ndarray, ref: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tangents, normals, binormals, bend directions and mitre factors along a polyline.

    The binormal follows ``ref`` projected off the tangent when given (no twist for planar
    paths), else it is parallel-transported.  Sections are stretched along the bend direction by
    the mitre factor ``1/cos(half bend angle)`` so that sharp corners keep the swept thickness.
    """
    seg = unit(np.diff(path, axis=0))
    d_in = np.vstack([seg[:1], seg])
    d_out = np.vstack([seg, seg[-1:]])
    tang = unit(d_in + d_out)
    cos_half = np.clip(np.einsum("ij,ij->i", tang, d_out), 0.3, 1.0)
    n_pts = len(path)
    binorm = np.zeros((n_pts, 3))
    if ref is not None:
        proj = ref[None, :] - (tang @ ref)[:, None] * tang
        binorm = unit(proj)
        bad = np.linalg.norm(proj, axis=1) < 1e-6
        for k in np.nonzero(bad)[0]:
            binorm[k] = perpendicular(tang[k])
    else:
        b = perpendicular(tang[0])
        for k in range(n_pts):
            b = unit(b - (b @ tang[k]) * tang[k])
            binorm[k] = b
    normal = unit(np.cross(binorm, tang))
    return tang, normal, binorm, unit(d_out - d_in), 1.0 / cos_half
