"""bench/photo_choices.py: the object's own framing, its clipping, the photographed composites,
the candidate masks and the tables' paired statistics."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import photo_choices as fc  # noqa: E402


def _box(alpha: np.ndarray) -> tuple[int, float, float]:
    """(long side, centre row, centre column) of alpha >= 128, in pixels."""
    rows, cols = np.nonzero(alpha >= 128)
    long_side = max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    return long_side, (rows.min() + rows.max() + 1) / 2, (cols.min() + cols.max() + 1) / 2


def test_own_framing_is_measured_in_the_letterboxing_square() -> None:
    mask = np.zeros((100, 60), bool)  # portrait: the square is 100 wide, the picture 20 in
    mask[20:60, 10:30] = True
    extent, (row, col) = fc.own_framing(mask)
    assert extent == pytest.approx(0.4)
    assert (row, col) == pytest.approx((0.4, 0.4))  # without the 20-pixel margin: 0.2


@pytest.mark.parametrize(("side", "expected"), [(20, fc.EXTENT_RANGE[0]), (80, 0.8),
                                                (99, fc.EXTENT_RANGE[1])])
def test_fitted_framing_clips_the_size_into_the_renders_range(side: int,
                                                              expected: float) -> None:
    mask = np.zeros((100, 100), bool)
    top = 50 - side // 2
    mask[top:top + side, 50 - side // 2:50 - side // 2 + side] = True
    assert fc.fitted_framing(mask)["extent"] == pytest.approx(expected)


def test_fitted_framing_moves_an_object_off_to_one_side_only_to_the_range_edge() -> None:
    mask = np.zeros((100, 100), bool)
    mask[45:55, 0:10] = True  # far left, centred vertically
    row, col = fc.fitted_framing(mask)["centre"]
    assert col == pytest.approx(fc.CENTRE_RANGE[1][0])
    assert row == pytest.approx(0.5)


def test_the_fitted_frame_keeps_an_object_framed_like_a_render() -> None:
    rgb = np.full((137, 137, 3), 90, np.uint8)
    mask = np.zeros((137, 137), bool)
    mask[40:110, 45:95] = True  # long side 70/137 = 0.51, centre (75, 70): in range
    assert _box(fc.framed(rgb, mask, "fitted")[..., 3]) == pytest.approx(_box(mask * 255),
                                                                          abs=1)
    median = _box(fc.framed(rgb, mask, "median")[..., 3])
    assert median[0] == pytest.approx(0.64 * 137, abs=1)


def test_photographed_composites_size_and_place_the_object_as_said() -> None:
    render = np.zeros((137, 137, 4), np.uint8)
    render[60:80, 30:100] = (250, 10, 10, 255)
    background = np.full((fc.CANVAS, fc.CANVAS, 3), 7, np.uint8)
    for seed in range(5):
        rgb, alpha = fc.photographed(render, background, np.random.default_rng(seed))
        side, row, col = _box(alpha * 255)
        assert fc.PHOTO_EXTENT[0] * fc.CANVAS - 1 <= side <= fc.PHOTO_EXTENT[1] * fc.CANVAS + 1
        low, high = (f * fc.CANVAS for f in fc.PHOTO_CENTRE)
        assert low - 1 <= row <= high + 1 and low - 1 <= col <= high + 1
        assert (rgb[~alpha] == 7).all()
        assert (rgb[alpha][:, 0] > 128).all()


def test_the_framing_table_pairs_fitted_against_median_per_class() -> None:
    synsets = ["a"] * 3 + ["b"] * 3
    median = np.array([0.5, 0.6, 0.7, 0.2, 0.3, 0.4])
    fitted = median + np.array([0.1, 0.1, 0.1, -0.1, -0.1, -0.1]) / 2
    per = {"clean": np.full(6, 0.9), fc.SHIPPED: median, f"{fc.SHIPPED}: fitted": fitted,
           "true mask": median, "true mask: fitted": median}
    text, report = fc.framing_table(synsets, {"as rendered": per})
    row = report[f"as rendered, {fc.SHIPPED}"]
    assert (row["clean"], row["median"]) == pytest.approx((0.9, 0.45))
    assert row["diff"] == pytest.approx(0.0)  # +0.05 in one class, -0.05 in the other
    assert (row["up"], row["down"]) == (1, 1)
    assert report["as rendered, true mask"]["diff"] == 0.0
    assert f"| as rendered | {fc.SHIPPED} | 0.900 | 0.450 | 0.450 | +0.0000" in text


def test_the_mask_table_compares_every_mask_with_the_shipped_one() -> None:
    synsets = ["a", "a", "b", "b"]
    shipped = np.array([0.5, 0.7, 0.2, 0.4])
    per = {"clean": np.full(4, 0.8), fc.SHIPPED: shipped, f"{fc.SHIPPED}: mask": np.full(4, 0.9),
           "GrabCut alone": shipped - [0.1, 0.1, 0.0, 0.0],
           "GrabCut alone: mask": np.full(4, 0.95)}
    text, report = fc.mask_table(synsets, {"as photographed": per})
    alone = report["as photographed, GrabCut alone"]
    assert alone["diff"] == pytest.approx(-0.05)  # (-0.1 + 0.0) / 2 classes
    assert alone["mask_iou"] == pytest.approx(0.95)
    assert (alone["up"], alone["down"]) == (0, 1)
    assert report[f"as photographed, {fc.SHIPPED}"]["diff"] == 0.0
    assert "| as photographed | GrabCut alone | 0.950 | 0.800 | 0.400 | -0.0500" in text


def test_candidate_masks_name_the_shipped_one_and_give_grabcut_alone(monkeypatch) -> None:
    found = np.zeros((50, 50), bool)
    found[10:30, 10:30] = True
    prob = np.zeros((50, 50), np.float32)
    prob[30:40, 12:16] = 0.95
    monkeypatch.setattr(fc, "network_grabcut", lambda rgb: (found, prob))
    truth = np.zeros((50, 50), bool)
    masks = fc.candidate_masks(np.zeros((50, 50, 3), np.uint8), truth)
    assert masks[fc.SHIPPED][30:40, 12:16].all() and masks[fc.SHIPPED].sum() == 440
    assert np.array_equal(masks["GrabCut alone"], found)
    assert masks["true mask"] is truth
    monkeypatch.setattr(fc, "network_grabcut", lambda rgb: None)
    assert fc.candidate_masks(np.zeros((50, 50, 3), np.uint8), truth)[fc.SHIPPED] is None


def test_framing_ranges_read_the_training_renders(tmp_path: Path) -> None:
    import json

    from PIL import Image

    rgba = np.zeros((137, 137, 4), np.uint8)
    rgba[30:100, 50:85] = (9, 9, 9, 255)  # long side 70, centre (65, 67.5)
    splits = []
    for synset in ("02691156", "03001627"):
        splits.append({"taxonomy_id": synset, "taxonomy_name": synset, "train": ["a", "b"],
                       "val": ["c"], "test": []})
        for model in ("a", "b", "c"):
            folder = tmp_path / "ShapeNetRendering" / synset / model / "rendering"
            folder.mkdir(parents=True)
            for view in range(24):
                # the validation model is framed otherwise: it must not count
                image = rgba if model != "c" else np.roll(rgba, 20, axis=0)
                Image.fromarray(image).save(folder / f"{view:02d}.png")
    (tmp_path / "ShapeNet.json").write_text(json.dumps(splits))
    rows = fc.framing_ranges(str(tmp_path), per_class=2, seed=0)
    assert [row[0] for row in rows] == ["long side", "centre row", "centre column"]
    for row, expected in zip(rows, (70 / 137, 65 / 137, 67.5 / 137), strict=True):
        assert float(row[1]) == float(row[2]) == pytest.approx(expected, abs=1e-3)
    assert rows[0][3] == f"{fc.EXTENT_RANGE[0]}-{fc.EXTENT_RANGE[1]}"


def test_room_masks_list_every_choice_and_the_shipped_ones_keep_the_room_photo() -> None:
    rows = {row[0]: [float(v) for v in row[1:]] for row in fc.room_masks(range(1))}
    assert list(rows) == ["GrabCut alone", *(f"GrabCut + network ≥ {k}" for k in fc.KEEPS),
                          *(fc.side_name(side, flip) for side, flip in fc.SIDES)]
    assert rows[f"GrabCut + network ≥ {fc.NETWORK_KEEP}"][0] > 0.9
    assert rows[fc.side_name(fc.INFERENCE_SIDE, fc.INFERENCE_FLIP)][0] > 0.9  # the shipped side
    # With the network at 128 the levels below 0.9 brought the false floor tiles back (0.51 at
    # 0.3); at 160 they do not, so only the shipped choices are held to the photo.


class _Red(torch.nn.Module):
    """A stand-in mask network that sees red (logit +4 on red, -4 elsewhere) and records the
    sides it ran at."""

    def __init__(self) -> None:
        super().__init__()
        self.sides: list[int] = []

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        self.sides.append(rgb.shape[-1])
        return rgb[:, :1] * (8 / 255) - 4


def test_another_network_runs_at_each_of_its_sides_on_the_shared_photos(tmp_path: Path) -> None:
    from PIL import Image

    rgba = np.zeros((120, 160, 4), np.uint8)
    rgba[..., :3] = (40, 90, 40)  # a green wall, kept by the alpha's zero
    rgba[30:90, 40:100] = (230, 20, 20, 255)  # the object: red, opaque
    rgba[..., 3][30:90, 40:100] = 255
    Image.fromarray(rgba).save(tmp_path / "red.png")
    red = _Red()
    other = fc.Other("network red", red, (48, 96))
    header, rows = fc.photo_masks(tmp_path, sides=False, other=other)
    assert header == ["shared photo, alpha ignored", "red"]
    names = [row[0] for row in rows]
    assert names == [fc.side_name(fc.INFERENCE_SIDE, fc.INFERENCE_FLIP),
                     "network red at 48", "network red at 96"]
    assert red.sides == [48, 96]  # its own network, at its sides, one pass each
    assert float(rows[1][1]) > 0.9 and float(rows[2][1]) > 0.9
    with pytest.raises(fc.ParvoxError, match="no .png photos"):
        fc.photo_masks(tmp_path / "none", sides=False, other=None)


def test_other_choices_feed_the_room_table_and_the_composite_scores(monkeypatch) -> None:
    red = _Red()
    other = fc.Other("network red", red, (64,))
    assert fc.other_choices(None) == {}
    assert fc.other_choices(other) == {"network red at 64": {"model": red, "side": 64,
                                                             "flip": False}}
    rows = fc.room_masks(range(1), other=other)
    assert rows[-1][0] == "network red at 64" and red.sides == [64]
    seen = []
    monkeypatch.setattr(fc, "_network_mask", lambda rgb, **kw: seen.append(kw) or None)
    monkeypatch.setattr(fc, "segment", lambda rgb: None)
    truth = np.zeros((50, 50), bool)
    from types import SimpleNamespace

    model = SimpleNamespace(config=SimpleNamespace(image_size=64))  # never run: no mask
    out = fc.scores(model, np.zeros((50, 50, 3), np.uint8), truth, None, masks=False,
                    framing=False, other=other)
    assert seen == [{"model": red, "side": 64, "flip": False}]
    assert out["network red at 64"] == 0.0 and out["network red at 64: mask"] == 0.0


def test_masknet_sides_and_nothing_to_measure_are_usage_errors() -> None:
    import subprocess

    script = [sys.executable, str(Path(fc.__file__)), "--data", "x"]
    for flags, message in (([], "nothing to measure"),
                           (["--photos", "--masknet-sides", "100"], "--masknet-sides must"),
                           (["--photos", "--masknet-sides", "a"], "--masknet-sides must")):
        done = subprocess.run([*script, *flags], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and message in done.stderr
        assert "Traceback" not in done.stderr
