"""Tests of the hand-written mesh files (parvox.data.meshfiles), read back by trimesh."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest
import trimesh

from parvox.data.meshfiles import Mesh, glb_bytes, obj_bytes, ply_bytes, srgb_to_linear


def box() -> Mesh:
    """A closed, outward-facing box off the origin (with a volume the reader can check)."""
    shape = trimesh.creation.box((0.3, 0.5, 0.7)).apply_translation((0.1, -0.2, 0.05))
    return Mesh(np.asarray(shape.vertices), np.asarray(shape.faces))


@pytest.mark.parametrize(("kind", "write"), [("obj", obj_bytes), ("ply", ply_bytes),
                                             ("glb", glb_bytes)])
def test_files_read_back_as_the_same_closed_mesh(kind: str, write: object) -> None:
    mesh = box()
    data = write(mesh, (96, 136, 196, 255)) if kind == "glb" else write(mesh)  # type: ignore[operator]
    back = trimesh.load(io.BytesIO(data), file_type=kind, force="mesh", process=False)
    assert np.allclose(back.vertices, mesh.vertices, atol=1e-6)
    assert np.array_equal(back.faces, mesh.faces)
    # outward winding survives: a positive volume (a flipped file would read negative)
    assert back.volume == pytest.approx(0.3 * 0.5 * 0.7, rel=1e-5)


def test_glb_layout_follows_the_specification() -> None:
    mesh = Mesh(box().vertices[:7], box().faces[:3])  # odd sizes: padding needed
    data = glb_bytes(mesh, (255, 128, 0, 255))
    magic, version, total = struct.unpack_from("<4sII", data)
    assert (magic, version, total) == (b"glTF", 2, len(data))
    json_len, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A and json_len % 4 == 0
    document = json.loads(data[20:20 + json_len])
    bin_len, bin_type = struct.unpack_from("<II", data, 20 + json_len)
    assert bin_type == 0x004E4942 and bin_len % 4 == 0 and 28 + json_len + bin_len == total
    position = document["accessors"][0]
    assert position["min"] == pytest.approx(mesh.vertices.min(axis=0).tolist())
    assert position["max"] == pytest.approx(mesh.vertices.max(axis=0).tolist())
    # the material's colour is linear light: sRGB 128 is 0.2158 linear, not 0.502
    factor = document["materials"][0]["pbrMetallicRoughness"]["baseColorFactor"]
    assert factor == pytest.approx([1.0, 0.2158605, 0.0, 1.0], abs=1e-6)


def test_srgb_to_linear_matches_the_standard_at_its_knee_and_ends() -> None:
    values = srgb_to_linear(np.array([0.0, 0.04045, 0.5, 1.0]))
    assert values == pytest.approx([0.0, 0.04045 / 12.92, 0.2140411, 1.0], abs=1e-6)
