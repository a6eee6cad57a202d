"""Tests of the procedural shape generator (parvox.data.procedural)."""

from __future__ import annotations

import numpy as np
import pytest

from parvox.data.classes import CLASSES
from parvox.data.procedural import GENERATORS, ProceduralShape, make_shape

SEEDS = (0, 1, 2)


def _closed_and_outward(vertices: np.ndarray, faces: np.ndarray) -> bool:
    """Every directed edge appears once and its reverse once (closed, consistently wound)."""
    e = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    directed = {tuple(x) for x in e.tolist()}
    if len(directed) != len(e):
        return False
    return all((b, a) in directed for a, b in directed)


def _volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    tri = vertices[faces]
    return float(np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0)


def test_generators_cover_all_classes() -> None:
    assert set(GENERATORS) == set(CLASSES)


def test_unknown_class_raises() -> None:
    with pytest.raises(ValueError, match="unknown class"):
        make_shape("spaceship", 0)


@pytest.mark.parametrize("name", CLASSES)
def test_shapes_are_well_formed(name: str) -> None:
    for seed in SEEDS:
        s = make_shape(name, seed)
        assert isinstance(s, ProceduralShape)
        assert s.class_name == name
        v, f = np.asarray(s.mesh.vertices), np.asarray(s.mesh.faces)
        assert 0 < len(f) <= 20_000
        assert np.isfinite(v).all()
        assert f.min() >= 0 and f.max() < len(v)
        assert s.face_colors.shape == (len(f), 3) and s.face_colors.dtype == np.uint8
        assert s.shininess.shape == (len(f),) and s.shininess.dtype == np.float32
        assert (s.shininess >= 0).all() and (s.shininess <= 1).all()
        assert s.part_index.shape == (len(f),)
        assert v[:, 1].min() == pytest.approx(0.0, abs=1e-9)  # standing on the ground
        lo, hi = v.min(axis=0), v.max(axis=0)
        assert abs(lo[0] + hi[0]) < 1e-9 and abs(lo[2] + hi[2]) < 1e-9  # centred in x, z


@pytest.mark.parametrize("name", CLASSES)
def test_every_part_is_closed_with_positive_volume(name: str) -> None:
    s = make_shape(name, 7)
    v, f = np.asarray(s.mesh.vertices), np.asarray(s.mesh.faces)
    for k in range(s.n_parts):
        pf = f[s.part_index == k]
        assert _closed_and_outward(v, pf), f"{name} part {k} is not closed"
        assert _volume(v, pf) > 0.0, f"{name} part {k} is inside out"


@pytest.mark.parametrize("name", CLASSES)
def test_deterministic_and_seed_dependent(name: str) -> None:
    a, b, c = make_shape(name, 3), make_shape(name, 3), make_shape(name, 4)
    assert np.asarray(a.mesh.vertices).tobytes() == np.asarray(b.mesh.vertices).tobytes()
    assert np.array_equal(a.mesh.faces, b.mesh.faces)
    assert np.array_equal(a.face_colors, b.face_colors)
    assert np.array_equal(a.shininess, b.shininess)
    differs = (len(a.mesh.faces) != len(c.mesh.faces)
               or not np.allclose(a.mesh.vertices, c.mesh.vertices))
    assert differs


def _extents(name: str, seeds: range) -> np.ndarray:
    return np.array([make_shape(name, s).mesh.extents for s in seeds])


def test_canonical_orientation() -> None:
    """Long vehicles and rifles lie along X, benches along Z, floor/desk lamps stand along Y."""
    for name in ("car", "rifle", "watercraft"):
        ext = _extents(name, range(8))
        assert (ext[:, 0] > ext[:, 2]).all(), name  # longer than wide (masts may be taller)
    ext = _extents("airplane", range(8))
    assert (ext[:, 0] > ext[:, 1]).all()  # wings span Z, which may exceed the length
    assert (np.argmax(_extents("bench", range(8)), axis=1) == 2).mean() >= 0.75
    ext = _extents("lamp", range(8))
    assert (ext[:, 1] > 0.5 * ext.max(axis=1)).mean() >= 0.75


def test_fronts_face_plus_x() -> None:
    """Chair backrests sit at -X; rifle stocks (tall) at -X and barrels (thin) at +X."""
    for seed in range(6):
        s = make_shape("chair", seed)
        v = np.asarray(s.mesh.vertices)
        top = v[v[:, 1] > 0.9 * v[:, 1].max()]
        if v[:, 1].max() > 0.7:  # has a backrest above the seat
            assert top[:, 0].mean() < 0.05
    taller_rear = []
    for seed in range(10):
        v = np.asarray(make_shape("rifle", seed).mesh.vertices)
        lo, hi = v[:, 0].min(), v[:, 0].max()
        rear = v[v[:, 0] < lo + 0.15 * (hi - lo)]
        front = v[v[:, 0] > hi - 0.15 * (hi - lo)]
        taller_rear.append(np.ptp(rear[:, 1]) > np.ptp(front[:, 1]))
    assert np.mean(taller_rear) >= 0.7


@pytest.mark.parametrize("name", ["chair", "table", "car", "sofa", "cabinet", "airplane"])
def test_intra_class_variety(name: str) -> None:
    """Over 12 seeds, proportions vary a lot and the structure (face count) changes."""
    shapes = [make_shape(name, s) for s in range(12)]
    ext = np.array([s.mesh.extents for s in shapes])
    aspect = ext / ext.max(axis=1, keepdims=True)
    assert aspect.std(axis=0).max() > 0.1
    assert len({len(s.mesh.faces) for s in shapes}) >= 5
    assert len({s.n_parts for s in shapes}) >= 4


def test_colours_vary_in_lightness() -> None:
    """Objects are not all light: mean face lightness spans dark to light across seeds."""
    lum = [make_shape("chair", s).face_colors.mean() for s in range(20)]
    assert min(lum) < 90 and max(lum) > 150
