"""The demo's contact sheet of reconstruction previews, and its refusal of too few models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from parvox.demo import contact_sheet, run_demo
from parvox.errors import ParvoxError


def testcontact_sheet_stacks_previews_left_aligned_on_white(tmp_path: Path) -> None:
    wide = np.zeros((10, 30, 3), np.uint8)
    wide[..., 0] = 200
    narrow = np.zeros((5, 12, 3), np.uint8)
    narrow[..., 2] = 90
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    Image.fromarray(wide).save(paths[0])
    Image.fromarray(narrow).save(paths[1])
    out = tmp_path / "sheet.png"
    contact_sheet(paths, out)
    sheet = np.asarray(Image.open(out))
    assert sheet.shape == (15, 30, 3)
    assert (sheet[:10] == wide).all()
    assert (sheet[10:, :12] == narrow).all()
    assert (sheet[10:, 12:] == 255).all()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_too_few_models_per_class_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    # 2 per class leaves the test split empty: evaluation failed after the build and training
    with pytest.raises(ParvoxError, match=r"--per-class must be at least 3 .*, got 2"):
        run_demo(str(tmp_path / "demo"), per_class=2)
    assert not (tmp_path / "demo").exists()
