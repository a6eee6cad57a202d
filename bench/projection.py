"""Communication vs K and projected speedup of ``ddp`` and ``owt`` (analytical, stated model).

Bytes per rank per step come from ``parvox plan`` (checked against the bytes counted at run
time by ``tests/test_parallel.py``). The projection:

* weak scaling: ``--per-rank`` samples per rank, global batch ``K x per-rank``;
* compute per rank per step = ``--step-time`` seconds, the measured single-device step at the
  per-rank batch (the model-parallel FCs do ``FC(K b) / K = FC(b)`` work per rank, so compute
  per rank does not change with K);
* communication = bytes per rank / link bandwidth, not overlapped with compute, latency
  ignored (a conservative model for bandwidth-bound steps);
* speedup(K) = K x T1 / (T1 + comm(K)).

Usage: ``python bench/projection.py --config r2n2-res-gru --per-rank 16 --views 5
--step-time 0.043 [--plots DIR]`` (0.043 s: r2n2-res-gru, 16 x 5 views, fp32, one H100, from
``bench/model_bench.py``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from parvox.models import create_model
from parvox.parallel.analysis import plan_report
from parvox.progress import markdown_table

#: Links of the projection, bytes per second per direction.
LINKS = {"100 Gb/s Ethernet": 100e9 / 8, "NVLink-class (450 GB/s)": 450e9}
#: Krizhevsky (2014), Table 1, AlexNet with scheme (b)/(c): speedup at 2 / 4 / 8 GPUs.
KRIZHEVSKY = {2: 1.95, 4: 3.74, 8: 6.25}
KS = (1, 2, 4, 8, 16, 32, 64)


def bytes_table(model, per_rank: int, views: int) -> dict[int, tuple[float, float]]:
    """K -> (owt bytes, ddp bytes) per rank per step at global batch K x per_rank."""
    out = {}
    for k in KS:
        report = plan_report(model, "owt", k, per_rank * k, views)
        out[k] = (report["bytes_per_rank_per_step"], report["ddp_bytes_per_rank_per_step"])
    return out


def crossover_batch(model, k: int, views: int) -> float:
    """Global batch above which ``owt`` sends more than ``ddp`` at K ranks (bytes linear in B)."""
    b1, b2 = k, 2 * k
    r1 = plan_report(model, "owt", k, b1, views)
    r2 = plan_report(model, "owt", k, b2, views)
    slope = (r2["bytes_per_rank_per_step"] - r1["bytes_per_rank_per_step"]) / (b2 - b1)
    fixed = r1["bytes_per_rank_per_step"] - slope * b1
    return (r1["ddp_bytes_per_rank_per_step"] - fixed) / slope if slope > 0 else float("inf")


def speedup(step_time: float, sent: float, bandwidth: float, k: int) -> float:
    return k * step_time / (step_time + sent / bandwidth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="r2n2-res-gru")
    parser.add_argument("--per-rank", type=int, default=16)
    parser.add_argument("--views", type=int, default=5)
    parser.add_argument("--step-time", type=float, default=0.043)
    parser.add_argument("--plots", help="folder for bytes_vs_k.png and speedup_vs_k.png")
    args = parser.parse_args()
    model = create_model(args.config)
    table = bytes_table(model, args.per_rank, args.views)
    rows = [(k, k * args.per_rank, owt / 1e6, ddp / 1e6, owt / ddp if ddp else 0.0,
             crossover_batch(model, k, args.views) if k > 1 else "-")
            for k, (owt, ddp) in table.items()]
    print(f"{args.config}, {args.per_rank} samples x {args.views} views per rank\n")
    print(markdown_table(["K", "global batch", "owt MB/rank/step", "ddp MB/rank/step",
                          "owt / ddp", "batch where ddp would win"], rows))
    for name, bandwidth in LINKS.items():
        rows = [(k, speedup(args.step_time, table[k][1], bandwidth, k),
                 speedup(args.step_time, table[k][0], bandwidth, k), KRIZHEVSKY.get(k, ""))
                for k in KS]
        print(f"\nProjected speedup, {name}, step {args.step_time * 1e3:.0f} ms per rank\n")
        print(markdown_table(["K", "ddp", "owt", "Krizhevsky AlexNet (b)/(c)"], rows))
    if args.plots:
        plot(Path(args.plots), table, args.step_time)


def plot(folder: Path, table: dict[int, tuple[float, float]], step_time: float) -> None:
    """bytes_vs_k.png and speedup_vs_k.png (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    ks = list(table)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(ks, [table[k][1] / 1e6 for k in ks], "o-", label="ddp")
    ax.plot(ks, [table[k][0] / 1e6 for k in ks], "s-", label="owt")
    ax.set(xscale="log", xlabel="ranks K", ylabel="MB sent per rank per step")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "bytes_vs_k.png", dpi=120)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, bandwidth in LINKS.items():
        for index, label in ((1, "ddp"), (0, "owt")):
            ax.plot(ks, [speedup(step_time, table[k][index], bandwidth, k) for k in ks],
                    "o-" if label == "owt" else "x--", label=f"{label}, {name}")
    ax.plot(list(KRIZHEVSKY), list(KRIZHEVSKY.values()), "k^", label="Krizhevsky AlexNet")
    ax.plot(ks, ks, ":", color="grey", label="linear")
    ax.set(xscale="log", yscale="log", xlabel="ranks K", ylabel="projected speedup")
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(folder / "speedup_vs_k.png", dpi=120)


if __name__ == "__main__":
    main()
