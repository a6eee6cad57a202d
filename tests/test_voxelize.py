"""Solid voxelisation: closed meshes, unions of parts, open meshes, placement in the cube."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh

from parvox.data.voxelize import (
    is_closed,
    parity_inside,
    voxel_triangles,
    voxelize_mesh,
    voxelize_triangles,
)


def _drop_faces(mesh: trimesh.Trimesh, count: int, seed: int = 0) -> trimesh.Trimesh:
    keep = np.ones(len(mesh.faces), bool)
    keep[np.random.default_rng(seed).choice(len(keep), count, replace=False)] = False
    return trimesh.Trimesh(mesh.vertices, mesh.faces[keep], process=False)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_sphere_volume_matches_analytic() -> None:
    occ = voxelize_mesh(trimesh.creation.icosphere(subdivisions=4, radius=1.0))
    expected = 4 / 3 * math.pi * 16**3  # radius 16 voxels
    assert occ.shape == (32, 32, 32)
    assert 0.95 * expected < occ.sum() < 1.25 * expected  # surface voxels count whole
    assert occ[16, 16, 16] and not occ[0, 0, 0]


def test_box_is_full_and_placed_by_bounding_cube() -> None:
    box = trimesh.creation.box((1.0, 0.47, 0.22))  # faces off voxel boundaries
    occ = voxelize_mesh(box)
    xs, ys, zs = (np.flatnonzero(occ.any(axis=a)) for a in ((1, 2), (0, 2), (0, 1)))
    assert (xs.min(), xs.max()) == (0, 31)  # longest axis spans the cube
    assert (ys.min(), ys.max()) == (8, 23)  # centred: 16 voxels tall in the middle
    assert (zs.min(), zs.max()) == (12, 19)
    assert occ.sum() == 32 * 16 * 8


def test_axis_order_is_x_y_z() -> None:
    parts = [trimesh.creation.box((1.0, 1.0, 1.0)),
             trimesh.creation.box((0.2, 0.2, 0.2)).apply_translation((0.0, 1.0, 0.0))]
    occ = voxelize_mesh(trimesh.util.concatenate(parts))
    top = np.argwhere(occ)[:, 1].max()
    column = np.argwhere(occ[:, top, :])
    assert column[:, 0].mean() == pytest.approx(15.5, abs=1) and top == 31


def test_union_of_overlapping_closed_parts_is_solid() -> None:
    parts = [trimesh.creation.box((1.0, 0.2, 0.2)), trimesh.creation.box((0.2, 1.0, 0.2)),
             trimesh.creation.icosphere(2, radius=0.25)]
    mesh = trimesh.util.concatenate(parts)
    assert is_closed(mesh)
    occ = voxelize_mesh(mesh)
    assert occ[16, 16, 16]  # inside where all parts overlap
    assert occ[3, 16, 16] and occ[16, 3, 16]


@pytest.mark.parametrize("drop", [2, 20, 60])
def test_open_sphere_stays_solid(drop: int) -> None:
    sphere = trimesh.creation.icosphere(subdivisions=3)
    reference = voxelize_mesh(sphere)
    holed = _drop_faces(sphere, drop)
    assert not is_closed(holed)
    assert _iou(voxelize_mesh(holed), reference) > 0.97


def test_trimesh_fill_leaks_where_ours_does_not() -> None:
    """The measurement behind the design: trimesh's hole filling leaves a sphere with an open cap
    hollow (its flood fill leaks through the cap); the 3-axis parity vote keeps it solid."""
    sphere = trimesh.creation.icosphere(subdivisions=3)
    cap = sphere.triangles_center[:, 2] > 0.85
    holed = trimesh.Trimesh(sphere.vertices, sphere.faces[~cap], process=False)
    reference = voxelize_mesh(sphere)
    theirs = holed.voxelized(pitch=holed.extents.max() / 32).fill(method="holes").matrix
    assert theirs.sum() < 0.5 * reference.sum()  # leaked: only the shell
    assert voxelize_mesh(holed).sum() > 0.97 * reference.sum()


def test_box_missing_one_side_is_solid() -> None:
    box = trimesh.creation.box((1.0, 0.6, 0.8))
    reference = voxelize_mesh(box)
    side = np.flatnonzero(box.face_normals[:, 0] > 0.9)  # the two triangles of +X
    keep = np.setdiff1d(np.arange(len(box.faces)), side)
    open_box = trimesh.Trimesh(box.vertices, box.faces[keep], process=False)
    assert _iou(voxelize_mesh(open_box), reference) > 0.97


def test_parity_counts_nested_shells() -> None:
    """Two nested closed spheres: parity says the gap between them is inside, the core not."""
    outer = trimesh.creation.icosphere(3, radius=1.0)
    inner = trimesh.creation.icosphere(3, radius=0.5)
    tri = np.concatenate([outer.triangles, inner.triangles])
    tri = (tri + 1.0) * 16.0
    inside = parity_inside(tri, 32, axis=1)
    assert inside[16, 16, 4] and not inside[16, 16, 16]


def test_thin_sheet_keeps_its_surface() -> None:
    sheet = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [1, 0, 1], [0, 0, 1]], [[0, 1, 2], [0, 2, 3]])
    occ = voxelize_mesh(sheet)
    assert 32 * 32 <= occ.sum() <= 2 * 32 * 32


def test_voxelize_triangles_follows_a_shift_of_whole_voxels() -> None:
    """Triangles moved by (0, 3, -2) voxels give the grid moved by as much (parts leaving the
    cube are cut); only voxels the surface touches exactly on a boundary may differ."""
    mesh = trimesh.creation.capsule(2.0, 0.3)
    grid = voxelize_mesh(mesh, 32)
    moved = voxelize_triangles(voxel_triangles(mesh) + [0.0, 3.0, -2.0], True, 32)
    expected = np.zeros_like(grid)
    expected[:, 3:, :-2] = grid[:, :-3, 2:]
    assert np.logical_xor(moved, expected).sum() <= 2
    assert moved.sum() < grid.sum()  # the top of the capsule left the cube


def test_half_voxel_shift_costs_thin_parts_most() -> None:
    """A half-voxel slip keeps most of a ball but loses most of a rod one voxel thick."""
    def shifted_iou(mesh: trimesh.Trimesh) -> float:
        grid = voxelize_mesh(mesh, 32)
        moved = voxelize_triangles(voxel_triangles(mesh) + 0.5, is_closed(mesh), 32)
        return float((grid & moved).sum() / (grid | moved).sum())

    ball = shifted_iou(trimesh.creation.icosphere(3))
    rod = shifted_iou(trimesh.creation.box((2.0, 0.06, 0.06)))
    assert ball > 0.85
    assert rod < 0.6
