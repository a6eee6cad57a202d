"""Triangle meshes and their files: Wavefront OBJ, binary PLY and binary glTF 2.0 (GLB).

Written by hand, not through trimesh: importing trimesh (with the scipy modules it pulls in)
takes about 0.8 s, a sixth of ``parvox reconstruct``'s whole run, to write three simple
formats. The formats, from their specifications:

* OBJ: ``v x y z`` lines, then ``f a b c`` lines with 1-based vertex indices.
* PLY (Turk 1994): an ASCII header, then the ``binary_little_endian 1.0`` body: float32
  ``x y z`` per vertex, and per face a uint8 count (3) and three int32 indices.
* GLB (Khronos glTF 2.0, section "Binary glTF layout"): a 12-byte header (``glTF``, version 2,
  total length), a JSON chunk padded with spaces and a BIN chunk padded with zeros, each to 4
  bytes; one mesh, one triangle primitive (mode 4) with float32 ``POSITION`` (with the
  ``min``/``max`` the specification requires) and uint32 indices, and one material whose
  ``baseColorFactor`` is linear RGBA (the specification's colour space). Without normals, a
  viewer shades flat, as the specification requires.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np

#: glTF constants (glTF 2.0 specification, sections 3.6.2 and 4.4).
GLB_MAGIC, GLB_VERSION = b"glTF", 2
GLB_JSON, GLB_BIN = 0x4E4F534A, 0x004E4942
GL_FLOAT, GL_UNSIGNED_INT = 5126, 5125
GL_ARRAY_BUFFER, GL_ELEMENT_ARRAY_BUFFER = 34962, 34963
GL_TRIANGLES = 4


@dataclass(frozen=True)
class Mesh:
    """A triangle mesh.

    Attributes:
        vertices: float ``(V, 3)`` positions.
        faces: int ``(F, 3)`` vertex indices, counter-clockwise seen from outside.
    """

    vertices: np.ndarray
    faces: np.ndarray

    @property
    def triangles(self) -> np.ndarray:
        """float ``(F, 3, 3)``: each face's three corners."""
        return self.vertices[self.faces]


def obj_bytes(mesh: Mesh) -> bytes:
    """The mesh as a Wavefront OBJ file."""
    lines = ["# parvox"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.vertices.tolist()]
    lines += [f"f {a} {b} {c}" for a, b, c in (mesh.faces + 1).tolist()]
    return ("\n".join(lines) + "\n").encode()


def ply_bytes(mesh: Mesh) -> bytes:
    """The mesh as a binary little-endian PLY file."""
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment parvox\n"
        f"element vertex {len(mesh.vertices)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        f"element face {len(mesh.faces)}\n"
        "property list uchar int vertex_indices\nend_header\n"
    )
    faces = np.zeros(len(mesh.faces), dtype=[("n", "u1"), ("v", "<i4", (3,))])
    faces["n"], faces["v"] = 3, mesh.faces
    body = mesh.vertices.astype("<f4").tobytes() + faces.tobytes()
    return header.encode() + body


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB components in [0, 1] to linear light (IEC 61966-2-1)."""
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def glb_bytes(mesh: Mesh, colour: tuple[int, int, int, int]) -> bytes:
    """The mesh as a binary glTF 2.0 file, its surface of ``colour`` (sRGB RGBA, 0-255)."""
    positions = np.ascontiguousarray(mesh.vertices, dtype="<f4")
    indices = np.ascontiguousarray(mesh.faces, dtype="<u4")
    binary = positions.tobytes() + indices.tobytes()  # both multiples of 4 bytes
    rgba = np.asarray(colour, dtype=float) / 255.0
    factor = [*srgb_to_linear(rgba[:3]).round(6).tolist(), round(float(rgba[3]), 6)]
    document = {
        "asset": {"version": "2.0", "generator": "parvox"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1,
                                    "material": 0, "mode": GL_TRIANGLES}]}],
        "materials": [{"pbrMetallicRoughness": {"baseColorFactor": factor,
                                                "metallicFactor": 0.0,
                                                "roughnessFactor": 0.8}}],
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": positions.nbytes,
             "target": GL_ARRAY_BUFFER},
            {"buffer": 0, "byteOffset": positions.nbytes, "byteLength": indices.nbytes,
             "target": GL_ELEMENT_ARRAY_BUFFER},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": GL_FLOAT, "count": len(positions),
             "type": "VEC3", "min": positions.min(axis=0).tolist(),
             "max": positions.max(axis=0).tolist()},
            {"bufferView": 1, "componentType": GL_UNSIGNED_INT, "count": indices.size,
             "type": "SCALAR"},
        ],
    }
    text = json.dumps(document, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return (struct.pack("<4sII", GLB_MAGIC, GLB_VERSION, total)
            + struct.pack("<II", len(text), GLB_JSON) + text
            + struct.pack("<II", len(binary), GLB_BIN) + binary)
