"""Seeded procedural generator of part-based 3D shapes for the 13 ShapeNet classes of 3D-R2N2.

``make_shape(class_name, seed)`` composes closed primitive parts (boxes, rounded boxes, frusta,
capsules, ellipsoids, tori, swept tubes, lathes, lofted sections) into a
:class:`ProceduralShape` with per-face colours and shininess.  It is deterministic: the same
``(class_name, seed)`` always gives byte-identical arrays.

Canonical pose, measured on the real ShapeNetVox32 grids in ``shared/r2n2-samples`` (the
binvox ``translate``/``scale`` headers give each class's longest axis; the decoded occupancy
shows where the tail fin, backrest, stock, bow and windshield are):

* +Y up; every shape stands on y = 0 and its bounding box is centred on x = z = 0;
* the front faces +X: cars, airplanes, rifles and watercraft lie along X with the hood, nose,
  muzzle and bow at +X (the airplane sample's fin is at -X, the car's raked windshield at +X,
  the rifle's stock at -X, the boat's pointed bow at +X); airplane wings span Z;
* seats and furniture face +X with their width along Z: the chair sample's backrest is at -X
  and the bench sample is long along Z; tables, sofas, cabinets, displays, speakers and
  telephones follow the same rule (screens, doors, drivers and keypads face +X).

Each class lives in its own module (``chair``, ``car``, ...) exposing ``build(rng)``; the
``subtype`` of a shape names its structural family (e.g. ``"pickup"``, ``"sail"``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..classes import CLASSES
from . import (
    airplane,
    bench,
    cabinet,
    car,
    chair,
    display,
    lamp,
    rifle,
    sofa,
    speaker,
    table,
    telephone,
    watercraft,
)
from .builder import ProceduralShape, ShapeBuilder

Generator = Callable[[np.random.Generator], ShapeBuilder]

#: class name -> generator of that class's parts.
GENERATORS: dict[str, Generator] = {
    "airplane": airplane.build,
    "bench": bench.build,
    "cabinet": cabinet.build,
    "car": car.build,
    "chair": chair.build,
    "display": display.build,
    "lamp": lamp.build,
    "rifle": rifle.build,
    "sofa": sofa.build,
    "speaker": speaker.build,
    "table": table.build,
    "telephone": telephone.build,
    "watercraft": watercraft.build,
}

__all__ = ["GENERATORS", "ProceduralShape", "make_shape"]


def make_shape(class_name: str, seed: int) -> ProceduralShape:
    """Generate shape number ``seed`` of ``class_name`` (one of ``parvox.data.classes.CLASSES``).

    Raises:
        ValueError: for an unknown class name.
    """
    if class_name not in GENERATORS:
        raise ValueError(f"unknown class {class_name!r}; expected one of {', '.join(CLASSES)}")
    ss = np.random.SeedSequence([int(seed), CLASSES.index(class_name)])
    return GENERATORS[class_name](np.random.default_rng(ss)).build(class_name)
