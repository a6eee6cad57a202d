"""bench/appearance.py: the grey variants keep shape and shading, the statistics and the paired
table are what they say."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import appearance  # noqa: E402


@pytest.fixture
def render() -> np.ndarray:
    """A 137-pixel RGBA render: an orange box whose shading darkens row by row, on a
    transparent background that carries a colour (it must not count)."""
    rgba = np.zeros((137, 137, 4), np.uint8)
    rgba[..., :3] = (0, 0, 255)
    shade = np.linspace(1.0, 0.5, 30)[:, None, None]
    rgba[50:80, 40:90, :3] = np.round(np.array([200, 100, 50]) * shade).astype(np.uint8)
    rgba[50:80, 40:90, 3] = 255
    return rgba


def _luma(rgba: np.ndarray) -> np.ndarray:
    return rgba[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def test_grey_at_its_own_luma_drops_only_the_colour(render: np.ndarray) -> None:
    out = appearance.grey(None)(render)
    inside = render[..., 3] > 127
    assert np.all(out[..., 0] == out[..., 1]) and np.all(out[..., 1] == out[..., 2])
    assert np.abs(_luma(out)[inside] - _luma(render)[inside]).max() <= 0.6  # rounding
    assert np.array_equal(out[..., 3], render[..., 3])  # the shape is untouched


@pytest.mark.parametrize("luma", [60.0, 150.0, 190.0])
def test_grey_at_a_luma_scales_the_shading_by_one_factor(render: np.ndarray, luma: float) -> None:
    out = appearance.grey(luma)(render)
    inside = render[..., 3] > 127
    assert _luma(out)[inside].mean() == pytest.approx(luma, abs=0.6)
    column = _luma(out)[50:80, 60] / _luma(render)[50:80, 60]
    assert np.allclose(column, column[0], rtol=0.02)  # the same factor for every shade
    assert np.array_equal(out[..., 3], render[..., 3])


def test_object_stats_read_only_the_object(render: np.ndarray) -> None:
    luma, saturation = appearance.object_stats(render)
    inside = render[..., 3] > 127
    assert luma == pytest.approx(_luma(render)[inside].mean() / 255, abs=1e-4)
    assert saturation == pytest.approx(0.75, abs=0.01)  # (200 - 50) / 200 at every shade
    assert appearance.object_stats(np.zeros((8, 8, 4), np.uint8)) is None


def test_variants_start_with_the_render_as_it_is() -> None:
    chosen = appearance.variants([110.0, 150.0])
    assert list(chosen) == ["as rendered", "grey, own luma", "grey, luma 110", "grey, luma 150"]
    assert chosen["as rendered"] is None


def test_the_paired_table_reports_class_means_and_differences() -> None:
    synsets = ["a", "a", "b", "b"]
    ref = {"as rendered": np.array([0.5, 0.7, 0.2, 0.4])}
    cand = {"as rendered": np.array([0.6, 0.9, 0.2, 0.3])}
    scored = (synsets, {"ref": ref, "cand": cand}, [])
    table = appearance.against_table(scored, scored, "ref")
    # class means of cand: a 0.75, b 0.25 -> 0.500; differences a +0.15, b -0.05 -> +0.05;
    # per-class variances of the differences over their counts: a 0.005/2, b 0.005/2, so two
    # standard errors are 2 * sqrt(0.005) / 2 = 0.0707
    assert "| cand | as rendered | 0.500 | +0.0500 ± 0.0707 | 1 / 1 |" in table
    assert appearance.class_mean(synsets, cand["as rendered"]) == pytest.approx(0.5)
