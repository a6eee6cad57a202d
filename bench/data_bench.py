"""Data pipeline benchmark: dataset build cost and loader throughput.

Prints markdown tables:

* build: seconds per model per core of ``parvox data build --source procedural`` (render 24
  views, voxelise, write), for 1 and 2 worker processes;
* loader: training samples per second of :class:`parvox.data.dataset.R2N2Dataset` through a
  ``DataLoader`` (crops of the 137x137 renders, R2N2 augmentation, resized to the model's input)
  for 0 and 2 workers, at each ``--loaders SIZExVIEWS`` (default 127x5 for the R2N2 configs
  and 64x3 for ``small``).

Usage: ``python bench/data_bench.py [--per-class 4] [--samples 400] [--loaders 127x5,64x3]
[--out DIR]``
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from parvox.data.builder import build_dataset, procedural_jobs
from parvox.data.dataset import R2N2Dataset, collate
from parvox.progress import markdown_table


def bench_build(root: Path, per_class: int, workers: int) -> tuple[int, float]:
    """Build into a fresh ``root``; returns (models built, seconds per model per core)."""
    shutil.rmtree(root, ignore_errors=True)
    summary = build_dataset(root, procedural_jobs(per_class), workers=workers,
                            show_progress=False)
    return summary.count("built"), summary.seconds_per_model_core


def _load_batch(dataset: R2N2Dataset, keys: list[tuple[int, int, int]]) -> dict:
    return collate([dataset[key] for key in keys])


def bench_loader(root: Path, samples: int, workers: int, views: int = 5,
                 image_size: int = 127) -> float:
    """Training samples per second through a DataLoader with ``workers`` workers."""
    dataset = R2N2Dataset(root, "train", views=views, train=True, flip=True,
                          image_size=image_size)
    keys = [(i % len(dataset), i, views) for i in range(samples)]
    loader = DataLoader(keys, batch_size=16, collate_fn=partial(_load_batch, dataset),
                        num_workers=workers)
    start = time.perf_counter()
    count = sum(batch["images"].shape[0] for batch in loader)
    return count / (time.perf_counter() - start)


@dataclass
class DataResult:
    """Build rows (workers, models built, s per model per core) and loader rows (image size,
    views, workers, samples/s)."""

    build: list[tuple[int, int, float]]
    loader: list[tuple[int, int, int, float]]

    def loader_rate(self, image_size: int, views: int, workers: int = 0) -> float | None:
        """Samples/s at ``image_size`` and ``views`` with ``workers`` loader workers."""
        return next((r for s, v, w, r in self.loader
                     if (s, v, w) == (image_size, views, workers)), None)


def parse_loaders(text: str) -> list[tuple[int, int]]:
    """``"127x5,64x3"`` -> [(127, 5), (64, 3)]."""
    pairs = [item.lower().split("x") for item in text.split(",") if item.strip()]
    return [(int(size), int(views)) for size, views in pairs]


def run(per_class: int = 4, samples: int = 400, loaders: list[tuple[int, int]] | None = None,
        out: str | None = None) -> DataResult:
    """Build the dataset with 1 and 2 workers, then time the loader on it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    work = Path(out or tempfile.mkdtemp(prefix="parvox-bench-"))
    try:
        build = []
        for workers in (1, 2):
            built, per_model = bench_build(work / f"build-{workers}", per_class, workers)
            build.append((workers, built, per_model))
        rows = [(size, views, w, bench_loader(work / "build-1", samples, w, views, size))
                for size, views in (loaders or [(127, 5), (64, 3)]) for w in (0, 2)]
    finally:
        torch.set_num_threads(threads)
        if not out:
            shutil.rmtree(work, ignore_errors=True)
    return DataResult(build, rows)


def tables(result: DataResult) -> str:
    """The two markdown tables."""
    build = markdown_table(["build workers", "models", "s per model per core"], result.build)
    loader = markdown_table(
        ["input", "views", "loader workers", "training samples/s (train aug)"],
        [(f"{s}x{s}", v, w, r) for s, v, w, r in result.loader])
    return build + "\n\n" + loader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=4)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--loaders", default="127x5,64x3", help="SIZExVIEWS,...")
    parser.add_argument("--out", help="work folder (default: a temporary one)")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}\n")
    print(tables(run(args.per_class, args.samples, parse_loaders(args.loaders), args.out)))


if __name__ == "__main__":
    main()
