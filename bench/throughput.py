"""Training throughput of the parallel plans on this machine (CPU, one thread per rank).

For each config, strategy and K it runs ``parvox train`` (the real launcher, data sharding and
collectives) for ``--steps`` steps and reads ``RUN/train_log.jsonl``: samples/s is the global
batch over the median step time after ``--warmup`` steps (data loading excluded: it runs in
the loader's worker). Strong scaling keeps the global batch; weak scaling keeps the batch per
rank. Prints markdown tables.

Usage: ``python bench/throughput.py [--configs small] [--nprocs 1,2] [--batch 16] [--views 3]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from parvox.data.builder import build_dataset, procedural_jobs
from parvox.progress import markdown_table

STRATEGIES = ("ddp", "owt", "owt-overlap")


def measure(data: Path, work: Path, config: str, strategy: str, nproc: int, batch: int,
            views: int, steps: int, warmup: int) -> tuple[float, float]:
    """(samples/s from the median step time, MB sent per rank per step)."""
    run = work / f"{config}-{strategy}-{nproc}-{batch}"
    cmd = [sys.executable, "-m", "parvox", "train", "--config", config, "--data", str(data),
           "--out", str(run), "--steps", str(steps), "--batch", str(batch), "--views",
           f"{views}-{views}", "--threads", "1", "--workers", "1", "--checkpoint-every",
           str(10**9), "--parallel", strategy, "--nproc", str(nproc)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    lines = [json.loads(x) for x in (run / "train_log.jsonl").read_text().splitlines()]
    times = [x["step_s"] for x in lines[warmup:]]
    return batch / statistics.median(times), lines[-1]["bytes_sent"] / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="small")
    parser.add_argument("--nprocs", default="1,2")
    parser.add_argument("--batch", type=int, default=16, help="global batch (strong scaling)")
    parser.add_argument("--views", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--per-class", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="parvox-throughput-"))
    data = work / "data"
    build_dataset(data, procedural_jobs(args.per_class), show_progress=False)
    nprocs = [int(k) for k in args.nprocs.split(",")]
    for config in args.configs.split(","):
        rows = []
        base = None
        for nproc in nprocs:
            for strategy in STRATEGIES if nproc > 1 else ("ddp",):
                strong, mb = measure(data, work, config, strategy, nproc, args.batch,
                                     args.views, args.steps, args.warmup)
                weak_batch = args.batch // nprocs[-1] * nproc
                weak = strong if weak_batch == args.batch else measure(
                    data, work, config, strategy, nproc, weak_batch, args.views, args.steps,
                    args.warmup)[0]
                base = base or (strong, weak)
                rows.append((nproc, strategy if nproc > 1 else "single process", strong,
                             strong / base[0] / nproc, weak, weak / base[1] / nproc, mb))
        print(f"\n{config}, global batch {args.batch} x {args.views} views (strong), "
              f"{args.batch // nprocs[-1]} per rank (weak), 1 thread per rank\n")
        print(markdown_table(["K", "plan", "samples/s (strong)", "strong efficiency",
                              "samples/s (weak)", "weak efficiency", "MB/rank/step"], rows))


if __name__ == "__main__":
    main()
