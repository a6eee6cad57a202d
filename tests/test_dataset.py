"""Tests of R2N2Dataset on the shared real samples."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from paths import SAMPLES  # noqa: E402
from PIL import Image
from torch.utils.data import DataLoader

from parvox.data.dataset import R2N2Dataset, collate, load_rgba
from parvox.data.layout import ModelRef, R2N2Layout, TaxonomySplit, save_splits
from parvox.errors import DataError, ParvoxError

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared R2N2 samples absent")
#: Occupied voxel counts of the shared samples (from their README), in discovery order.
COUNTS = [771, 1263, 2294, 1755, 320, 382, 1303]
CROP, BORDER = 127, 5  # centred 127 crop of the 137 renders


def make(**kwargs: object) -> R2N2Dataset:
    options: dict[str, object] = {"split": "test", "allow_missing_splits": True}
    options.update(kwargs)
    return R2N2Dataset(SAMPLES, **options)  # type: ignore[arg-type]


def raw_view(index: int, view: int) -> np.ndarray:
    """The uint8 (137, 137, 4) render ``view`` of sample ``index``."""
    ref = R2N2Layout(SAMPLES).discover()[index]
    return np.asarray(Image.open(R2N2Layout(SAMPLES).image_path(ref, view)).convert("RGBA"))


# --------------------------------------------------------------------------- evaluation mode


def test_test_items_shapes_and_values() -> None:
    data = make(views=3, train=False)
    assert len(data) == 7
    for index, count in enumerate(COUNTS):
        item = data[index]
        assert item["images"].shape == (3, 3, 127, 127)
        assert item["images"].dtype == torch.float32
        assert item["images"].min() >= 0.0 and item["images"].max() <= 1.0
        assert item["voxels"].shape == (32, 32, 32)
        assert item["voxels"].dtype == torch.float32
        assert int(item["voxels"].sum()) == count
        assert set(item["voxels"].unique().tolist()) <= {0.0, 1.0}
        assert item["metadata"].shape == (3, 5)
        assert item["metadata"].dtype == torch.float32
        assert item["view_ids"].dtype == torch.int64
    assert data[0]["taxonomy"] == "02691156"
    assert data[0]["model_id"] == "sample_airplane"
    assert data[-1]["model_id"] == "sample_watercraft"


def test_test_uses_first_views_and_their_metadata() -> None:
    data = make(views=4, train=False)
    item = data[(2, 99)]  # the draw does not matter when evaluating
    assert item["view_ids"].tolist() == [0, 1, 2, 3]
    meta = R2N2Layout(SAMPLES).read_metadata(data.models[2])
    np.testing.assert_allclose(item["metadata"].numpy(), meta[:4].astype(np.float32))
    torch.testing.assert_close(item["images"], data[2]["images"], rtol=0, atol=0)
    assert data[(2, 0, 6)]["view_ids"].tolist() == list(range(6))
    assert make(views=(2, 5), train=False)[0]["view_ids"].tolist() == list(range(5))


def test_test_background_and_centre_crop() -> None:
    data = make(views=2, train=False)
    for view in (0, 1):
        image = data[3]["images"][view].numpy()  # (3, 127, 127)
        raw = raw_view(3, view)[BORDER : BORDER + CROP, BORDER : BORDER + CROP]
        alpha = raw[..., 3]
        clear, opaque = alpha == 0, alpha == 255
        assert clear.any() and opaque.any()
        np.testing.assert_allclose(image[:, clear], 240 / 255, atol=1e-6)
        rgb = raw[..., :3].transpose(2, 0, 1) / 255.0
        np.testing.assert_allclose(image[:, opaque], rgb[:, opaque], atol=1e-6)
        partial = ~clear & ~opaque
        a = alpha[partial] / 255.0
        expected = rgb[:, partial] * a + (240 / 255) * (1 - a)
        np.testing.assert_allclose(image[:, partial], expected, atol=1e-5)


def test_resize_to_image_size() -> None:
    item = make(views=2, train=False, image_size=64)[0]
    assert item["images"].shape == (2, 3, 64, 64)
    assert item["images"].min() >= 0.0 and item["images"].max() <= 1.0
    # Corners are background.
    np.testing.assert_allclose(item["images"][:, :, 0, 0].numpy(), 240 / 255, atol=1e-5)


def test_full_render_without_crop() -> None:
    item = make(views=1, train=False, crop=False, image_size=137)[0]
    raw = raw_view(0, 0)
    opaque = raw[..., 3] == 255
    np.testing.assert_allclose(
        item["images"][0].numpy()[:, opaque], raw[..., :3][opaque].T / 255.0, atol=1e-6
    )


# --------------------------------------------------------------------------- training mode


def find_crop(image: np.ndarray, raw: np.ndarray) -> tuple[int, int, bool]:
    """The (top, left, flipped) placing ``image`` (3, 127, 127) as a window of ``raw``."""
    for flipped in (False, True):
        candidate = image[:, :, ::-1] if flipped else image
        for top in range(11):
            for left in range(11):
                window = raw[top : top + CROP, left : left + CROP]
                opaque = window[..., 3] == 255
                rgb = window[..., :3][opaque].T / 255.0
                if opaque.any() and np.allclose(candidate[:, opaque], rgb, atol=1e-6):
                    return top, left, flipped
    raise AssertionError("image is not a window of the render")


def test_training_crops_are_random_windows() -> None:
    data = make(views=1, train=True)
    offsets = set()
    for draw in range(8):
        item = data[(4, draw)]
        view = int(item["view_ids"][0])
        top, left, flipped = find_crop(item["images"][0].numpy(), raw_view(4, view))
        assert not flipped
        offsets.add((top, left))
    assert len(offsets) > 1


def test_training_backgrounds_within_range() -> None:
    data = make(views=4, train=True, crop=False, image_size=137)
    colours = set()
    for draw in range(3):
        item = data[(1, draw)]
        for image, view in zip(item["images"].numpy(), item["view_ids"].tolist(), strict=True):
            clear = raw_view(1, view)[..., 3] == 0
            background = np.rint(image[:, clear] * 255)
            colour = background[:, 0]
            np.testing.assert_array_equal(background, colour[:, None] * np.ones_like(background))
            assert np.all((colour >= 225) & (colour <= 255))
            colours.add(tuple(colour.tolist()))
    assert len(colours) > 1


def test_flip_happens_sometimes() -> None:
    data = make(views=4, train=True, flip=True)
    flips = []
    for draw in range(3):
        item = data[(6, draw)]
        for image, view in zip(item["images"].numpy(), item["view_ids"].tolist(), strict=True):
            flips.append(find_crop(image, raw_view(6, view))[2])
    assert any(flips) and not all(flips)


def test_training_views_distinct_and_random() -> None:
    data = make(views=5, train=True)
    chosen = []
    for draw in range(4):
        ids = data[(0, draw)]["view_ids"].tolist()
        assert len(set(ids)) == 5
        assert all(0 <= v < 24 for v in ids)
        chosen.append(tuple(ids))
    assert len(set(chosen)) > 1
    meta = R2N2Layout(SAMPLES).read_metadata(data.models[0])
    item = data[(0, 0)]
    np.testing.assert_allclose(
        item["metadata"].numpy(), meta[item["view_ids"].numpy()].astype(np.float32)
    )


def assert_items_equal(a: dict[str, object], b: dict[str, object]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], torch.Tensor):
            assert torch.equal(a[key], b[key]), key  # type: ignore[arg-type]
        else:
            assert a[key] == b[key]


def test_determinism_by_key() -> None:
    first = make(views=3, train=True, flip=True, seed=7)
    second = make(views=3, train=True, flip=True, seed=7)
    second.set_epoch(4)  # state of the instance must not matter for explicit keys
    assert_items_equal(first[(5, 11)], second[(5, 11)])
    assert not torch.equal(first[(5, 11)]["images"], first[(5, 12)]["images"])
    assert not torch.equal(first[(5, 11)]["images"], make(views=3, seed=8)[(5, 11)]["images"])
    # Integer keys use the epoch as the draw.
    first.set_epoch(3)
    assert_items_equal(first[5], second[(5, 3)])
    assert first.epoch == 3
    # The same draw on different indices is not the same randomness.
    assert first[(0, 1)]["view_ids"].tolist() != first[(1, 1)]["view_ids"].tolist()


def test_view_count_range_same_for_a_draw() -> None:
    data = make(views=(2, 5), train=True)
    counts = set()
    for draw in range(12):
        k = data.views_for_draw(draw)
        counts.add(k)
        assert {data[(i, draw)]["images"].shape[0] for i in range(3)} == {k}
    assert counts <= {2, 3, 4, 5} and len(counts) > 1
    assert data[(0, 0, 4)]["images"].shape[0] == 4  # explicit k wins
    k = data.views_for_draw(5)
    assert data.batch_keys([3, 1], draw=5) == [(3, 5, k), (1, 5, k)]


def test_dataloader_with_batch_keys() -> None:
    data = make(views=(1, 3), train=True, image_size=32)
    batches = [data.batch_keys([0, 1, 2], draw=d) for d in range(2)]
    loader = DataLoader(data, batch_sampler=batches, collate_fn=collate, num_workers=0)
    for batch, keys in zip(loader, batches, strict=True):
        k = keys[0][2]
        assert batch["images"].shape == (3, k, 3, 32, 32)
        assert batch["voxels"].shape == (3, 32, 32, 32)
        assert batch["metadata"].shape == (3, k, 5)
        assert batch["view_ids"].shape == (3, k)
        assert batch["taxonomy"] == ["02691156", "02828884", "02958343"]
        assert batch["model_id"][0] == "sample_airplane"


# --------------------------------------------------------------------------- collate and errors


def test_collate_requires_equal_view_counts() -> None:
    data = make(views=2, train=False)
    with pytest.raises(ValueError, match="same view count"):
        collate([data[0], data[(1, 0, 3)]])
    with pytest.raises(ValueError, match="empty"):
        collate([])


@pytest.mark.parametrize(
    "kwargs",
    [{"split": "validation"}, {"views": 0}, {"views": (3, 2)}, {"image_size": 0}, {"seed": -1}],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ParvoxError):
        make(**kwargs)


def test_missing_split_file_and_empty_split() -> None:
    with pytest.raises(DataError, match=r"ShapeNet\.json: split file not found"):
        R2N2Dataset(SAMPLES, "test")
    with pytest.raises(DataError, match="split 'train' is empty"):
        make(split="train")


def test_too_many_views() -> None:
    with pytest.raises(DataError, match="rendering_metadata.txt: lists 24 views, 25 requested"):
        make(views=25, train=False)[0]


def test_index_out_of_range() -> None:
    with pytest.raises(IndexError):
        make()[7]


def copied_root(tmp_path: Path) -> tuple[Path, ModelRef]:
    """A one-model dataset root with a real copy of the chair, and a split file."""
    ref = ModelRef("03001627", "sample_chair")
    for top in ("ShapeNetRendering", "ShapeNetVox32"):
        shutil.copytree(SAMPLES / top / ref.key, tmp_path / top / ref.key)
    for path in tmp_path.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    save_splits(
        tmp_path / "ShapeNet.json", [TaxonomySplit(ref.synset, "chair", test=[ref.model_id])]
    )
    return tmp_path, ref


def test_missing_and_corrupt_png(tmp_path: Path) -> None:
    root, ref = copied_root(tmp_path)
    data = R2N2Dataset(root, "test", views=2, train=False)
    assert int(data[0]["voxels"].sum()) == 1755  # read via the split file
    image = R2N2Layout(root).image_path(ref, 1)
    image.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(DataError, match=r"01\.png: cannot decode image"):
        data[0]
    image.unlink()
    with pytest.raises(DataError, match=r"01\.png: image file not found"):
        data[0]


def test_missing_voxels_named(tmp_path: Path) -> None:
    root, ref = copied_root(tmp_path)
    data = R2N2Dataset(root, "test", views=1, train=False)
    R2N2Layout(root).voxel_path(ref).write_bytes(b"#binvox 1\ndim 32 32 32\n")
    with pytest.raises(DataError, match=r"model\.binvox: "):
        data[0]


@pytest.mark.parametrize("mode", ["P", "L", "LA", "RGB", "RGBA", "I;16"])
def test_load_rgba_modes(tmp_path: Path, mode: str) -> None:
    rgba = np.zeros((6, 5, 4), dtype=np.uint8)
    rgba[..., :3] = 200
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 0
    source = Image.fromarray(rgba)
    if mode == "I;16":
        image = Image.fromarray(np.full((6, 5), 200 * 257, dtype=np.uint16))
    elif mode == "P":
        rgba[0, 0] = (255, 0, 0, 255)
        image = Image.fromarray(rgba[..., :3]).convert("P", palette=Image.Palette.ADAPTIVE)
        image.info["transparency"] = image.getpixel((1, 1))  # the grey entry is clear
    else:
        image = source.convert(mode)
    path = tmp_path / "view.png"
    image.save(path)
    out = load_rgba(path)
    assert out.shape == (6, 5, 4) and out.dtype == np.uint8
    assert np.all(out[1, 1, :3] == 200)
    if mode in ("LA", "RGBA"):
        assert out[0, 0, 3] == 0 and out[1, 1, 3] == 255
    elif mode == "P":
        assert out[1, 1, 3] == 0 and out[0, 0].tolist() == [255, 0, 0, 255]
    else:
        assert np.all(out[..., 3] == 255)
