"""Rendering and the dataset builder: camera agreement, layout, resumability, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh

from parvox.data.binvox import read_binvox
from parvox.data.builder import (
    build_dataset,
    is_complete,
    load_mesh_file,
    mesh_jobs,
    normalize_mesh,
    procedural_jobs,
)
from parvox.data.camera import r2n2_camera
from parvox.data.layout import R2N2Layout, load_splits, read_rendering_metadata
from parvox.data.render import Renderer
from parvox.data.verify import verify_root
from parvox.errors import DataError


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(137)


def test_render_puts_a_point_where_the_camera_projects_it(renderer: Renderer) -> None:
    centre = np.array([0.15, -0.1, 0.2])
    ball = trimesh.creation.icosphere(3, radius=0.03).apply_translation(centre)
    cam = r2n2_camera(70.0, 27.0, 0.0, 0.7)
    image = renderer.render_views(ball.triangles, np.full((len(ball.faces), 3), 200, np.uint8),
                                  [cam])[0]
    alpha = image[..., 3].astype(float)
    rows, cols = np.indices(alpha.shape)
    found = np.array([(cols * alpha).sum(), (rows * alpha).sum()]) / alpha.sum() + 0.5
    expected = cam.project(centre[None])[0][0]
    np.testing.assert_allclose(found, expected, atol=0.3)  # pixel centres sit at +0.5


def test_render_background_is_transparent_black(renderer: Renderer) -> None:
    box = trimesh.creation.box((0.3, 0.3, 0.3))
    image = renderer.render_views(box.triangles, np.full((12, 3), 90, np.uint8),
                                  [r2n2_camera(10, 26, 0, 0.8)])[0]
    assert image.shape == (137, 137, 4) and image.dtype == np.uint8
    assert image[0, 0].tolist() == [0, 0, 0, 0]
    assert image[68, 68, 3] == 255 and 20 < image[68, 68, :3].mean() < 250
    edge = (image[..., 3] > 0) & (image[..., 3] < 255)
    assert edge.any()  # anti-aliased silhouette


def _mesh_folder(root: Path) -> Path:
    meshes = root / "meshes"
    (meshes / "chair").mkdir(parents=True)
    (meshes / "gadget").mkdir()
    parts = [trimesh.creation.box((0.5, 0.1, 0.5)),
             trimesh.creation.cylinder(0.05, 0.8).apply_translation((0.2, 0.0, 0.2))]
    trimesh.util.concatenate(parts).export(meshes / "chair" / "seat.obj")
    trimesh.creation.torus(0.4, 0.12).export(meshes / "gadget" / "ring.ply")
    trimesh.creation.capsule(0.6, 0.2).export(meshes / "gadget" / "pill.stl")
    return meshes


def test_build_from_meshes_verifies_like_real_data(tmp_path: Path) -> None:
    out = tmp_path / "data"
    summary = build_dataset(out, mesh_jobs(_mesh_folder(tmp_path)), seed=3, show_progress=False)
    assert summary.count("built") == 3
    layout = R2N2Layout(out)
    refs = layout.discover()
    assert [r.key for r in refs] == ["03001627/seat", "gadget/pill", "gadget/ring"]
    meta = read_rendering_metadata(layout.metadata_path(refs[0]))
    assert meta.shape == (24, 5)
    assert (layout.rendering_dir(refs[0]) / "renderings.txt").read_text().split() == [
        f"{v:02d}.png" for v in range(24)]
    vox = read_binvox(layout.voxel_path(refs[0]))
    assert vox.scale == pytest.approx(max(normalize_mesh(trimesh.load(
        tmp_path / "meshes/chair/seat.obj", force="mesh")).extents), rel=1e-5)
    assert min(vox.translate) == pytest.approx(-vox.scale / 2, rel=1e-5)
    result = verify_root(out, show_progress=False)
    assert not result.bad_models
    assert result.mean_silhouette_iou >= 0.75 and result.mean_coverage >= 0.98
    splits = load_splits(out / "ShapeNet.json")
    assert sorted(s.taxonomy_id for s in splits) == ["03001627", "gadget"]


def test_build_is_resumable_and_deterministic(tmp_path: Path) -> None:
    meshes = _mesh_folder(tmp_path)
    first, second = tmp_path / "a", tmp_path / "b"
    build_dataset(first, mesh_jobs(meshes), seed=5, show_progress=False)
    layout = R2N2Layout(first)
    ref = layout.discover()[1]
    # simulate a crash: a model half-written (its voxels gone) and a stale partial folder
    layout.voxel_path(ref).unlink()
    stale = layout.rendering_dir(ref).parent.parent / f".{ref.model_id}.partial-999"
    stale.mkdir()
    assert not is_complete(layout, ref)
    again = build_dataset(first, mesh_jobs(meshes), seed=5, show_progress=False)
    assert (again.count("built"), again.count("skipped")) == (1, 2)
    build_dataset(second, mesh_jobs(meshes), seed=5, workers=2, show_progress=False)
    for path in sorted(p for p in first.rglob("*") if p.is_file() and ".partial" not in str(p)):
        twin = second / path.relative_to(first)
        assert twin.read_bytes() == path.read_bytes(), path


def test_bad_mesh_stops_the_build_unless_skipped(tmp_path: Path) -> None:
    meshes = _mesh_folder(tmp_path)
    (meshes / "gadget" / "broken.obj").write_text("v 0 0 0\nv nan 1 0\nv 0 0 1\nf 1 2 3\n")
    with pytest.raises(DataError, match="broken.obj.*non-finite"):
        build_dataset(tmp_path / "x", mesh_jobs(meshes), show_progress=False)
    summary = build_dataset(tmp_path / "y", mesh_jobs(meshes), skip_bad=True,
                            show_progress=False)
    assert (summary.count("built"), summary.count("failed")) == (3, 1)
    listed = json.loads((tmp_path / "y" / "ShapeNet.json").read_text())
    assert all("broken" not in entry[s] for entry in listed for s in ("train", "val", "test"))
    assert not (tmp_path / "y" / "ShapeNetVox32" / "gadget" / "broken").exists()


def test_mesh_errors_name_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.obj"
    empty.write_text("# nothing\n")
    with pytest.raises(DataError, match="empty.obj"):
        load_mesh_file(str(empty))
    garbage = tmp_path / "garbage.glb"
    garbage.write_bytes(b"\x00\x01 not a mesh")
    with pytest.raises(DataError, match="garbage.glb"):
        load_mesh_file(str(garbage))
    with pytest.raises(DataError, match="no mesh files"):
        mesh_jobs(tmp_path)


def test_z_up_meshes_are_turned_y_up(tmp_path: Path) -> None:
    tall = tmp_path / "tall.stl"
    trimesh.creation.box((0.2, 0.3, 1.0)).export(tall)
    mesh, colors = load_mesh_file(str(tall), up="z")
    assert np.argmax(mesh.extents) == 1 and colors.shape == (12, 3)


def test_growing_a_build_keeps_the_models_splits(tmp_path: Path) -> None:
    out = tmp_path / "data"
    build_dataset(out, procedural_jobs(4, ["table"]), seed=2, show_progress=False)
    before = load_splits(out / "ShapeNet.json")
    summary = build_dataset(out, procedural_jobs(12, ["table"]), seed=2, show_progress=False)
    assert (summary.count("skipped"), summary.count("built")) == (4, 8)
    after = load_splits(out / "ShapeNet.json")[0]
    for name in ("train", "val", "test"):
        assert set(before[0].ids(name)) <= set(after.ids(name)), name
    assert len(after.train + after.val + after.test) == 12
