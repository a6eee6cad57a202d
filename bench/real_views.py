"""Single-view IoU on every view of the real samples: a steadier reading than one fixed view.

The held-out real set (``../shared/r2n2-samples``) has one model per class, and Pix2Vox's
protocol scores each with one fixed view; one model's single-view IoU spans 0.12-0.55 across
its 24 views, so comparing two checkpoints on that view alone mostly measures the view. This
scores every view of every sample as a 1-view input (IoU at ``--threshold``) and prints the
per-class mean over the 24 views for each checkpoint, side by side.

Usage: ``python bench/real_views.py --checkpoint pretrained --checkpoint runs/ship5
[--data DIR] [--threshold 0.4]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parvox.checkpoint import load_model  # noqa: E402
from parvox.data.binvox import read_binvox  # noqa: E402
from parvox.data.classes import class_name  # noqa: E402
from parvox.data.dataset import load_rgba, protocol_view  # noqa: E402
from parvox.data.layout import R2N2Layout  # noqa: E402
from parvox.data.verify import R2N2_VIEWS  # noqa: E402
from parvox.evaluate import MAIN_THRESHOLD  # noqa: E402
from parvox.inference import predict_occupancy  # noqa: E402
from parvox.metrics import iou  # noqa: E402
from parvox.progress import markdown_table  # noqa: E402
from parvox.shared import shared_dir  # noqa: E402


def view_ious(model: torch.nn.Module, views: torch.Tensor, target: torch.Tensor,
              threshold: float, flip_average: bool = False) -> list[float]:
    """IoU of each view alone: ``views`` ``(V, 3, H, W)``, ``target`` ``(32, 32, 32)``;
    ``flip_average`` as :func:`parvox.inference.predict_occupancy`."""
    occupied = predict_occupancy(model, views[:, None], flip_average=flip_average)  # (V, N³)
    return iou(occupied, target.expand_as(occupied), threshold).tolist()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", action="append", required=True,
                    help="a run, a checkpoint folder, 'pretrained' or a .safetensors export")
    ap.add_argument("--data", default=str(shared_dir() / "r2n2-samples"))
    ap.add_argument("--threshold", type=float, default=MAIN_THRESHOLD)
    ap.add_argument("--flip-average", action="store_true",
                    help="average each prediction with that of the view mirrored, as parvox "
                         "reconstruct does (default: one pass, as parvox eval)")
    args = ap.parse_args()
    models = {name: load_model(name)[0].eval() for name in args.checkpoint}
    layout = R2N2Layout(args.data)
    scores: dict[str, dict[str, float]] = {name: {} for name in models}
    for ref in layout.discover():
        target = torch.from_numpy(read_binvox(layout.voxel_path(ref)).occupancy.astype(np.float32))
        renders = [load_rgba(layout.image_path(ref, v)) for v in range(R2N2_VIEWS)]
        views: dict[int, torch.Tensor] = {}  # per input size, shared by the models of that size
        for name, model in models.items():
            size = model.config.image_size
            if size not in views:
                views[size] = torch.stack([protocol_view(rgba, size) for rgba in renders])
            scores[name][class_name(ref.synset)] = float(np.mean(
                view_ious(model, views[size], target, args.threshold, args.flip_average)))
    classes = sorted(next(iter(scores.values())))
    rows = [[c, *(f"{scores[n][c]:.3f}" for n in models)] for c in classes]
    rows.append(["**class mean**", *(f"{np.mean(list(scores[n].values())):.3f}"
                                     for n in models)])
    how = ", flip-averaged" if args.flip_average else ""
    print(f"1-view IoU@{args.threshold}, mean over every view of each model ({args.data}{how})\n")
    print(markdown_table(["class", *models], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
