"""``parvox app`` in a real browser (Debian's Chromium, headless, driven by Playwright): a
shared photo uploaded, the 3D viewer shows a shape, and the page asks nothing of any other
host."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import CHROMIUM, SHAPE_SHARE, visit
from paths import PHOTOS

pytest.importorskip("playwright")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium not installed")

PORT = 7875


def test_upload_shows_a_shape_in_the_viewer(tmp_path: Path, checkpoint: Path) -> None:
    from parvox.app import clean, serve
    from parvox.pretrained import export_weights

    if not PHOTOS.is_dir():
        pytest.skip("shared photos absent")
    weights = export_weights(checkpoint, tmp_path / "tiny.safetensors")
    page = serve(str(weights), port=PORT, block=False)
    try:
        run = visit(f"http://127.0.0.1:{PORT}/", upload=PHOTOS / "chair.png",
                    screenshot=tmp_path / "page.png", timeout_s=90)
    finally:
        clean(page)
    assert run.shape_pixels > SHAPE_SHARE, f"blank viewer ({run.shape_pixels:.3f})"
    assert run.errors == []
    assert run.requests and all(url.startswith(f"http://127.0.0.1:{PORT}/")
                                or url.startswith(("data:", "blob:")) for url in run.requests), \
        sorted({url.split("/")[2] for url in run.requests})
    assert (tmp_path / "page.png").stat().st_size > 10_000
