"""Tests of the R2N2 layout, rendering metadata and split files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from paths import SAMPLES  # noqa: E402

from parvox.data.layout import (
    SPLIT_NAMES,
    ModelRef,
    R2N2Layout,
    TaxonomySplit,
    default_splits,
    extend_splits,
    load_splits,
    make_splits,
    read_rendering_metadata,
    save_splits,
    split_models,
)
from parvox.errors import DataError, ParvoxError

SAMPLE_MODELS = [
    ModelRef("02691156", "sample_airplane"),
    ModelRef("02828884", "sample_bench"),
    ModelRef("02958343", "sample_car"),
    ModelRef("03001627", "sample_chair"),
    ModelRef("03636649", "sample_lamp"),
    ModelRef("04090263", "sample_rifle"),
    ModelRef("04530566", "sample_watercraft"),
]
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared R2N2 samples absent")


def link_tree(dest: Path, models: list[ModelRef]) -> Path:
    """A dataset root under ``dest`` whose model folders are symlinks to the shared samples."""
    for ref in models:
        for top in ("ShapeNetRendering", "ShapeNetVox32"):
            link = dest / top / ref.synset / ref.model_id
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(SAMPLES / top / ref.synset / ref.model_id, link)
    return dest


# --------------------------------------------------------------------------- layout


def test_model_ref() -> None:
    ref = ModelRef("02691156", "abc")
    assert ref.key == "02691156/abc" == str(ref)
    assert ref.class_name == "airplane"
    assert ModelRef("99999999", "x").class_name == "99999999"
    assert sorted([ModelRef("b", "a"), ModelRef("a", "z"), ModelRef("a", "b")]) == [
        ModelRef("a", "b"),
        ModelRef("a", "z"),
        ModelRef("b", "a"),
    ]


def test_layout_paths() -> None:
    layout = R2N2Layout("/data")
    ref = ModelRef("02691156", "abc")
    base = Path("/data/ShapeNetRendering/02691156/abc/rendering")
    assert layout.rendering_dir(ref) == base
    assert layout.image_path(ref, 3) == base / "03.png"
    assert layout.image_path(ref, 23) == base / "23.png"
    assert layout.metadata_path(ref) == base / "rendering_metadata.txt"
    assert layout.voxel_path(ref) == Path("/data/ShapeNetVox32/02691156/abc/model.binvox")
    assert layout.splits_path() == Path("/data/ShapeNet.json")


@needs_samples
def test_discover_samples() -> None:
    assert R2N2Layout(SAMPLES).discover() == SAMPLE_MODELS


@needs_samples
def test_discover_skips_models_without_voxels(tmp_path: Path) -> None:
    root = link_tree(tmp_path, SAMPLE_MODELS[:3])
    os.unlink(root / "ShapeNetVox32" / SAMPLE_MODELS[1].key)
    assert R2N2Layout(root).discover() == [SAMPLE_MODELS[0], SAMPLE_MODELS[2]]


def test_discover_without_tree_is_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="ShapeNetRendering"):
        R2N2Layout(tmp_path).discover()


# --------------------------------------------------------------------------- metadata


@needs_samples
@pytest.mark.parametrize("ref", SAMPLE_MODELS, ids=str)
def test_sample_metadata(ref: ModelRef) -> None:
    meta = R2N2Layout(SAMPLES).read_metadata(ref)
    assert meta.shape == (24, 5)
    assert meta.dtype == np.float64
    np.testing.assert_array_equal(meta[:, 4], 25.0)  # fov
    np.testing.assert_array_equal(meta[:, 2], 0.0)  # in-plane rotation
    assert np.all((meta[:, 0] >= 0) & (meta[:, 0] < 360))
    assert np.all((meta[:, 3] > 0) & (meta[:, 3] < 2))


@needs_samples
def test_sample_metadata_first_row() -> None:
    meta = R2N2Layout(SAMPLES).read_metadata(ModelRef("02691156", "sample_airplane"))
    path = SAMPLES / "ShapeNetRendering/02691156/sample_airplane/rendering/rendering_metadata.txt"
    first = [float(w) for w in path.read_text().splitlines()[0].split()]
    np.testing.assert_array_equal(meta[0], first)


def test_metadata_blank_lines_ignored(tmp_path: Path) -> None:
    path = tmp_path / "rendering_metadata.txt"
    path.write_text("\n10 20 0 0.8 25\n   \n30.5 -5 0 0.7 25\n\n")
    np.testing.assert_array_equal(
        read_rendering_metadata(path), [[10, 20, 0, 0.8, 25], [30.5, -5, 0, 0.7, 25]]
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("10 20 0 0.8 25\n\n1 2 x 4 5\n", "line 3: not a number"),
        ("10 20 0 0.8 25\n1 2 3 4\n", "line 2: expected 5 numbers, found 4"),
        ("10 20 0 0.8 25 7\n", "line 1: expected 5 numbers, found 6"),
        ("10 20 0 nan 25\n", "line 1: non-finite"),
        ("\n\n", "no views"),
    ],
)
def test_metadata_errors_name_file_and_line(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "rendering_metadata.txt"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        read_rendering_metadata(path)
    assert str(info.value).startswith(str(path) + ": ")
    assert problem in str(info.value)


def test_metadata_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_rendering_metadata(tmp_path / "rendering_metadata.txt")


# --------------------------------------------------------------------------- splits


def synthetic_models() -> list[ModelRef]:
    return (
        [ModelRef("02691156", f"plane{i:02d}") for i in range(20)]
        + [ModelRef("03001627", f"chair{i}") for i in range(3)]
        + [ModelRef("04090263", "rifle0")]
    )


def test_make_splits_partitions_each_class() -> None:
    models = synthetic_models()
    splits = make_splits(models, seed=0)
    assert [s.taxonomy_id for s in splits] == ["02691156", "03001627", "04090263"]
    assert [s.taxonomy_name for s in splits] == ["airplane", "chair", "rifle"]
    for tax in splits:
        ids = tax.train + tax.val + tax.test
        expected = sorted(m.model_id for m in models if m.synset == tax.taxonomy_id)
        assert sorted(ids) == expected  # a partition: nothing lost, nothing repeated
    plane, chair, rifle = splits
    assert (len(plane.train), len(plane.val), len(plane.test)) == (14, 2, 4)
    assert (len(chair.train), len(chair.val), len(chair.test)) == (1, 1, 1)
    assert (len(rifle.train), len(rifle.val), len(rifle.test)) == (1, 0, 0)


def test_make_splits_deterministic_and_seeded() -> None:
    models = synthetic_models()
    first = make_splits(models, seed=0)
    assert make_splits(list(reversed(models)), seed=0) == first  # input order does not matter
    assert make_splits(models, seed=1)[0].train != first[0].train
    # A class's split does not depend on the other classes.
    planes = [m for m in models if m.synset == "02691156"]
    assert make_splits(planes, seed=0)[0] == first[0]


def test_extend_splits_keeps_every_split_model_where_it_was() -> None:
    small = [m for m in synthetic_models() if m.synset == "02691156"][:10]
    grown = [ModelRef("02691156", f"plane{i:02d}") for i in range(40)] + [
        ModelRef("03001627", f"chair{i}") for i in range(3)]
    before = make_splits(small, seed=0)
    after = extend_splits(before, grown, seed=0)
    where = {(t.taxonomy_id, m): n for t in after for n in SPLIT_NAMES for m in t.ids(n)}
    assert sorted(where) == sorted((m.synset, m.model_id) for m in grown)  # a partition
    for name in SPLIT_NAMES:
        for mid in before[0].ids(name):
            assert where[("02691156", mid)] == name
    # the fresh split of the grown set would have moved some: the guard above is not idle
    fresh = make_splits(grown, seed=0)[0]
    assert any(mid not in fresh.train for mid in before[0].train)
    plane = after[0]
    assert (len(plane.train), len(plane.val), len(plane.test)) == (7 + 21, 1 + 3, 2 + 6)
    assert after[1] == make_splits(grown, seed=0)[1]  # a class new to the file: a fresh split
    assert extend_splits([], grown, seed=0) == make_splits(grown, seed=0)  # a first build
    # models gone from the build are gone from the file; nothing else moves
    assert extend_splits(before, small[:5], seed=0)[0].ids("train") == sorted(
        m for m in before[0].train if m in {r.model_id for r in small[:5]})


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.7, 0.2, 0.2), (1.2, -0.1, -0.1)])
def test_make_splits_bad_fractions(fractions: tuple[float, ...]) -> None:
    with pytest.raises(ParvoxError, match="fractions"):
        make_splits(synthetic_models(), fractions=fractions)


def test_split_file_round_trip(tmp_path: Path) -> None:
    splits = make_splits(synthetic_models(), seed=3)
    path = tmp_path / "ShapeNet.json"
    save_splits(path, splits)
    assert load_splits(path) == splits
    entries = json.loads(path.read_text())
    assert set(entries[0]) == {"taxonomy_id", "taxonomy_name", "train", "val", "test"}


def test_split_models_in_file_order() -> None:
    splits = [
        TaxonomySplit("b", "bee", train=["z", "a"], test=["t"]),
        TaxonomySplit("a", "ay", train=["m"]),
    ]
    assert split_models(splits, "train") == [
        ModelRef("b", "z"),
        ModelRef("b", "a"),
        ModelRef("a", "m"),
    ]
    assert split_models(splits, "val") == []
    with pytest.raises(ParvoxError, match="unknown split"):
        split_models(splits, "validation")


def test_load_splits_ignores_extra_keys(tmp_path: Path) -> None:
    path = tmp_path / "ShapeNet.json"
    entry = {
        "taxonomy_id": "02691156",
        "taxonomy_name": "aeroplane",
        "baseline": {"1-view": 0.513},
        "train": ["a", "b"],
        "val": [],
        "test": ["c"],
    }
    path.write_text(json.dumps([entry]))
    (split,) = load_splits(path)
    assert split == TaxonomySplit("02691156", "aeroplane", ["a", "b"], [], ["c"])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('{"taxonomy_id": "x"}', "JSON list"),
        ("[3]", "entry 0 is not a JSON object"),
        ('[{"train": [], "val": [], "test": []}]', "taxonomy_id"),
        ('[{"taxonomy_id": "x", "train": [], "val": []}]', "'test' must be a list"),
        ('[{"taxonomy_id": "x", "train": [1], "val": [], "test": []}]', "'train' must be"),
        (
            '[{"taxonomy_id": "x", "train": [], "val": [], "test": []},'
            ' {"taxonomy_id": "x", "train": [], "val": [], "test": []}]',
            "twice",
        ),
    ],
)
def test_bad_split_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "splits.json"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        load_splits(path)
    assert "splits.json" in str(info.value)
    assert problem in str(info.value)


# --------------------------------------------------------------------------- default splits


@needs_samples
def test_default_splits_without_file_requires_permission() -> None:
    with pytest.raises(DataError, match=r"ShapeNet\.json: split file not found"):
        default_splits(SAMPLES)


@needs_samples
def test_default_splits_all_in_test() -> None:
    splits = default_splits(SAMPLES, allow_missing=True)
    assert split_models(splits, "test") == SAMPLE_MODELS
    assert split_models(splits, "train") == []
    assert split_models(splits, "val") == []
    assert [s.taxonomy_name for s in splits][:2] == ["airplane", "bench"]


def test_explicit_missing_split_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"mine\.json: split file not found"):
        default_splits(tmp_path, tmp_path / "mine.json", allow_missing=True)


@needs_samples
def test_split_file_in_linked_tree(tmp_path: Path) -> None:
    root = link_tree(tmp_path / "data", SAMPLE_MODELS)
    splits = make_splits(R2N2Layout(root).discover(), seed=0)
    save_splits(root / "ShapeNet.json", splits)
    assert default_splits(root) == splits
    assert sorted(sum((split_models(splits, s) for s in ("train", "val", "test")), [])) == (
        SAMPLE_MODELS
    )


@needs_samples
def test_split_file_naming_missing_models(tmp_path: Path) -> None:
    root = link_tree(tmp_path / "data", SAMPLE_MODELS[:2])
    splits = [
        TaxonomySplit("02691156", "airplane", train=["sample_airplane", "ghost1"], test=[]),
        TaxonomySplit("02828884", "bench", train=["sample_bench"], test=["ghost2"]),
    ]
    path = tmp_path / "split.json"
    save_splits(path, splits)
    with pytest.raises(DataError) as info:
        default_splits(root, path)
    message = str(info.value)
    assert message.startswith(f"{path}: 2 listed models are missing")
    assert "first 02691156/ghost1" in message
    # Checking only the train split finds one missing model.
    with pytest.raises(DataError, match="1 listed model is missing.*first 02691156/ghost1"):
        default_splits(root, path, check_split="train")
    # A split whose models all exist passes.
    assert default_splits(root, path, check_split="val") == splits
