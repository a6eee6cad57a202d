"""Class-prior IoU of the procedural shapes: how much does one template explain a class?

For each class, the mean 32^3 occupancy of ``--train`` shapes (seeds 0..n-1) is thresholded
(the threshold in 0.10..0.90 that maximises the score) and compared with ``--heldout`` shapes
(seeds 1000..): the mean IoU is the score.  Meshes are normalised like ShapeNetCore v1
(bounding box centred on the origin, unit diagonal) and voxelised solid in the cube centred on
the origin whose side is the longest extent (``parvox.data.voxelize.voxelize_mesh``).

A low score means the generator has real intra-class variety (target: <= 0.35 for every class).

    .venv/bin/python bench/class_prior_iou.py [--train 40 --heldout 20] [--classes chair car]
        [--seed-base S]  (another sample of shapes; the default is 0)
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import trimesh

from parvox.data.classes import CLASSES
from parvox.data.procedural import make_shape
from parvox.data.voxelize import voxelize_mesh

THRESHOLDS = np.round(np.arange(0.10, 0.901, 0.05), 2)


def normalised(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Copy of ``mesh`` with its bounding box centred on the origin and a unit diagonal."""
    lo, hi = mesh.bounds
    v = (mesh.vertices - (lo + hi) / 2.0) / np.linalg.norm(hi - lo)
    return trimesh.Trimesh(vertices=v, faces=mesh.faces, process=False)


def grids(class_name: str, seeds: range) -> np.ndarray:
    """(N, 32, 32, 32) bool occupancies of the class's shapes for ``seeds``."""
    return np.stack([voxelize_mesh(normalised(make_shape(class_name, s).mesh), 32)
                     for s in seeds])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two bool grids."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def class_prior_iou(train: np.ndarray, heldout: np.ndarray) -> tuple[float, float]:
    """(best threshold, mean IoU of the thresholded class-mean grid against held-out grids)."""
    mean = train.mean(axis=0)
    scores = [np.mean([iou(mean >= t, g) for g in heldout]) for t in THRESHOLDS]
    best = int(np.argmax(scores))
    return float(THRESHOLDS[best]), float(scores[best])


def run(train: int = 40, heldout: int = 20, classes: list[str] | None = None,
        seed_base: int = 0) -> list[tuple[str, float, float]]:
    """(class, best threshold, class-mean IoU) per class; training shapes are seeds
    ``seed_base ..``, held-out ones ``seed_base + 1000 ..``."""
    rows = []
    for name in classes or list(CLASSES):
        t, s = class_prior_iou(grids(name, range(seed_base, seed_base + train)),
                               grids(name, range(seed_base + 1000, seed_base + 1000 + heldout)))
        rows.append((name, t, s))
    return rows


def table(rows: list[tuple[str, float, float]], train: int, heldout: int) -> str:
    """Markdown table of the class-prior IoUs, with their mean."""
    lines = ["| class | n_train | n_heldout | best threshold | class-mean IoU |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {name} | {train} | {heldout} | {t:.2f} | {s:.3f} |" for name, t, s in rows]
    lines.append(f"| **mean** | | | | **{np.mean([s for _, _, s in rows]):.3f}** |")
    return "\n".join(lines)


def main() -> None:
    """Print the markdown table of class-prior IoUs."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=40)
    ap.add_argument("--heldout", type=int, default=20)
    ap.add_argument("--classes", nargs="*", default=list(CLASSES))
    ap.add_argument("--seed-base", type=int, default=0,
                    help="another sample of shapes: seeds from here (and from here + 1000)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = run(args.train, args.heldout, args.classes, args.seed_base)
    print(table(rows, args.train, args.heldout))
    print(f"\n({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
