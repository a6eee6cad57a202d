"""Data pipeline benchmark: dataset build cost and loader throughput.

Prints markdown tables:

* build: seconds per model per core of ``parvox data build --source procedural`` (render 24
  views, voxelise, write), for 1 and 2 worker processes;
* loader: 5-view training samples per second of :class:`parvox.data.dataset.R2N2Dataset`
  through a ``DataLoader`` (127x127 crops, R2N2 augmentation) for 0 and 2 workers.

Usage: ``python bench/data_bench.py [--per-class 4] [--samples 400] [--out DIR]``
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
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


def bench_loader(root: Path, samples: int, workers: int, views: int = 5) -> float:
    """5-view training samples per second through a DataLoader with ``workers`` workers."""
    dataset = R2N2Dataset(root, "train", views=views, train=True, flip=True)
    keys = [(i % len(dataset), i, views) for i in range(samples)]
    loader = DataLoader(keys, batch_size=16, collate_fn=partial(_load_batch, dataset),
                        num_workers=workers)
    start = time.perf_counter()
    count = sum(batch["images"].shape[0] for batch in loader)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=4)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--out", help="work folder (default: a temporary one)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    work = Path(args.out or tempfile.mkdtemp(prefix="parvox-bench-"))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}\n")
    rows = []
    for workers in (1, 2):
        built, per_model = bench_build(work / f"build-{workers}", args.per_class, workers)
        rows.append((workers, built, per_model))
    print(markdown_table(["build workers", "models", "s per model per core"], rows))
    print()
    rows = [(w, bench_loader(work / "build-1", args.samples, w)) for w in (0, 2)]
    print(markdown_table(["loader workers", "5-view samples/s (127x127, train aug)"], rows))
    if not args.out:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
