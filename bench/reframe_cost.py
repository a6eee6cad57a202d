"""What re-framing costs a model: 1-view IoU of renders as they are and re-framed, in parts.

The photo path re-frames every object at R2N2's median size and position
(:func:`parvox.data.framing.frame_object`). On a render, which already is at R2N2's framing,
that can only lose what the render's own size and position told the network. This scores each
render as it is and under each variant: the cut-out pasted back in place (the mask's edge
alone), moved to the median position at its own size, scaled to the median size in place,
both (what the photo path does), and both at other sizes. Two sets side by side:

* the real samples (``../shared/r2n2-samples``, every one of the 24 views of each);
* a procedural split (``--data``, ``--split val`` by default: ``--per-class`` models per class,
  ``--views`` random views each), the kind of renders the model was trained on.

An extent is chosen on the procedural split, never on the real samples: they are the held-out
test. Prints the class-mean IoU per variant and set, and per class for the real samples.

Usage: ``python bench/reframe_cost.py [--checkpoint pretrained] [--data data/ship]
[--split val] [--per-class 15] [--views 4] [--extents 0.58,0.70,0.76]``
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from real_views import view_ious  # noqa: E402

from parvox.checkpoint import load_model  # noqa: E402
from parvox.data.binvox import read_binvox  # noqa: E402
from parvox.data.classes import class_name  # noqa: E402
from parvox.data.dataset import load_rgba, protocol_view  # noqa: E402
from parvox.data.framing import FRAME_CENTRE, FRAME_EXTENT, reframe_render  # noqa: E402
from parvox.data.layout import ModelRef, R2N2Layout, load_splits, split_models  # noqa: E402
from parvox.data.verify import R2N2_VIEWS  # noqa: E402
from parvox.evaluate import MAIN_THRESHOLD  # noqa: E402
from parvox.progress import markdown_table  # noqa: E402
from parvox.shared import shared_dir  # noqa: E402

Variant = Callable[[np.ndarray], np.ndarray]


def variant(extent: float | None, centre: tuple[float, float] | None) -> Variant:
    """A uint8 RGBA render ``(S, S, 4)`` -> the same re-framed at ``extent`` / ``centre``
    (``None``: the render's own); a render without an object comes back as it was."""
    return functools.partial(reframe_render, extent=extent, centre=centre)


def variants(extents: list[float]) -> dict[str, Variant | None]:
    """The variants by name, the render as it is first (``None``)."""
    out: dict[str, Variant | None] = {
        "as rendered": None,
        "cut out, pasted in place": variant(None, None),
        "moved to the median position": variant(None, FRAME_CENTRE),
        "scaled to the median size in place": variant(FRAME_EXTENT, None),
        f"both (photo path, extent {FRAME_EXTENT})": variant(FRAME_EXTENT, FRAME_CENTRE)}
    for extent in extents:
        out[f"both, extent {extent}"] = variant(extent, FRAME_CENTRE)
    return out


def score(model: torch.nn.Module, layout: R2N2Layout, refs: list[ModelRef],
          views: Callable[[ModelRef], list[int]], chosen: dict[str, Variant | None],
          threshold: float) -> dict[str, dict[str, float]]:
    """``{variant: {class: mean 1-view IoU}}`` over ``refs``, each with its ``views(ref)``."""
    size = model.config.image_size
    ious: dict[str, dict[str, list[float]]] = {name: {} for name in chosen}
    for ref in refs:
        target = torch.from_numpy(read_binvox(layout.voxel_path(ref)).occupancy
                                  .astype(np.float32))
        renders = [load_rgba(layout.image_path(ref, v)) for v in views(ref)]
        for name, fn in chosen.items():
            x = torch.stack([protocol_view(r if fn is None else fn(r), size) for r in renders])
            ious[name].setdefault(class_name(ref.synset), []).extend(
                view_ious(model, x, target, threshold))
    return {name: {c: float(np.mean(v)) for c, v in by.items()} for name, by in ious.items()}


def procedural_refs(layout: R2N2Layout, split: str, per_class: int) -> list[ModelRef]:
    """The first ``per_class`` models of each class in ``split``."""
    by: dict[str, list[ModelRef]] = {}
    for ref in split_models(load_splits(layout.splits_path()), split):
        by.setdefault(ref.synset, []).append(ref)
    return [ref for refs in by.values() for ref in refs[:per_class]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default="pretrained")
    ap.add_argument("--real", default=str(shared_dir() / "r2n2-samples"))
    ap.add_argument("--data", default="data/ship", help="a procedural dataset")
    ap.add_argument("--split", default="val")
    ap.add_argument("--per-class", type=int, default=15)
    ap.add_argument("--views", type=int, default=4, help="random views per procedural model")
    ap.add_argument("--extents", default="0.58,0.70,0.76")
    ap.add_argument("--threshold", type=float, default=MAIN_THRESHOLD)
    args = ap.parse_args()
    model = load_model(args.checkpoint)[0].eval()
    chosen = variants([float(e) for e in args.extents.split(",") if e])
    real = R2N2Layout(args.real)
    on_real = score(model, real, real.discover(), lambda ref: list(range(R2N2_VIEWS)), chosen,
                    args.threshold)
    procedural = R2N2Layout(args.data)
    rng = np.random.default_rng(0)
    on_procedural = score(
        model, procedural, procedural_refs(procedural, args.split, args.per_class),
        lambda ref: sorted(rng.choice(R2N2_VIEWS, args.views, replace=False).tolist()),
        chosen, args.threshold)
    classes = sorted(next(iter(on_real.values())))
    rows = [[name, f"{np.mean(list(on_procedural[name].values())):.3f}",
             f"{np.mean(list(on_real[name].values())):.3f}",
             *(f"{on_real[name][c]:.3f}" for c in classes)] for name in chosen]
    print(f"1-view IoU@{args.threshold}, class means; procedural: {args.data} {args.split}, "
          f"{args.per_class} models per class x {args.views} random views; real: every view "
          f"of {args.real}\n")
    print(markdown_table(["variant", "procedural", "real", *classes], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
