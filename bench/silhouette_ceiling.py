"""What the photo target's silhouette IoU can reach from a 32³ grid: the true voxels' ceiling.

``bench/photo_bench.py --photos`` scores a reconstruction by its best silhouette over a grid of
R2N2 viewpoints against the object's mask, both re-framed alike. This scores the *true* 32³
grid of each real sample (``../shared/r2n2-samples``) the same way against its own renders'
alpha, so that a reconstruction's number can be read against what the resolution allows:
once from the render's own camera (``rendering_metadata.txt``) and once at the best grid
viewpoint, as the photo target is scored. Every ``--every``-th view; mean and minimum per class.

    .venv/bin/python bench/silhouette_ceiling.py [--data DIR] [--every 4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from photo_bench import AZIMUTHS, ELEVATIONS, mask_iou, reframed, silhouette  # noqa: E402

from parvox.data.binvox import read_binvox  # noqa: E402
from parvox.data.camera import R2N2_IMAGE_SIZE  # noqa: E402
from parvox.data.classes import class_name  # noqa: E402
from parvox.data.dataset import load_rgba  # noqa: E402
from parvox.data.layout import R2N2Layout  # noqa: E402
from parvox.errors import ParvoxError  # noqa: E402
from parvox.progress import markdown_table  # noqa: E402
from parvox.reconstruct import probability_mesh  # noqa: E402
from parvox.shared import shared_dir  # noqa: E402


def camera_silhouette(triangles: np.ndarray, row: np.ndarray, renderer) -> np.ndarray:
    """bool (137, 137): the mesh seen from one ``rendering_metadata.txt`` camera ``row``
    (azimuth, elevation, in-plane rotation, distance ratio, ...)."""
    azimuth, elevation, inplane, distance = row[:4]
    return silhouette(triangles, azimuth, elevation, renderer, inplane_deg=inplane,
                      distance_ratio=distance)


def ceilings(data: Path, every: int) -> list[list[str]]:
    """Per sample: class, mean (min) IoU from the render's camera, mean (min) at the best
    grid viewpoint."""
    from parvox.data.render import Renderer

    layout, renderer, rows = R2N2Layout(data), Renderer(R2N2_IMAGE_SIZE), []
    try:
        for ref in layout.discover():
            mesh = probability_mesh(read_binvox(layout.voxel_path(ref)).occupancy
                                    .astype(np.float32))
            cameras = layout.read_metadata(ref)
            own, best = [], []
            for v in range(0, len(cameras), every):
                target = reframed(load_rgba(layout.image_path(ref, v))[..., 3] >= 128)
                own.append(mask_iou(reframed(camera_silhouette(mesh.triangles, cameras[v],
                                                               renderer)), target))
                best.append(max(mask_iou(reframed(silhouette(mesh.triangles, a, e, renderer)),
                                         target) for a in AZIMUTHS for e in ELEVATIONS))
            rows.append([class_name(ref.synset), f"{np.mean(own):.3f} ({np.min(own):.3f})",
                         f"{np.mean(best):.3f} ({np.min(best):.3f})"])
    finally:
        renderer.release()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=shared_dir() / "r2n2-samples")
    ap.add_argument("--every", type=int, default=4, help="score every n-th view")
    args = ap.parse_args()
    try:
        rows = ceilings(args.data, args.every)
    except ParvoxError as exc:
        sys.exit(f"error: {exc}")
    print(f"Silhouette IoU of the true 32³ voxels against the renders' alpha, both re-framed "
          f"as the photo path frames objects (every {args.every}th view of {args.data}); "
          "mean (min)\n")
    print(markdown_table(["class", "from the render's camera", "best grid viewpoint"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
