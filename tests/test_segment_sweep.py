"""bench/segment_sweep.py: its IoU, its paired differences, and that it leaves photo.SURE be."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import segment_sweep  # noqa: E402

from parvox import photo  # noqa: E402


def test_iou_of_masks() -> None:
    a = np.zeros((4, 4), bool)
    b = a.copy()
    assert segment_sweep.mask_iou(a, b) == 1.0  # both empty
    a[:2] = True
    b[1:3] = True
    assert segment_sweep.mask_iou(a, b) == pytest.approx(4 / 12)


def test_paired_difference_has_two_standard_errors() -> None:
    base = np.array([0.5, 0.6, 0.7, 0.8])
    shown = segment_sweep.paired(base + np.array([0.01, 0.03, 0.01, 0.03]), base)
    # mean 0.02; sample std 0.011547; 2 s.e. = 2 * 0.011547 / 2
    assert shown == "+0.0200 ± 0.0115"
    assert segment_sweep.paired(base, None) == "-"


def test_sweep_segments_under_each_threshold_and_restores_sure(monkeypatch) -> None:
    seen = []

    def fake_segment(rgb: np.ndarray, prior: str = "network") -> np.ndarray:
        seen.append((prior, photo.SURE))  # the threshold in force during the call
        return np.ones(rgb.shape[:2], bool)

    monkeypatch.setattr(photo, "segment", fake_segment)
    monkeypatch.setattr(photo, "object_probability", lambda rgb: np.zeros(rgb.shape[:2]))
    truth = np.zeros((8, 8), bool)
    truth[:4] = True
    before = photo.SURE
    out = segment_sweep.sweep([(np.zeros((8, 8, 3), np.uint8), truth)], [0.9, 0.99])
    assert before == photo.SURE
    assert [s for p, s in seen if p == "network"] == [0.9, 0.99]
    assert out == {"network alone (p ≥ 0.5)": [0.0], "border GrabCut": [0.5],
                   "SURE 0.9": [0.5], "SURE 0.99": [0.5]}
