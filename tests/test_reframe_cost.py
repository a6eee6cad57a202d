"""bench/reframe_cost.py: each variant re-frames a render as it says, and scores stay per view."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import reframe_cost  # noqa: E402

from parvox.data.framing import FRAME_CENTRE  # noqa: E402


def _box(alpha: np.ndarray) -> tuple[float, float, float]:
    """(long side, centre row, centre column) of alpha >= 128, in pixels."""
    rows, cols = np.nonzero(alpha >= 128)
    long_side = max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    return long_side, (rows.min() + rows.max() + 1) / 2, (cols.min() + cols.max() + 1) / 2


@pytest.fixture
def render() -> np.ndarray:
    """A 137-pixel RGBA render: a 30 x 50 box off-centre (rows 50-79, columns 40-89)."""
    rgba = np.zeros((137, 137, 4), np.uint8)
    rgba[50:80, 40:90] = (200, 100, 50, 255)
    return rgba


def test_in_place_keeps_the_object_where_and_as_large_as_it_was(render: np.ndarray) -> None:
    out = reframe_cost.variant(None, None)(render)
    assert _box(out[..., 3]) == _box(render[..., 3]) == (50, 65.0, 65.0)


def test_moved_keeps_the_size_and_takes_the_median_position(render: np.ndarray) -> None:
    side, row, col = _box(reframe_cost.variant(None, FRAME_CENTRE)(render)[..., 3])
    assert side == 50
    assert row == pytest.approx(FRAME_CENTRE[0] * 137, abs=1)
    assert col == pytest.approx(FRAME_CENTRE[1] * 137, abs=1)


def test_scaled_keeps_the_position_and_takes_the_extent(render: np.ndarray) -> None:
    side, row, col = _box(reframe_cost.variant(0.7, None)(render)[..., 3])
    assert side == pytest.approx(0.7 * 137, abs=1)
    assert (row, col) == pytest.approx((65.0, 65.0), abs=1)


def test_an_empty_render_comes_back_as_it_was() -> None:
    empty = np.zeros((137, 137, 4), np.uint8)
    assert reframe_cost.variant(0.64, FRAME_CENTRE)(empty) is empty


def test_the_variants_start_with_the_render_as_it_is() -> None:
    names = list(reframe_cost.variants([0.7]))
    assert names[0] == "as rendered" and reframe_cost.variants([0.7])[names[0]] is None
    assert names[-1] == "both, extent 0.7" and len(names) == 6
