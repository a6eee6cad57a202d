"""Collect coloured parts and turn them into a :class:`ProceduralShape`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from .geometry import Part
from .palette import Material


@dataclass
class ProceduralShape:
    """A generated object in ShapeNet's canonical pose.

    Frame: +Y up with the lowest point at y = 0, bounding box centred on x = z = 0; the object's
    front faces +X (long objects, e.g. cars, planes, rifles and boats, lie along X with their
    nose/muzzle/bow toward +X; furniture and devices face +X with their width along Z).
    Units are roughly metres.
    """

    mesh: trimesh.Trimesh
    face_colors: np.ndarray  # (F, 3) uint8 sRGB
    class_name: str
    shininess: np.ndarray  # (F,) float32 in [0, 1]
    part_index: np.ndarray  # (F,) int32: the closed part each face belongs to
    subtype: str = ""  # structural family within the class, e.g. "pickup", "sailboat"

    @property
    def n_parts(self) -> int:
        """Number of closed parts the mesh is made of."""
        return int(self.part_index.max()) + 1 if len(self.part_index) else 0


class ShapeBuilder:
    """Accumulates closed parts with their materials."""

    def __init__(self) -> None:
        self._parts: list[tuple[Part, Material]] = []
        #: structural family within the class (recorded in ``ProceduralShape.subtype``)
        self.kind = ""

    def add(self, part: Part, mat: Material) -> None:
        """Add one closed part."""
        self._parts.append((part, mat))

    def add_all(self, parts: list[Part], mat: Material) -> None:
        """Add several parts sharing one material."""
        for p in parts:
            self.add(p, mat)

    def add_sym(self, part: Part, mat: Material, axis: int = 2) -> None:
        """Add ``part`` and its mirror image through the plane ``coord[axis] = 0``."""
        self.add(part, mat)
        self.add(part.mirrored(axis), mat)

    def build(self, class_name: str) -> ProceduralShape:
        """Concatenate the parts, put the object on the ground and centre it horizontally."""
        verts, faces, colors, shine, index = [], [], [], [], []
        offset = 0
        for k, (part, mat) in enumerate(self._parts):
            verts.append(part.vertices)
            faces.append(part.faces + offset)
            offset += len(part.vertices)
            nf = len(part.faces)
            colors.append(np.tile(np.array(mat.rgb, dtype=np.uint8), (nf, 1)))
            shine.append(np.full(nf, mat.shininess, dtype=np.float32))
            index.append(np.full(nf, k, dtype=np.int32))
        v = np.vstack(verts)
        lo, hi = v.min(axis=0), v.max(axis=0)
        v = v - np.array([0.5 * (lo[0] + hi[0]), lo[1], 0.5 * (lo[2] + hi[2])])
        mesh = trimesh.Trimesh(vertices=v, faces=np.vstack(faces), process=False)
        return ProceduralShape(mesh, np.vstack(colors), class_name, np.concatenate(shine),
                               np.concatenate(index), self.kind)
