"""Reconstruction metrics: voxel IoU at thresholds and F-score on surface points.

* IoU as 3D-R2N2 and Pix2Vox report it: a voxel is predicted occupied when its probability is
  at least the threshold (0.3, 0.4, 0.5 in the papers); IoU = |pred ∩ gt| / |pred ∪ gt| per
  sample.
* F-score@1% as in What3D (Tatarchenko et al. 2019) and LegoFormer: points sampled on the
  surfaces of prediction and ground truth (marching cubes of each grid), the cube scaled to unit
  side; precision and recall are the fractions of points within 1% of the cube side of the other
  surface; F = 2PR / (P + R).
"""

from __future__ import annotations

import numpy as np
import torch

#: Thresholds reported by 3D-R2N2 / Pix2Vox.
IOU_THRESHOLDS = (0.3, 0.4, 0.5)
#: F-score distance: 1% of the cube side (What3D, LegoFormer).
FSCORE_DISTANCE = 0.01
#: Points sampled per surface for the F-score.
FSCORE_POINTS = 8192


def iou(prob: torch.Tensor, target: torch.Tensor, threshold: float) -> torch.Tensor:
    """Per-sample IoU.

    Args:
        prob: (B, D, D, D) occupancy probabilities.
        target: (B, D, D, D) occupancy in {0, 1}.

    Returns:
        (B,) float IoU; 1 where both prediction and target are empty.
    """
    pred = prob >= threshold
    gt = target > 0.5
    inter = (pred & gt).flatten(1).sum(1).float()
    union = (pred | gt).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def surface_samples(occupancy: np.ndarray, count: int = FSCORE_POINTS,
                    seed: int = 0) -> np.ndarray:
    """Points on the surface of a voxel grid, in cube units.

    Args:
        occupancy: (D, D, D) bool grid.

    Returns:
        (count, 3) float64 points in [0, 1]^3 (empty grid: (0, 3)).
    """
    from skimage.measure import marching_cubes

    if not occupancy.any():
        return np.zeros((0, 3))
    padded = np.pad(occupancy.astype(np.float32), 1)
    verts, faces, _, _ = marching_cubes(padded, level=0.5)
    verts = (verts - 0.5) / occupancy.shape[0]  # padded index i+1 sits at voxel centre i
    tri = verts[faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(tri), size=count, p=area / area.sum())
    u, v = rng.random((2, count))
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    t = tri[chosen]
    return t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + v[:, None] * (t[:, 2] - t[:, 0])


def fscore(pred: np.ndarray, target: np.ndarray, distance: float = FSCORE_DISTANCE) -> float:
    """F-score between the surfaces of two (D, D, D) bool grids (see module docstring)."""
    from scipy.spatial import cKDTree  # here: scipy.spatial takes ~0.5 s to import

    a, b = surface_samples(pred), surface_samples(target)
    if len(a) == 0 or len(b) == 0:
        return float(len(a) == len(b))
    precision = float((cKDTree(b).query(a)[0] <= distance).mean())
    recall = float((cKDTree(a).query(b)[0] <= distance).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
