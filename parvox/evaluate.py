"""``parvox eval``: IoU per class and per number of views, F-score@1%, and the floors.

Protocol (Pix2Vox's): for ``n`` views, each test model is seen from its first ``n`` renders,
centre-cropped, on a 240 grey background. IoU at thresholds 0.3, 0.4 and 0.5; class-mean (mean
of the per-class means) and sample-weighted (mean over all samples). Beside the network, two
floors computed from the training split show what the network adds: the mean occupancy grid of
the sample's class, and the global mean grid.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from parvox.checkpoint import load_model
from parvox.data.binvox import read_binvox
from parvox.data.classes import class_name
from parvox.data.dataset import R2N2Dataset, collate
from parvox.data.layout import R2N2Layout, default_splits, split_models
from parvox.errors import ParvoxError
from parvox.inference import predict_occupancy
from parvox.metrics import IOU_THRESHOLDS, fscore, iou
from parvox.progress import markdown_table, progress

#: Threshold of the headline table and of the F-score (Pix2Vox reports 0.4 in its ablations).
MAIN_THRESHOLD = 0.4


@dataclass
class Scores:
    """Per-sample scores grouped by class."""

    by_class: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, synsets: list[str], values: list[float]) -> None:
        for synset, value in zip(synsets, values, strict=True):
            self.by_class[synset].append(float(value))

    def summary(self) -> dict[str, Any]:
        per_class = {s: float(np.mean(v)) for s, v in sorted(self.by_class.items())}
        every = [x for v in self.by_class.values() for x in v]
        return {"mean": float(np.mean(list(per_class.values()))) if per_class else 0.0,
                "weighted": float(np.mean(every)) if every else 0.0,
                "per_class": per_class}


def training_floors(root: str | os.PathLike[str],
                    splits_file: str | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Mean occupancy grids of the training split: per class (synset -> (32, 32, 32)) and
    global. Empty dicts/zeros when the dataset has no training split (e.g. the real samples)."""
    layout = R2N2Layout(root)
    try:
        refs = split_models(default_splits(root, splits_file, check_split="train"), "train")
    except ParvoxError:
        refs = []
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = defaultdict(int)
    for ref in refs:
        grid = read_binvox(layout.voxel_path(ref)).occupancy.astype(np.float64)
        sums[ref.synset] = sums.get(ref.synset, 0) + grid
        counts[ref.synset] += 1
    class_mean = {s: sums[s] / counts[s] for s in sums}
    total = sum(counts.values())
    global_mean = sum(sums.values()) / total if total else np.zeros((32, 32, 32))
    return class_mean, global_mean


class EvalStopped(Exception):
    """:func:`evaluate`'s ``should_stop`` asked it to stop: raised between batches, after which
    its loader's and F-score pool's workers are shut down."""


def evaluate(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    split: str = "test",
    views: list[int] = (1, 2, 3, 4, 5),  # type: ignore[assignment]
    batch: int = 16,
    workers: int = 0,
    floors_from: str | os.PathLike[str] | None = None,
    show_progress: bool = True,
    flip_average: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Evaluate a checkpoint; returns the JSON-able report (see module docstring).

    ``floors_from`` names the dataset whose training split gives the floors (default ``data``);
    ``flip_average`` averages each prediction with that of the views mirrored left-right
    (:func:`parvox.inference.predict_occupancy`; default: Pix2Vox's single pass);
    ``should_stop``, asked before each batch, ends the evaluation with :class:`EvalStopped`.
    """
    model, meta = load_model(checkpoint)
    image_size = getattr(getattr(model, "config", None), "image_size", 127)
    class_mean, global_mean = training_floors(floors_from or data)
    report: dict[str, Any] = {"checkpoint": str(checkpoint), "data": str(data), "split": split,
                              "flip_average": flip_average, "iou": {}, "fscore": {},
                              "floors": {}}
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers > 1 else None
    try:
        for n in views:
            dataset = R2N2Dataset(data, split, views=n, train=False, image_size=image_size,
                                  allow_missing_splits=True)
            ious, fscores, floor_class, floor_global = _evaluate_views(
                model, dataset, n, batch, workers, class_mean, global_mean, show_progress, pool,
                flip_average, should_stop)
            _record(report, n, ious, fscores, floor_class, floor_global)
            report["samples"] = len(dataset)
    finally:  # also when stopped (EvalStopped): no worker is left behind
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return report


def _record(report, n, ious, fscores, floor_class, floor_global) -> None:
    report["iou"][str(n)] = {str(t): s.summary() for t, s in ious.items()}
    report["fscore"][str(n)] = {str(MAIN_THRESHOLD): fscores.summary()}
    report["floors"] = {"class_mean": {str(t): s.summary() for t, s in floor_class.items()},
                        "global_mean": {str(t): s.summary() for t, s in floor_global.items()}}


def _fscore_pair(pair: tuple[np.ndarray, np.ndarray]) -> float:
    return fscore(pair[0], pair[1])


def _evaluate_views(model, dataset, n, batch, workers, class_mean, global_mean, show_progress,
                    pool=None, flip_average=False, should_stop=None):
    ious = {t: Scores() for t in IOU_THRESHOLDS}
    floor_class = {t: Scores() for t in IOU_THRESHOLDS}
    floor_global = {t: Scores() for t in IOU_THRESHOLDS}
    fscores = Scores()
    loader = DataLoader(dataset, batch_size=batch, collate_fn=collate, num_workers=workers)
    for item in progress(loader, desc=f"eval {n} view{'s' * (n > 1)}", unit="batch",
                         enabled=show_progress):
        if should_stop is not None and should_stop():
            raise EvalStopped
        prob = predict_occupancy(model, item["images"], flip_average=flip_average)
        target, synsets = item["voxels"], item["taxonomy"]
        prior = torch.from_numpy(np.stack([class_mean.get(s, global_mean) for s in synsets]))
        glob = torch.from_numpy(global_mean).expand_as(prior)
        for t in IOU_THRESHOLDS:
            ious[t].add(synsets, iou(prob, target, t).tolist())
            floor_class[t].add(synsets, iou(prior, target, t).tolist())
            floor_global[t].add(synsets, iou(glob, target, t).tolist())
        pairs = list(zip((prob >= MAIN_THRESHOLD).numpy(), target.numpy() > 0.5, strict=True))
        fscores.add(synsets, list(pool.map(_fscore_pair, pairs)) if pool is not None
                    else [_fscore_pair(pair) for pair in pairs])
    return ious, fscores, floor_class, floor_global


def report_table(report: dict[str, Any], threshold: float = MAIN_THRESHOLD) -> str:
    """The papers' table: IoU per class (rows) and number of views (columns), then floors."""
    t = str(threshold)
    views = list(report["iou"])
    classes = list(report["iou"][views[0]][t]["per_class"])
    head = ["class", *[f"{v} view{'s' * (v != '1')}" for v in views], "class-mean floor",
            "global floor"]
    rows = []
    for synset in classes:
        rows.append((class_name(synset),
                     *[report["iou"][v][t]["per_class"][synset] for v in views],
                     report["floors"]["class_mean"][t]["per_class"][synset],
                     report["floors"]["global_mean"][t]["per_class"][synset]))
    for key, label in (("mean", "**class mean**"), ("weighted", "**sample weighted**")):
        rows.append((label, *[report["iou"][v][t][key] for v in views],
                     report["floors"]["class_mean"][t][key],
                     report["floors"]["global_mean"][t][key]))
    rows.append(("F-score@1% (weighted)", *[report["fscore"][v][t]["weighted"] for v in views],
                 "", ""))
    thresholds = markdown_table(
        ["threshold", *[f"{v}v mean / weighted" for v in views]],
        [(th, *[f"{report['iou'][v][th]['mean']:.3f} / {report['iou'][v][th]['weighted']:.3f}"
                for v in views]) for th in report["iou"][views[0]]])
    how = ", flip-averaged" if report.get("flip_average") else ""
    return (f"IoU at threshold {threshold} ({report['samples']} {report['split']} models{how})\n\n"
            + markdown_table(head, rows) + "\n\nIoU by threshold\n\n" + thresholds)
