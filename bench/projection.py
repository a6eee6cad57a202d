"""Communication vs K and projected speedup of ``ddp`` and ``owt`` (analytical, stated model).

Bytes per rank per step come from ``parvox plan`` (equal to the bytes counted at run time:
``tests/test_parallel.py`` and ``bench/throughput.py``). The projection:

* weak scaling: ``--per-rank`` samples per rank, global batch ``K x per-rank``;
* compute per rank per step = ``--step-time`` seconds, the measured single-device step at the
  per-rank batch (the sum of the per-layer compute: the data-parallel convs do the per-rank
  batch on every rank, the model-parallel FCs do ``FC(K b) / K = FC(b)`` work per rank, so
  compute per rank does not change with K in either plan);
* communication = bytes per rank / link bandwidth, float32, not overlapped with compute,
  latency ignored (a conservative model for bandwidth-bound steps);
* step(K) = T1 + comm(K); speedup(K) = K x T1 / step(K).

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


def bytes_table(model, per_rank: int, views: int,
                ks: tuple[int, ...] = KS) -> dict[int, tuple[float, float]]:
    """K -> (owt bytes, ddp bytes) per rank per step at global batch K x per_rank."""
    out = {}
    for k in ks:
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


def comm_rows(model, table: dict[int, tuple[float, float]], per_rank: int,
              views: int) -> list[tuple[object, ...]]:
    """(K, global batch, owt MB, ddp MB, owt / ddp, batch where ddp would win) per K."""
    return [(k, k * per_rank, owt / 1e6, ddp / 1e6, owt / ddp if ddp else 0.0,
             crossover_batch(model, k, views) if k > 1 else "-")
            for k, (owt, ddp) in table.items()]


def comm_table(rows: list[tuple[object, ...]]) -> str:
    return markdown_table(["K", "global batch", "owt MB/rank/step", "ddp MB/rank/step",
                           "owt / ddp", "batch where ddp would win"], rows)


def projection_rows(table: dict[int, tuple[float, float]], step_time: float,
                    bandwidth: float) -> list[tuple[object, ...]]:
    """(K, ddp step ms, owt step ms, ddp speedup, owt speedup, Krizhevsky's) per K."""
    return [(k, (step_time + ddp / bandwidth) * 1e3, (step_time + owt / bandwidth) * 1e3,
             speedup(step_time, ddp, bandwidth, k), speedup(step_time, owt, bandwidth, k),
             KRIZHEVSKY.get(k, ""))
            for k, (owt, ddp) in table.items()]


def projection_table(rows: list[tuple[object, ...]]) -> str:
    return markdown_table(["K", "ddp step ms", "owt step ms", "ddp speedup", "owt speedup",
                           "Krizhevsky AlexNet (b)/(c)"], rows)


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
    print(f"{args.config}, {args.per_rank} samples x {args.views} views per rank\n")
    print(comm_table(comm_rows(model, table, args.per_rank, args.views)))
    for name, bandwidth in LINKS.items():
        print(f"\nProjected step and speedup, {name}, compute {args.step_time * 1e3:.0f} ms "
              "per rank\n")
        print(projection_table(projection_rows(table, args.step_time, bandwidth)))
    if args.plots:
        folder = Path(args.plots)
        folder.mkdir(parents=True, exist_ok=True)
        plot_bytes(folder / "bytes_vs_k.png",
                   [(f"{args.config}, {args.per_rank}×{args.views} per rank", table, {})])
        plot_speedup(folder / "speedup_vs_k.png", table, args.step_time)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_bytes(path: Path, panels: list[tuple[str, dict[int, tuple[float, float]],
                                              dict[str, dict[int, float]]]]) -> None:
    """One panel per (title, analytical K -> (owt, ddp) bytes, measured {plan: {K: bytes}})."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (title, table, measured) in zip(axes[0], panels, strict=True):
        ks = [k for k in table if k > 1]
        ax.plot(ks, [table[k][1] / 1e6 for k in ks], "x--", label="ddp (analytical)")
        ax.plot(ks, [table[k][0] / 1e6 for k in ks], "s-", label="owt (analytical)")
        for (plan, points), marker in zip(measured.items(), "o^v", strict=False):
            ax.plot(list(points), [v / 1e6 for v in points.values()], marker, ms=9,
                    mfc="none", label=f"{plan} (measured)")
        ax.set(xscale="log", xlabel="ranks K", ylabel="MB sent per rank per step", title=title)
        _k_axis(plt, ax, ks, legend_size=7)
    _save(plt, fig, path)


def plot_speedup(path: Path, table: dict[int, tuple[float, float]], step_time: float,
                 title: str = "") -> None:
    """Projected speedups of both plans on both links, beside Krizhevsky's AlexNet numbers."""
    plt = _pyplot()
    ks = list(table)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, bandwidth in LINKS.items():
        for index, label in ((1, "ddp"), (0, "owt")):
            ax.plot(ks, [speedup(step_time, table[k][index], bandwidth, k) for k in ks],
                    "o-" if label == "owt" else "x--", label=f"{label}, {name}")
    ax.plot(list(KRIZHEVSKY), list(KRIZHEVSKY.values()), "k^", label="Krizhevsky AlexNet")
    ax.plot(ks, ks, ":", color="grey", label="linear")
    ax.set(xscale="log", yscale="log", xlabel="ranks K", ylabel="projected speedup",
           title=title or f"compute {step_time * 1e3:.0f} ms per rank per step")
    _k_axis(plt, ax, ks, legend_size=6)
    _save(plt, fig, path)


def _k_axis(plt, ax, ks: list[int], legend_size: int) -> None:
    """A log K axis ticked at the measured K only, a small title and legend."""
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.title.set_fontsize(8)
    ax.legend(fontsize=legend_size)


def _save(plt, fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
