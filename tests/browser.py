"""Drive ``parvox app`` in a real browser: Debian's Chromium, headless, through Playwright.

Used by ``tests/test_browser.py`` (in ``make test``) and ``bench/app_bench.py`` (the
click-to-3D time and the README's screenshot). Chromium starts with the flags that keep it
from calling home (background networking, component updates, sync, QUIC) and with SwiftShader
for WebGL, since the 3D viewer needs it and there is no GPU.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CHROMIUM = Path("/usr/bin/chromium")
#: A viewer whose canvas, below the band of its label and icons (:data:`LABEL_ROWS`), has at
#: least this share of non-background pixels shows a shape.
SHAPE_SHARE = 0.003
LABEL_ROWS = 40
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--use-angle=swiftshader",
                 "--enable-unsafe-swiftshader", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic",
                 "--no-first-run", "--disable-dev-shm-usage"]


@dataclass
class BrowserRun:
    """What one page visit saw."""

    seconds_to_3d: float = 0.0
    shape_pixels: float = 0.0  # share of the viewer's canvas that is not background
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def shape_share(png: bytes) -> float:
    """Share of a viewer screenshot's pixels, below its label, that differ from its most common
    colour (the clear colour of the viewer)."""
    import io

    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))[LABEL_ROWS:]
    rgb = rgb.reshape(-1, 3).astype(int)
    colours, counts = np.unique(rgb, axis=0, return_counts=True)
    background = colours[counts.argmax()]
    return float((np.abs(rgb - background).max(axis=1) > 24).mean())


def visit(url: str, *, upload: Path | None = None, example: int | None = None,
          screenshot: Path | None = None, timeout_s: float = 120.0) -> BrowserRun:
    """Open the page, reconstruct (an uploaded photo, or a click on example ``example``), wait
    for the 3D viewer to show a shape; returns timings, requests and the shape's share."""
    from playwright.sync_api import sync_playwright

    run = BrowserRun()
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: run.requests.append(r.url))
            page.on("pageerror", lambda e: run.errors.append(str(e)))
            page.goto(url, wait_until="load", timeout=timeout_s * 1000)
            page.get_by_role("button", name="Reconstruct").wait_for(timeout=timeout_s * 1000)
            if upload is not None:
                page.locator("input[type=file]").first.set_input_files(str(upload))
                page.wait_for_timeout(500)
                start = time.perf_counter()
                page.get_by_role("button", name="Reconstruct").click()
            else:
                start = time.perf_counter()
                page.locator("#examples button").nth(example or 0).click()
            canvas = page.locator("#viewer canvas").first
            canvas.wait_for(state="visible", timeout=timeout_s * 1000)
            deadline = time.perf_counter() + timeout_s
            while time.perf_counter() < deadline:
                run.shape_pixels = shape_share(canvas.screenshot())
                if run.shape_pixels > SHAPE_SHARE:
                    break
                page.wait_for_timeout(100)
            run.seconds_to_3d = time.perf_counter() - start
            if screenshot is not None:
                page.wait_for_timeout(300)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return run
