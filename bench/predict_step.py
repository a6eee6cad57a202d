"""The cost model's step time of each plan for a given compute time and link (no run).

``parvox.parallel.cost.predict_step`` is what ``--parallel auto`` trusts and what
``bench/links.py`` checks against measured steps. Given another machine's compute time per
step (e.g. from a faster CPU or a GPU), this says what the plans' ratio would be there over
the same link: prediction, not measurement.

Usage: ``python bench/predict_step.py --config r2n2-res-gru --nproc 2 --batch 8 --views 5
--bf16 --bandwidth-mb 62.5 --latency-us 195 --cpu-ns-per-byte 0.68 --compute 5.491,2.1``
(the 1 Gbit/s shared-lo link as ``bench/links.py`` probed it: MB/s per rank, µs, ns per byte).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parvox.parallel.cost import Link, predict_step  # noqa: E402
from parvox.progress import markdown_table  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="r2n2-res-gru")
    ap.add_argument("--plans", default="ddp,owt")
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8, help="global batch")
    ap.add_argument("--views", type=int, default=5)
    ap.add_argument("--bf16", action="store_true", help="bf16 activations between FC shards")
    ap.add_argument("--bandwidth-mb", type=float, required=True, help="MB/s per rank")
    ap.add_argument("--latency-us", type=float, default=0.0)
    ap.add_argument("--cpu-ns-per-byte", type=float, default=0.0,
                    help="compute lost per byte sent behind compute (bench/links.py probes it)")
    ap.add_argument("--compute", required=True, help="seconds of compute per step, comma-separated")
    args = ap.parse_args()
    link = Link(args.bandwidth_mb * 1e6, args.latency_us * 1e-6, args.cpu_ns_per_byte * 1e-9)
    plans = args.plans.split(",")
    rows = []
    for compute in (float(c) for c in args.compute.split(",")):
        steps = [predict_step(args.config, p, args.nproc, args.batch, args.views, link, compute,
                              args.bf16) for p in plans]
        rows.append([f"{compute:.3f}", *(f"{s:.3f}" for s in steps),
                     *(f"{steps[0] / s:.2f}×" for s in steps[1:])])
    print(f"{args.config}, K = {args.nproc}, global batch {args.batch} × {args.views} views, "
          f"link {link.describe()}\n")
    print(markdown_table(["compute s", *(f"{p} step s" for p in plans),
                          *(f"{p} speed ÷ {plans[0]}'s" for p in plans[1:])], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
