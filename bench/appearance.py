"""What an object's appearance costs a model: 1-view IoU of renders as they are and repainted.

ShapeNet's renders and the procedural ones differ in how their objects look, not only in
their shapes: the statistics table measures both sets' object pixels (mean luma and
saturation, 0..1). Each render is then scored as it is and under variants that keep its
shape, shading and framing and change only its material:

* ``grey, own luma``: the colour removed (Rec. 601 luma), brightness kept;
* ``grey, luma L``: the colour removed and the shading scaled by one factor (an albedo
  change under the same light) to the mean luma ``L`` (0..255), a light untextured material.

Two sets side by side, as in ``bench/reframe_cost.py``: a procedural split (``--data``,
``--split val`` by default, ``--per-class`` models per class, ``--views`` random views each)
and the real samples (``../shared/r2n2-samples``, all 24 views of each). The real samples are
the held-out test: they are measured here, never chosen on.

With ``--against W`` (repeatable), each candidate is scored on the same renders and printed
with its paired difference to ``--checkpoint`` per variant: the class mean of the per-class
mean differences with two standard errors (``bench/weight_average.py``'s statistic), and the
classes it raised and lowered.

Usage: ``python bench/appearance.py [--checkpoint pretrained] [--against W] [--data data/ship]
[--split val] [--per-class 100] [--views 2] [--lumas 110,150,190] [--seed 0]``
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from real_views import view_ious  # noqa: E402
from reframe_cost import procedural_refs  # noqa: E402
from weight_average import paired  # noqa: E402

from parvox.checkpoint import load_model  # noqa: E402
from parvox.data.augment import LUMA, luma_gain  # noqa: E402
from parvox.data.binvox import read_binvox  # noqa: E402
from parvox.data.classes import class_name  # noqa: E402
from parvox.data.dataset import load_rgba, protocol_view  # noqa: E402
from parvox.data.layout import ModelRef, R2N2Layout  # noqa: E402
from parvox.data.verify import R2N2_VIEWS  # noqa: E402
from parvox.errors import ParvoxError  # noqa: E402
from parvox.evaluate import MAIN_THRESHOLD  # noqa: E402
from parvox.progress import markdown_table, progress  # noqa: E402
from parvox.shared import shared_dir  # noqa: E402

Variant = Callable[[np.ndarray], np.ndarray]
#: Object pixels: alpha above this (0..255).
OPAQUE = 127


def grey(luma: float | None) -> Variant:
    """uint8 RGBA ``(S, S, 4)`` -> the same with its object grey, at the mean ``luma``
    (0..255; ``None``: its own), its shading scaled by one factor, clipped at white."""
    def repainted(rgba: np.ndarray) -> np.ndarray:
        value = rgba[..., :3].astype(np.float32) @ LUMA
        if luma is not None:
            value *= luma_gain(value, (rgba[..., 3] > OPAQUE).astype(np.float32), luma)
        out = rgba.copy()
        out[..., :3] = np.clip(value, 0, 255).round().astype(np.uint8)[..., None]
        return out
    return repainted


def variants(lumas: list[float]) -> dict[str, Variant | None]:
    """The variants by name, the render as it is first (``None``)."""
    out: dict[str, Variant | None] = {"as rendered": None, "grey, own luma": grey(None)}
    out.update({f"grey, luma {luma:g}": grey(luma) for luma in lumas})
    return out


def object_stats(rgba: np.ndarray) -> tuple[float, float] | None:
    """(mean luma, mean HSV saturation) of the object's pixels in 0..1, or None without any."""
    inside = rgba[..., 3] > OPAQUE
    if not inside.any():
        return None
    rgb = rgba[..., :3][inside].astype(np.float32) / 255.0
    high, low = rgb.max(axis=1), rgb.min(axis=1)
    saturation = np.where(high > 0, (high - low) / np.maximum(high, 1e-6), 0.0)
    return float((rgb @ LUMA).mean()), float(saturation.mean())


Scored = tuple[list[str], dict[str, dict[str, np.ndarray]], list[tuple[float, float]]]


def score(models: dict[str, torch.nn.Module], layout: R2N2Layout, refs: list[ModelRef],
          views: Callable[[ModelRef], list[int]], chosen: dict[str, Variant | None],
          desc: str) -> Scored:
    """Each view's synset, ``{model: {variant: (views,) IoU@0.4}}`` and each view's
    :func:`object_stats`, over ``refs`` with their ``views(ref)``."""
    size = next(iter(models.values())).config.image_size
    synsets: list[str] = []
    ious: dict[str, dict[str, list[float]]] = {m: {v: [] for v in chosen} for m in models}
    stats: list[tuple[float, float]] = []
    for ref in progress(refs, desc=desc, unit="model"):
        target = torch.from_numpy(read_binvox(layout.voxel_path(ref)).occupancy
                                  .astype(np.float32))
        renders = [load_rgba(layout.image_path(ref, v)) for v in views(ref)]
        synsets += [ref.synset] * len(renders)
        stats += [s for s in map(object_stats, renders) if s is not None]
        for name, fn in chosen.items():
            x = torch.stack([protocol_view(r if fn is None else fn(r), size) for r in renders])
            for model_name, model in models.items():
                ious[model_name][name] += view_ious(model, x, target, MAIN_THRESHOLD)
    return synsets, {m: {v: np.asarray(x) for v, x in by.items()} for m, by in ious.items()}, \
        stats


def class_mean(synsets: list[str], values: np.ndarray) -> float:
    """The mean over classes of each class's mean."""
    labels = np.asarray(synsets)
    return float(np.mean([values[labels == s].mean() for s in sorted(set(synsets))]))


def stats_table(sets: dict[str, list[tuple[float, float]]]) -> str:
    """Object pixels' luma and saturation per set: mean and 10th / 50th / 90th percentiles."""
    rows = []
    for name, stats in sets.items():
        values = np.asarray(stats)
        for column, what in enumerate(("luma", "saturation")):
            p10, p50, p90 = np.percentile(values[:, column], [10, 50, 90])
            rows.append([name, what, f"{values[:, column].mean():.3f}", f"{p10:.3f}",
                         f"{p50:.3f}", f"{p90:.3f}"])
    return markdown_table(["renders", "object pixels", "mean", "10th", "50th", "90th"], rows)


def iou_table(procedural: Scored, real: Scored, reference: str) -> str:
    """Class-mean IoU per variant on both sets, the real samples' classes beside."""
    synsets, ious, _ = real
    classes = sorted(set(synsets))
    labels = np.asarray(synsets)
    rows = []
    for name in ious[reference]:
        values = ious[reference][name]
        rows.append([name, f"{class_mean(procedural[0], procedural[1][reference][name]):.3f}",
                     f"{class_mean(synsets, values):.3f}",
                     *(f"{values[labels == c].mean():.3f}" for c in classes)])
    return markdown_table(["variant", "procedural", "real",
                           *(class_name(c) for c in classes)], rows)


def against_table(procedural: Scored, real: Scored, reference: str) -> str:
    """Per candidate and variant: its class means and paired differences to ``reference``."""
    rows = []
    for candidate in procedural[1]:
        if candidate == reference:
            continue
        for name in procedural[1][reference]:
            cells = [candidate, name]
            for synsets, ious, _ in (procedural, real):
                p = paired(synsets, ious[candidate][name], ious[reference][name])
                cells += [f"{p['mean']:.3f}", f"{p['diff']:+.4f} ± {p['two_se']:.4f}",
                          f"{p['up']} / {p['down']}"]
            rows.append(cells)
    return markdown_table(["candidate", "variant", "procedural", "− reference ± 2 s.e.",
                           "classes up / down", "real", "− reference ± 2 s.e.",
                           "classes up / down"], rows)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default="pretrained", help="the reference")
    ap.add_argument("--against", action="append", default=[], metavar="W",
                    help="a candidate scored beside the reference (repeatable)")
    ap.add_argument("--real", default=str(shared_dir() / "r2n2-samples"))
    ap.add_argument("--data", default="data/ship", help="a procedural dataset")
    ap.add_argument("--split", default="val")
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--views", type=int, default=2, help="random views per procedural model")
    ap.add_argument("--lumas", default="110,150,190", help="mean lumas of the grey variants")
    ap.add_argument("--seed", type=int, default=0, help="draws the procedural views")
    return ap.parse_args()


def main() -> int:
    args = parse_args()
    try:
        lumas = [float(x) for x in args.lumas.split(",") if x]
    except ValueError:
        raise ParvoxError(f"--lumas must be numbers separated by commas, "
                          f"got {args.lumas!r}") from None
    models = {name: load_model(name)[0].eval()
              for name in dict.fromkeys([args.checkpoint, *args.against])}
    chosen = variants(lumas)
    procedural_layout = R2N2Layout(args.data)
    refs = procedural_refs(procedural_layout, args.split, args.per_class)
    if not refs:
        raise ParvoxError(f"{args.data}: no {args.split} models")
    rng = np.random.default_rng(args.seed)
    procedural = score(
        models, procedural_layout, refs,
        lambda ref: sorted(rng.choice(R2N2_VIEWS, args.views, replace=False).tolist()),
        chosen, f"{args.split} models")
    real_layout = R2N2Layout(args.real)
    real = score(models, real_layout, real_layout.discover(),
                 lambda ref: list(range(R2N2_VIEWS)), chosen, "real samples")
    print(f"\nObject pixels, 0..1; procedural: {args.data} {args.split}, {args.per_class} models "
          f"per class x {args.views} random views (seed {args.seed}); real: every view of "
          f"{args.real}\n")
    print(stats_table({"procedural": procedural[2], "real": real[2]}))
    print(f"\n1-view IoU@{MAIN_THRESHOLD} of {args.checkpoint}, class means\n")
    print(iou_table(procedural, real, args.checkpoint))
    if len(models) > 1:
        print(f"\nCandidates against {args.checkpoint} on the same renders\n")
        print(against_table(procedural, real, args.checkpoint))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ParvoxError as exc:
        sys.exit(f"error: {exc}")
