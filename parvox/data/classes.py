"""The 13 ShapeNet classes of the 3D-R2N2 subset.

Synset ids are ShapeNetCore's WordNet offsets, as used by the 3D-R2N2 release
(``ShapeNetRendering/<synset>/...``) and Pix2Vox's ``ShapeNet.json``.
"""

from __future__ import annotations

#: ShapeNet synset id -> short class name (3D-R2N2's 13 classes).
SYNSETS: dict[str, str] = {
    "02691156": "airplane",
    "02828884": "bench",
    "02933112": "cabinet",
    "02958343": "car",
    "03001627": "chair",
    "03211117": "display",
    "03636649": "lamp",
    "03691459": "speaker",
    "04090263": "rifle",
    "04256520": "sofa",
    "04379243": "table",
    "04401088": "telephone",
    "04530566": "watercraft",
}

#: class name -> synset id.
CLASS_TO_SYNSET: dict[str, str] = {name: syn for syn, name in SYNSETS.items()}

#: class names in synset order.
CLASSES: tuple[str, ...] = tuple(SYNSETS.values())


def class_name(synset: str) -> str:
    """Return the class name of ``synset``, or the synset itself for a class outside the 13."""
    return SYNSETS.get(synset, synset)
