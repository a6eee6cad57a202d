"""Segmentation of procedural photo-like scenes by the threshold GrabCut may not overrule.

``parvox.photo.segment`` fixes the pixels the mask network is sure of (probability beyond
``photo.SURE`` or below ``1 - SURE``) and lets GrabCut settle the rest. This picks ``SURE`` on
data no decision is measured on: seeded scenes (:func:`parvox.data.masks.scene`, what the mask
network trains on) around views of a procedural dataset's validation split, not the composites
of the held-out real samples in ``bench/photo_bench.py``.

    python bench/segment_sweep.py --data data/ship --scenes 300 --side 256 \\
        --sure 0.9,0.95,0.98,0.99,0.999

Prints mean mask IoU per threshold, with the network alone (probability ≥ 0.5) and GrabCut
from the image border (``prior="border"``) beside.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "scripts")]

from photo_bench import mask_iou  # noqa: E402
from train_masknet import Scenes  # noqa: E402

from parvox import photo  # noqa: E402
from parvox.data.masks import scene  # noqa: E402
from parvox.progress import markdown_table, progress_bar  # noqa: E402


def scenes(root: Path, count: int, side: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` seeded (uint8 ``(side, side, 3)`` picture, bool ``(side, side)`` mask) pairs
    around random views of ``root``'s validation models, drawn as the mask network's training
    draws its scenes (``scripts/train_masknet.py``), at ``side`` pixels."""
    source = Scenes(root, "val", 1, seed)
    rng = np.random.default_rng(seed)
    return [scene(source.render(rng), rng, side, other=lambda: source.render(rng))
            for _ in range(count)]


def paired(values: np.ndarray, base: np.ndarray | None) -> str:
    """The mean per-scene difference from ``base`` with two standard errors."""
    if base is None:
        return "-"
    diff = values - base
    return f"{diff.mean():+.4f} ± {2 * diff.std(ddof=1) / np.sqrt(len(diff)):.4f}"


def sweep(pairs: list, sures: list[float]) -> dict[str, list[float]]:
    """Per setting, the mask IoU of each scene."""
    out: dict[str, list[float]] = {"network alone (p ≥ 0.5)": [], "border GrabCut": []}
    out.update({f"SURE {s}": [] for s in sures})
    default = photo.SURE
    bar = progress_bar(len(pairs), desc="scenes", unit="scene")
    try:
        for rgb, truth in pairs:
            out["network alone (p ≥ 0.5)"].append(mask_iou(photo.object_probability(rgb) >= 0.5,
                                                           truth))
            out["border GrabCut"].append(mask_iou(photo.segment(rgb, prior="border"), truth))
            for s in sures:
                photo.SURE = s
                out[f"SURE {s}"].append(mask_iou(photo.segment(rgb), truth))
            bar.update(1)
    finally:
        photo.SURE = default
        bar.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="a procedural dataset (its val split)")
    ap.add_argument("--scenes", type=int, default=300)
    ap.add_argument("--side", type=int, default=256, help="scene side in pixels")
    ap.add_argument("--sure", default="0.9,0.95,0.98,0.99,0.999")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    start = time.perf_counter()
    pairs = scenes(args.data, args.scenes, args.side, args.seed)
    results = sweep(pairs, [float(s) for s in args.sure.split(",")])
    base = np.array(results[f"SURE {photo.SURE}"]) if f"SURE {photo.SURE}" in results else None
    rows = [[name, f"{np.mean(v):.3f}", f"{np.median(v):.3f}", f"{np.mean(np.array(v) < 0.5):.2f}",
             paired(np.array(v), base)] for name, v in results.items()]
    print(markdown_table(["setting", "mean mask IoU", "median", "share below 0.5",
                          f"minus SURE {photo.SURE}, paired (± 2 s.e.)"], rows))
    print(f"\n{args.scenes} scenes of {args.side} px from {args.data}'s val split, seed "
          f"{args.seed} (photo.SURE today: {photo.SURE}); {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
