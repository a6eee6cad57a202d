"""bench/silhouette_ceiling.py: the true grid seen from its render's own camera matches the
render's alpha, and only from that camera."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from paths import SAMPLES, needs_samples

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import silhouette_ceiling as sc  # noqa: E402

CAR = "02958343"


@needs_samples
def test_the_true_car_from_its_own_camera_matches_its_render() -> None:
    from parvox.data.binvox import read_binvox
    from parvox.data.camera import R2N2_IMAGE_SIZE
    from parvox.data.dataset import load_rgba
    from parvox.data.layout import R2N2Layout
    from parvox.data.render import Renderer
    from parvox.reconstruct import probability_mesh

    layout = R2N2Layout(SAMPLES)
    ref = next(r for r in layout.discover() if r.synset == CAR)
    mesh = probability_mesh(read_binvox(layout.voxel_path(ref)).occupancy.astype(np.float32))
    row = layout.read_metadata(ref)[0]
    target = sc.reframed(load_rgba(layout.image_path(ref, 0))[..., 3] >= 128)
    renderer = Renderer(R2N2_IMAGE_SIZE)

    def score(column: int = 0, shift: float = 0.0) -> float:
        camera = row.copy()
        camera[column] += shift  # a wrong azimuth (column 0) or elevation (column 1)
        found = sc.camera_silhouette(mesh.triangles, camera, renderer)
        return sc.mask_iou(sc.reframed(found), target)

    try:
        own, turned, tilted, end_on = score(), score(0, 10.0), score(1, 20.0), score(0, 90.0)
    finally:
        renderer.release()
    assert own > 0.85
    assert max(turned, tilted) < own - 0.05
    assert end_on < own - 0.3


@needs_samples
def test_the_table_has_a_row_per_sample() -> None:
    rows = sc.ceilings(SAMPLES, every=24)
    assert len(rows) == 7
    assert {r[0] for r in rows} >= {"car", "chair", "lamp"}
