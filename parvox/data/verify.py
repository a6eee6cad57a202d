"""``parvox data verify``: check an R2N2-layout folder file by file and geometrically.

For every model: the 24 views, the metadata and the voxels are present and readable, and the
voxels projected through each view's camera (:func:`parvox.data.camera.camera_from_metadata`)
match the render's alpha mask. Two numbers per view:

* silhouette IoU between the projected voxels and the alpha mask;
* coverage: the fraction of the alpha mask that the projected voxels cover.

The projected voxels are a little wider than the render (a voxel that the surface touches is
whole), which caps the IoU around 0.8 on real ShapeNet data; coverage stays near 1 when the
convention is right.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from parvox.data.binvox import Voxels, read_binvox
from parvox.data.camera import Camera, camera_from_metadata
from parvox.data.classes import class_name
from parvox.data.images import has_alpha, to_rgba
from parvox.data.layout import ModelRef, R2N2Layout, check_splits, load_splits
from parvox.errors import DataError, ParvoxError
from parvox.progress import markdown_table, progress

#: R2N2 renders 24 views per model.
R2N2_VIEWS = 24
#: Alpha above which a render pixel counts as object (renders are anti-aliased).
ALPHA_THRESHOLD = 0
#: Sub-samples per voxel edge when splatting voxels: keeps splat spacing under a pixel for
#: cameras at R2N2's distances (a 32^3 voxel spans 2.5-4 px at 137 px).
SPLAT_SUBSAMPLES = 5


@dataclass
class ModelReport:
    """Verification result of one model (the JSON record of ``--json``)."""

    synset: str
    id: str
    views: int = 0
    occupied: int = 0
    silhouette_iou: list[float] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def surface_points(vox: Voxels, subsamples: int = SPLAT_SUBSAMPLES) -> np.ndarray:
    """World points filling the boundary voxels of a grid (interior voxels project inside them).

    Returns:
        (N, 3) float64 points, ``subsamples**3`` per boundary voxel.
    """
    occ = vox.occupancy
    boundary = occ & ~ndimage.binary_erosion(occ, border_value=0)
    index = np.argwhere(boundary).astype(np.float64)
    offsets = (np.arange(subsamples) + 0.5) / subsamples
    grid = np.stack(np.meshgrid(offsets, offsets, offsets, indexing="ij"), -1).reshape(-1, 3)
    cells = (index[:, None, :] + grid[None]).reshape(-1, 3)
    return -vox.scale / 2.0 + cells * (vox.scale / vox.dim)


def project_mask(points: np.ndarray, camera: Camera) -> np.ndarray:
    """(H, W) bool mask of the pixels hit by the projected ``points`` (N, 3)."""
    uv, depth = camera.project(points)
    cols = np.floor(uv[:, 0]).astype(np.int64)
    rows = np.floor(uv[:, 1]).astype(np.int64)
    ok = (depth > 0) & (cols >= 0) & (cols < camera.width) & (rows >= 0) & (rows < camera.height)
    mask = np.zeros((camera.height, camera.width), dtype=bool)
    mask[rows[ok], cols[ok]] = True
    return mask


def silhouette_scores(projected: np.ndarray, alpha_mask: np.ndarray) -> tuple[float, float]:
    """``(iou, coverage)`` of a projected voxel mask against a render's alpha mask."""
    union = np.logical_or(projected, alpha_mask).sum()
    inter = np.logical_and(projected, alpha_mask).sum()
    iou = float(inter / union) if union else 1.0
    coverage = float(inter / alpha_mask.sum()) if alpha_mask.any() else 0.0
    return iou, coverage


def read_alpha(path: Path) -> np.ndarray:
    """(H, W) bool object mask of a render (alpha > :data:`ALPHA_THRESHOLD`)."""
    try:
        with Image.open(path) as image:
            image.load()
            if not has_alpha(image):
                raise DataError(path, "image has no alpha channel (expected an RGBA render)")
            alpha = np.asarray(to_rgba(image))[..., 3]
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(path, f"unreadable PNG ({exc})") from None
    return alpha > ALPHA_THRESHOLD


def verify_model(layout: R2N2Layout, ref: ModelRef) -> ModelReport:
    """Check one model's files and its silhouettes; problems are collected, not raised."""
    report = ModelReport(synset=ref.synset, id=ref.model_id)
    try:
        vox = read_binvox(layout.voxel_path(ref))
        report.occupied = int(vox.occupancy.sum())
        metadata = layout.read_metadata(ref)
    except ParvoxError as exc:
        report.problems.append(str(exc))
        return report
    if len(metadata) != R2N2_VIEWS:
        report.problems.append(f"{layout.metadata_path(ref)}: {len(metadata)} metadata rows, "
                               f"expected {R2N2_VIEWS}")
    points = surface_points(vox)
    for view, row in enumerate(metadata):
        path = layout.image_path(ref, view)
        if not path.is_file():
            report.problems.append(f"{path}: missing view")
            continue
        try:
            alpha = read_alpha(path)
        except ParvoxError as exc:
            report.problems.append(str(exc))
            continue
        camera = camera_from_metadata(row, size=alpha.shape[0])
        iou, coverage = silhouette_scores(project_mask(points, camera), alpha)
        report.silhouette_iou.append(round(iou, 4))
        report.coverage.append(round(coverage, 4))
        report.views += 1
    if report.occupied == 0:
        report.problems.append(f"{layout.voxel_path(ref)}: no occupied voxel")
    return report


@dataclass
class VerifyResult:
    """All model reports plus the means over every checked view."""

    models: list[ModelReport]
    #: What is wrong with the split file (``ShapeNet.json``), when there is one.
    split_problem: str | None = None

    @property
    def mean_silhouette_iou(self) -> float:
        values = [v for m in self.models for v in m.silhouette_iou]
        return float(np.mean(values)) if values else 0.0

    @property
    def mean_coverage(self) -> float:
        values = [v for m in self.models for v in m.coverage]
        return float(np.mean(values)) if values else 0.0

    @property
    def bad_models(self) -> list[ModelReport]:
        return [m for m in self.models if m.problems]

    def to_json(self) -> dict[str, object]:
        return {
            "models": [asdict(m) for m in self.models],
            "mean_silhouette_iou": round(self.mean_silhouette_iou, 4),
            "mean_coverage": round(self.mean_coverage, 4),
            "split_problem": self.split_problem,
        }


def verify_root(root: str | os.PathLike[str], *, show_progress: bool = True) -> VerifyResult:
    """Verify every model of the R2N2-layout folder ``root``."""
    layout = R2N2Layout(root)
    refs = _all_models(layout)
    if not refs:
        raise DataError(root, "no model found (expected ShapeNetRendering/<synset>/<id>/rendering)")
    reports = [verify_model(layout, ref)
               for ref in progress(refs, desc="verify", unit="model", enabled=show_progress)]
    return VerifyResult(reports, _split_problem(layout))


def _split_problem(layout: R2N2Layout) -> str | None:
    """The split file's problem, as ``train`` would refuse it (None: fine, or no file)."""
    path = layout.splits_path()
    if not path.exists():
        return None
    try:
        check_splits(layout, load_splits(path), path, None)
    except ParvoxError as exc:
        return str(exc)
    return None


def _all_models(layout: R2N2Layout) -> list[ModelRef]:
    """Every model with a rendering folder or a voxel file (so a missing half is reported)."""
    found: set[ModelRef] = set()
    for top in (layout.root / "ShapeNetRendering", layout.root / "ShapeNetVox32"):
        if top.is_dir():
            found.update(ModelRef(model_dir.parent.name, model_dir.name)
                         for model_dir in top.glob("*/*") if model_dir.is_dir())
    return sorted(found, key=lambda r: (r.synset, r.model_id))


def verify_table(result: VerifyResult) -> str:
    """Per-class markdown summary: models, views, silhouette IoU (mean, min), coverage."""
    by_class: dict[str, list[ModelReport]] = {}
    for model in result.models:
        by_class.setdefault(model.synset, []).append(model)
    rows = []
    for synset, models in sorted(by_class.items()):
        ious = [v for m in models for v in m.silhouette_iou]
        cover = [v for m in models for v in m.coverage]
        rows.append((f"{class_name(synset)} ({synset})", len(models),
                     sum(m.views for m in models),
                     float(np.mean(ious)) if ious else "-", float(np.min(ious)) if ious else "-",
                     float(np.mean(cover)) if cover else "-",
                     sum(bool(m.problems) for m in models)))
    rows.append(("**all**", len(result.models), sum(m.views for m in result.models),
                 result.mean_silhouette_iou, "", result.mean_coverage, len(result.bad_models)))
    return markdown_table(["class", "models", "views", "silhouette IoU", "min IoU", "coverage",
                           "with problems"], rows)
