"""Checkpoint averaging measured: uniform means of exported weights against one reference.

Each ``--average NAME=W1,W2,...`` is built in memory (:func:`parvox.pretrained.average_weights`)
and scored beside ``--reference`` on the same samples of a split (first ``--views`` views,
Pix2Vox's protocol as ``parvox eval``, one pass unless ``--flip-average``). Every candidate's
class-mean IoU@0.4 is printed with its paired difference to the reference and two standard
errors of it (per class, the spread of the per-model differences over the class's count; the
class mean's s.e. is the root of their summed squares over the number of classes), and the
classes it raised and lowered.

    .venv/bin/python bench/weight_average.py --data data/ship --split val \\
        --reference W63528 --average A2=W57180,W63528 [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parvox.checkpoint import load_model  # noqa: E402
from parvox.data.classes import class_name  # noqa: E402
from parvox.data.dataset import R2N2Dataset, collate  # noqa: E402
from parvox.errors import ParvoxError  # noqa: E402
from parvox.evaluate import MAIN_THRESHOLD  # noqa: E402
from parvox.inference import predict_occupancy  # noqa: E402
from parvox.metrics import iou  # noqa: E402
from parvox.pretrained import average_weights, model_from_state  # noqa: E402
from parvox.progress import markdown_table, progress  # noqa: E402


def sample_ious(models: dict[str, torch.nn.Module], data: str, split: str, views: int,
                flip_average: bool, batch: int = 16) -> tuple[list[str], dict[str, np.ndarray]]:
    """Each sample's synset and, per model, its IoU@0.4 (``(samples,)``), in the split's order."""
    size = next(iter(models.values())).config.image_size
    dataset = R2N2Dataset(data, split, views=views, train=False, image_size=size,
                          allow_missing_splits=True)
    synsets: list[str] = []
    scores: dict[str, list[float]] = {name: [] for name in models}
    for item in progress(DataLoader(dataset, batch_size=batch, collate_fn=collate),
                         desc=f"{split}, {views} view{'s' * (views > 1)}", unit="batch"):
        synsets += item["taxonomy"]
        for name, model in models.items():
            prob = predict_occupancy(model, item["images"], flip_average=flip_average)
            scores[name] += iou(prob, item["voxels"], MAIN_THRESHOLD).tolist()
    return synsets, {name: np.asarray(v) for name, v in scores.items()}


def paired(synsets: list[str], a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Class-mean of ``a`` and of ``a - b`` with two standard errors, classes up and down."""
    labels = np.asarray(synsets)
    means, diffs, variances = [], [], []
    for synset in sorted(set(synsets)):
        d = (a - b)[labels == synset]
        means.append(a[labels == synset].mean())
        diffs.append(d.mean())
        variances.append(d.var(ddof=1) / len(d) if len(d) > 1 else 0.0)
    return {"mean": float(np.mean(means)), "diff": float(np.mean(diffs)),
            "two_se": float(2 * np.sqrt(np.sum(variances)) / len(variances)),
            "up": int(sum(d > 0 for d in diffs)), "down": int(sum(d < 0 for d in diffs)),
            "per_class": {class_name(s): float(m) for s, m in zip(sorted(set(synsets)), means,
                                                                  strict=True)}}


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/ship")
    ap.add_argument("--split", default="val")
    ap.add_argument("--views", type=int, default=1)
    ap.add_argument("--reference", default="pretrained")
    ap.add_argument("--average", action="append", default=[], metavar="NAME=W1,W2,...")
    ap.add_argument("--flip-average", action="store_true")
    ap.add_argument("--json")
    return ap.parse_args()


def main() -> int:
    args = parse_args()
    torch.set_grad_enabled(False)
    try:
        models = {"reference": load_model(args.reference)[0]}
        device = next(models["reference"].parameters()).device  # CUDA where there is one
        for spec in args.average:
            name, _, files = spec.partition("=")
            models[name] = model_from_state(*average_weights(files.split(","))).to(device)
        synsets, scores = sample_ious(models, args.data, args.split, args.views,
                                      args.flip_average)
    except ParvoxError as exc:
        sys.exit(f"error: {exc}")
    report = {name: paired(synsets, s, scores["reference"]) for name, s in scores.items()}
    rows = [[name, f"{r['mean']:.4f}", f"{r['diff']:+.4f} ± {r['two_se']:.4f}",
             f"{r['up']} / {r['down']}"] for name, r in report.items()]
    how = ", flip-averaged" if args.flip_average else ", one pass"
    print(f"\n{args.data} {args.split}, {args.views} view(s){how}, {len(synsets)} samples; "
          f"reference {args.reference}\n")
    print(markdown_table(["weights", "class-mean IoU@0.4", "minus reference (± 2 s.e.)",
                          "classes up / down"], rows))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "report": report}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
