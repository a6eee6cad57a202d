"""The 3D-R2N2 file layout, its rendering metadata, and Pix2Vox-style split files.

Layout (as 3D-R2N2 distributed ShapeNet)::

    <root>/ShapeNetRendering/<synset>/<model_id>/rendering/00.png .. 23.png
    <root>/ShapeNetRendering/<synset>/<model_id>/rendering/rendering_metadata.txt
    <root>/ShapeNetVox32/<synset>/<model_id>/model.binvox
    <root>/ShapeNet.json                      (optional split file, Pix2Vox's format)

The split file is a JSON list with one entry per class::

    [{"taxonomy_id": "02691156", "taxonomy_name": "airplane",
      "train": ["<id>", ...], "val": [...], "test": [...]}, ...]

Extra keys (Pix2Vox's files carry e.g. ``"baseline"``) are ignored on reading.
"""

from __future__ import annotations

import json
import math
import os
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from parvox.data.classes import class_name
from parvox.errors import DataError, ParvoxError
from parvox.files import write_json

#: Folder of the 137x137 RGBA renders (3D-R2N2 release).
RENDERING_DIR = "ShapeNetRendering"
#: Folder of the 32^3 binvox ground truth (3D-R2N2 release).
VOXEL_DIR = "ShapeNetVox32"
#: Per-model voxel file name in ``ShapeNetVox32``.
VOXEL_FILE = "model.binvox"
#: Per-view camera file in each ``rendering`` folder: one line per view.
METADATA_FILE = "rendering_metadata.txt"
#: Default split file name at the dataset root (Pix2Vox's ``ShapeNet.json``).
SPLITS_FILE = "ShapeNet.json"
#: Columns of ``rendering_metadata.txt``: azimuth (deg), elevation (deg), in-plane rotation
#: (deg, always 0 in R2N2), camera distance ratio, field of view (deg, always 25 in R2N2).
METADATA_COLUMNS = ("azimuth", "elevation", "inplane_rotation", "distance_ratio", "fov")
#: The three split names of a split file.
SPLIT_NAMES = ("train", "val", "test")
#: Default train/val/test fractions for :func:`make_splits` (Pix2Vox's ShapeNet.json is ~70/10/20).
DEFAULT_FRACTIONS = (0.7, 0.1, 0.2)


@dataclass(frozen=True, order=True)
class ModelRef:
    """One ShapeNet model: its class synset and model id (sorts by synset, then id)."""

    synset: str
    model_id: str

    @property
    def class_name(self) -> str:
        """Short class name (``"airplane"``), or the synset for a class outside the 13."""
        return class_name(self.synset)

    @property
    def key(self) -> str:
        """``"<synset>/<model_id>"``, the model's relative folder in both data trees."""
        return f"{self.synset}/{self.model_id}"

    def __str__(self) -> str:
        return self.key


class R2N2Layout:
    """Paths of the 3D-R2N2 dataset tree under ``root``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"R2N2Layout({str(self.root)!r})"

    def rendering_dir(self, ref: ModelRef) -> Path:
        """``root/ShapeNetRendering/<synset>/<id>/rendering``."""
        return self.root / RENDERING_DIR / ref.synset / ref.model_id / "rendering"

    def image_path(self, ref: ModelRef, view: int) -> Path:
        """``.../rendering/{view:02d}.png``."""
        return self.rendering_dir(ref) / f"{view:02d}.png"

    def metadata_path(self, ref: ModelRef) -> Path:
        """``.../rendering/rendering_metadata.txt``."""
        return self.rendering_dir(ref) / METADATA_FILE

    def voxel_path(self, ref: ModelRef) -> Path:
        """``root/ShapeNetVox32/<synset>/<id>/model.binvox``."""
        return self.root / VOXEL_DIR / ref.synset / ref.model_id / VOXEL_FILE

    def splits_path(self) -> Path:
        """``root/ShapeNet.json``, the default split file."""
        return self.root / SPLITS_FILE

    def has_model(self, ref: ModelRef) -> bool:
        """Whether both the rendering folder and the voxel file of ``ref`` exist."""
        return self.rendering_dir(ref).is_dir() and self.voxel_path(ref).is_file()

    def discover(self) -> list[ModelRef]:
        """All models with a rendering folder and a voxel file, sorted by (synset, id)."""
        renders = self.root / RENDERING_DIR
        if not renders.is_dir():
            raise DataError(renders, "dataset folder not found (expected the R2N2 layout)")
        refs = [
            ModelRef(synset_dir.name, model_dir.name)
            for synset_dir in renders.iterdir()
            if synset_dir.is_dir()
            for model_dir in synset_dir.iterdir()
        ]
        return sorted(ref for ref in refs if self.has_model(ref))

    def read_metadata(self, ref: ModelRef) -> np.ndarray:
        """The camera rows of ``ref``: float64 ``(V, 5)``, see :func:`read_rendering_metadata`."""
        return read_rendering_metadata(self.metadata_path(ref))


# --------------------------------------------------------------------------- metadata


def read_rendering_metadata(path: str | os.PathLike[str]) -> np.ndarray:
    """Parse ``rendering_metadata.txt``.

    Returns:
        float64 array ``(V, 5)``, one row per view: azimuth (deg), elevation (deg), in-plane
        rotation (deg), distance ratio, field of view (deg). Blank lines are ignored.

    Raises:
        DataError: naming the file (and the line number) for a missing file, a non-number, a
            wrong column count, or a file without any view.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(path, "rendering metadata file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot read rendering metadata: {exc}") from None
    rows = [
        _parse_metadata_line(line, number, path)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    if not rows:
        raise DataError(path, "rendering metadata file lists no views")
    return np.array(rows, dtype=np.float64)


def _parse_metadata_line(line: str, number: int, path: str | os.PathLike[str]) -> list[float]:
    """Parse one metadata line into 5 finite floats."""
    words = line.split()
    if len(words) != len(METADATA_COLUMNS):
        raise DataError(path, f"line {number}: expected 5 numbers, found {len(words)}")
    try:
        values = [float(word) for word in words]
    except ValueError:
        raise DataError(path, f"line {number}: not a number in {line.strip()!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise DataError(path, f"line {number}: non-finite number in {line.strip()!r}")
    return values


# --------------------------------------------------------------------------- splits


@dataclass
class TaxonomySplit:
    """One class's entry of a split file: model ids per split."""

    taxonomy_id: str
    taxonomy_name: str
    train: list[str] = field(default_factory=list)
    val: list[str] = field(default_factory=list)
    test: list[str] = field(default_factory=list)

    def ids(self, split: str) -> list[str]:
        """The model ids of ``split`` (``"train"``, ``"val"`` or ``"test"``)."""
        _check_split_name(split)
        return list(getattr(self, split))

    def to_json(self) -> dict[str, object]:
        """The Pix2Vox ``ShapeNet.json`` entry of this class."""
        return {
            "taxonomy_id": self.taxonomy_id,
            "taxonomy_name": self.taxonomy_name,
            "train": list(self.train),
            "val": list(self.val),
            "test": list(self.test),
        }


def _check_split_name(split: str) -> None:
    if split not in SPLIT_NAMES:
        raise ParvoxError(f"unknown split {split!r}; expected one of {', '.join(SPLIT_NAMES)}")


def load_splits(path: str | os.PathLike[str]) -> list[TaxonomySplit]:
    """Read a Pix2Vox ``ShapeNet.json`` split file; any problem raises DataError naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(path, "split file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot read split file: {exc}") from None
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            path, f"split file is not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    if not isinstance(entries, list):
        raise DataError(path, "split file must hold a JSON list of class entries")
    splits = [_parse_entry(entry, number, path) for number, entry in enumerate(entries)]
    seen: set[str] = set()
    for split in splits:
        if split.taxonomy_id in seen:
            raise DataError(path, f"split file lists taxonomy {split.taxonomy_id} twice")
        seen.add(split.taxonomy_id)
    return splits


def _parse_entry(entry: object, number: int, path: str | os.PathLike[str]) -> TaxonomySplit:
    """Validate one class entry of a split file."""
    where = f"entry {number}"
    if not isinstance(entry, dict):
        raise DataError(path, f"{where} is not a JSON object")
    synset = entry.get("taxonomy_id")
    if not isinstance(synset, str) or not synset:
        raise DataError(path, f"{where} lacks a string 'taxonomy_id'")
    where = f"entry {number} ({synset})"
    name = entry.get("taxonomy_name", class_name(synset))
    if not isinstance(name, str):
        raise DataError(path, f"{where}: 'taxonomy_name' is not a string")
    lists: dict[str, list[str]] = {}
    for split in SPLIT_NAMES:
        ids = entry.get(split)
        if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
            raise DataError(path, f"{where}: '{split}' must be a list of model id strings")
        lists[split] = ids
    return TaxonomySplit(synset, name, **lists)


def save_splits(path: str | os.PathLike[str], splits: Iterable[TaxonomySplit]) -> None:
    """Write ``splits`` as a Pix2Vox ``ShapeNet.json`` (indented JSON, one entry per class),
    atomically."""
    write_json(path, [split.to_json() for split in splits], indent=2)


def split_models(splits: Iterable[TaxonomySplit], split: str) -> list[ModelRef]:
    """The models of ``split``, in file order (class by class, ids as listed)."""
    _check_split_name(split)
    return [ModelRef(tax.taxonomy_id, mid) for tax in splits for mid in tax.ids(split)]


def make_splits(
    models: Iterable[ModelRef],
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> list[TaxonomySplit]:
    """Split ``models`` class by class into train/val/test, deterministically.

    Each class's ids are sorted, then shuffled by a generator seeded from ``(seed, synset)``, so
    a class's split does not depend on the other classes. A class with at least 3 models gets at
    least one model in every split. Ids are listed sorted within each split; classes by synset.
    """
    fracs = _check_fractions(fractions)
    by_class: dict[str, list[str]] = {}
    for ref in models:
        by_class.setdefault(ref.synset, []).append(ref.model_id)
    result = []
    for synset in sorted(by_class):
        ids = sorted(set(by_class[synset]))
        entropy = [seed, zlib.crc32(synset.encode("utf-8"))]
        order = np.random.default_rng(np.random.SeedSequence(entropy)).permutation(len(ids))
        shuffled = [ids[i] for i in order]
        n_train, n_val, _ = _split_counts(len(ids), fracs)
        parts = (
            shuffled[:n_train],
            shuffled[n_train : n_train + n_val],
            shuffled[n_train + n_val :],
        )
        result.append(TaxonomySplit(synset, class_name(synset), *(sorted(p) for p in parts)))
    return result


def extend_splits(
    previous: Sequence[TaxonomySplit],
    models: Iterable[ModelRef],
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> list[TaxonomySplit]:
    """Split ``models`` so that those already in ``previous`` keep their split.

    A dataset that grows (a build of more models per class into the same folder) must not move
    a model a run trained on into the new test split, as splitting the larger set afresh would.
    The models new to the file are split among themselves by :func:`make_splits`. Models of
    ``previous`` that are not in ``models`` are left out, as a fresh split would leave them.
    With no ``previous`` this is :func:`make_splits`.
    """
    kept: dict[tuple[str, str], str] = {
        (tax.taxonomy_id, mid): name
        for tax in previous for name in SPLIT_NAMES for mid in tax.ids(name)
    }
    parts: dict[str, dict[str, set[str]]] = {}
    new = []
    for ref in models:
        name = kept.get((ref.synset, ref.model_id))
        if name is None:
            new.append(ref)
        else:
            parts.setdefault(ref.synset, {n: set() for n in SPLIT_NAMES})[name].add(ref.model_id)
    for tax in make_splits(new, fractions, seed):
        lists = parts.setdefault(tax.taxonomy_id, {n: set() for n in SPLIT_NAMES})
        for name in SPLIT_NAMES:
            lists[name].update(tax.ids(name))
    return [TaxonomySplit(synset, class_name(synset),
                          *(sorted(parts[synset][n]) for n in SPLIT_NAMES))
            for synset in sorted(parts)]


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    """Validate three non-negative fractions summing to 1."""
    if len(fractions) != 3 or any(not (f >= 0) for f in fractions):
        raise ParvoxError(f"split fractions must be 3 non-negative numbers, got {fractions!r}")
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ParvoxError(f"split fractions must sum to 1, got {fractions!r}")
    return (float(fractions[0]), float(fractions[1]), float(fractions[2]))


def _split_counts(n: int, fracs: tuple[float, float, float]) -> tuple[int, int, int]:
    """Model counts (train, val, test) for a class of ``n``; each >= 1 when ``n >= 3``."""
    n_val, n_test = round(n * fracs[1]), round(n * fracs[2])
    counts = [n - n_val - n_test, n_val, n_test]
    if n >= 3:
        for i in range(3):
            while counts[i] < 1:
                counts[int(np.argmax(counts))] -= 1
                counts[i] += 1
    return counts[0], counts[1], counts[2]


def check_splits(
    layout: R2N2Layout,
    splits: Iterable[TaxonomySplit],
    path: str | os.PathLike[str],
    split: str | None = None,
) -> None:
    """Raise DataError naming ``path`` if a model of ``split`` (all splits if None) is missing.

    The message names the first missing model and how many are missing.
    """
    names = SPLIT_NAMES if split is None else (split,)
    splits = list(splits)
    missing = [
        ref for name in names for ref in split_models(splits, name) if not layout.has_model(ref)
    ]
    if missing:
        first = missing[0]
        what = "model is" if len(missing) == 1 else "models are"
        raise DataError(
            path,
            f"{len(missing)} listed {what} missing under {layout.root}, first {first} "
            f"(need {layout.rendering_dir(first)} and {layout.voxel_path(first)})",
        )


def default_splits(
    root: str | os.PathLike[str],
    splits_file: str | os.PathLike[str] | None = None,
    *,
    allow_missing: bool = False,
    check_split: str | None = None,
) -> list[TaxonomySplit]:
    """The splits of the dataset at ``root``.

    Uses ``splits_file`` if given, else ``root/ShapeNet.json``; the models of ``check_split``
    (every split if None) must exist on disk. Without a split file, raises DataError unless
    ``allow_missing`` is set, in which case every discovered model is in ``"test"`` (and
    ``"train"``/``"val"`` are empty), so the real samples can be evaluated without a split file.
    """
    layout = R2N2Layout(root)
    path = Path(splits_file) if splits_file is not None else layout.splits_path()
    if splits_file is not None or path.is_file() or not allow_missing:
        if not path.is_file():
            hint = "" if splits_file is not None else " (allow missing splits to test every model)"
            raise DataError(path, f"split file not found{hint}")
        splits = load_splits(path)
        check_splits(layout, splits, path, check_split)
        return splits
    models = layout.discover()
    if not models:
        raise DataError(layout.root, "no models found (need rendering folders and voxel files)")
    return _all_in_test(models)


def _all_in_test(models: Sequence[ModelRef]) -> list[TaxonomySplit]:
    """One entry per class with every model in ``"test"``."""
    by_class: dict[str, list[str]] = {}
    for ref in models:
        by_class.setdefault(ref.synset, []).append(ref.model_id)
    return [
        TaxonomySplit(synset, class_name(synset), test=sorted(ids))
        for synset, ids in sorted(by_class.items())
    ]
