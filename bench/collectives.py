"""Scheme (a)'s collectives: torch's functional collectives against parvox's own autograd ones.

Two gloo ranks (one thread each) run the forward and backward of one model-parallel FC shaped
like ``r2n2-res-gru``'s fused gates (1024 -> 3·8192) on ``--rows`` rows per rank, with each
implementation of :data:`parvox.parallel.sharded.COLLECTIVES` and with the overlapped scheme,
alternating them ``--repeats`` times so that both see the same machine. Prints the median
milliseconds per forward + backward and the ratio to torch's.

``--crossover 8,16,32,...`` instead times the FC's two styles at each number of rows per rank:
``model`` (scheme (a)) and ``data`` (the whole FC on the local rows, then an all-reduce of its
gradients, as DDP does), and prints where ``data`` starts to win beside where the cost model of
``--parallel auto`` predicts it (priced with the link probed between the two ranks). Model-
parallel traffic grows with the rows, data-parallel traffic does not. ``--gbits G`` runs the
ranks inside a network namespace whose loopback is limited to G Gbit/s (``bench/netns.py``).

Usage: ``python bench/collectives.py [--rows 20] [--in 1024] [--out 24576] [--repeats 15]
[--crossover 8,16,...] [--gbits 1]``
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from parvox.parallel.comm import Comm  # noqa: E402
from parvox.parallel.sharded import COLLECTIVES, ShardedFC  # noqa: E402
from parvox.progress import markdown_table  # noqa: E402

#: What is timed: each implementation of scheme (a), and scheme (b)/(c).
VARIANTS = (*COLLECTIVES, "overlap (parvox)")


def _shard(linear: nn.Linear, comm: Comm, variant: str) -> ShardedFC:
    if variant in COLLECTIVES:
        return ShardedFC(linear, comm, "fc", collectives=variant)
    return ShardedFC(linear, comm, "fc", overlap=True)


def _time(fc: ShardedFC, x: torch.Tensor) -> float:
    dist.barrier()
    begin = time.perf_counter()
    fc(x.requires_grad_(True)).sum().backward()
    return time.perf_counter() - begin


def _join(rank: int, port: int) -> Comm:
    """This rank in a 2-rank gloo group (one torch thread), as a :class:`Comm`."""
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    return Comm(rank, 2, dist.group.WORLD)


def _rank(rank: int, args: argparse.Namespace, port: int, out: str) -> None:
    comm = _join(rank, port)
    torch.manual_seed(0)
    linear = nn.Linear(args.in_features, args.out_features)
    shards = {v: _shard(linear, comm, v) for v in VARIANTS}
    x = torch.randn(args.rows, args.in_features)
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for repeat in range(args.repeats + 1):
        for variant, fc in shards.items():
            seconds = _time(fc, x.clone())
            if repeat:  # the first round sets up connections and buffers
                times[variant].append(seconds)
    if rank == 0:
        torch.save(times, out)
    dist.destroy_process_group()


def _data_step(linear: nn.Linear, comm: Comm, x: torch.Tensor) -> float:
    """The ``data`` style: the whole FC on the local rows, then DDP's gradient all-reduce."""
    dist.barrier()
    begin = time.perf_counter()
    linear.zero_grad()
    linear(x).sum().backward()
    for p in linear.parameters():
        dist.all_reduce(p.grad)
    return time.perf_counter() - begin


def _crossover_rank(rank: int, args: argparse.Namespace, port: int, out: str) -> None:
    from parvox.parallel.cost import probe_link

    comm = _join(rank, port)
    link = probe_link(comm)
    torch.manual_seed(0)
    linear = nn.Linear(args.in_features, args.out_features)
    sharded = _shard(linear, comm, "torch")
    times: dict[int, dict[str, list[float]]] = {}
    for rows in args.crossover:
        x = torch.randn(rows, args.in_features)
        entry = times.setdefault(rows, {"model": [], "data": []})
        for repeat in range(args.repeats + 1):
            model_s, data_s = _time(sharded, x.clone()), _data_step(linear, comm, x)
            if repeat:
                entry["model"].append(model_s)
                entry["data"].append(data_s)
    if rank == 0:
        torch.save({"times": times, "link": (link.bandwidth, link.latency)}, out)
    dist.destroy_process_group()


def predicted_crossover(in_features: int, out_features: int, link, rows_max: int = 1 << 16):
    """Smallest rows per rank at which the cost model prices ``data`` at most ``model`` for
    this FC at K = 2 (``None`` past ``rows_max``)."""
    from parvox.parallel.cost import predict
    from parvox.parallel.plans import STYLES, LayerShape, Workload

    shape = LayerShape("fc", "Linear", in_features * out_features + out_features,
                       in_features * out_features, out_features, 1.0, in_features, out_features)
    for rows in range(1, rows_max + 1):
        work = Workload(2, 2 * rows, 1)
        seconds = {style: predict({"fc": STYLES[style].cost(shape, work)}, link, 0.0).step_s
                   for style in ("data", "model")}
        if seconds["data"] <= seconds["model"]:
            return rows
    return None


def crossover(args: argparse.Namespace) -> int:
    from parvox.parallel.cost import Link

    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "times.pt")
        mp.start_processes(_crossover_rank, args=(args, _free_port(), out), nprocs=2,
                           start_method="spawn")
        saved = torch.load(out)
    link = Link(*saved["link"])
    rows, measured = [], None
    for n, entry in saved["times"].items():
        model_s, data_s = (statistics.median(entry[k]) for k in ("model", "data"))
        if measured is None and data_s <= model_s:
            measured = n
        rows.append((n, f"{model_s * 1e3:.1f}", f"{data_s * 1e3:.1f}",
                     "data" if data_s <= model_s else "model"))
    predicted = predicted_crossover(args.in_features, args.out_features, link)
    print(f"K = 2, gloo, 1 thread per rank; FC {args.in_features} -> {args.out_features}; "
          f"link as probed: {link.describe()}; median of {args.repeats} repeats\n")
    print(markdown_table(["rows per rank", "model ms", "data ms", "faster"], rows))
    shown = measured if measured is not None else f"> {max(saved['times'])}"
    print(f"\ncrossover (rows per rank where data starts to win): measured {shown}, "
          f"predicted {predicted}")
    return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20, help="rows per rank (default 4 × 5 views)")
    ap.add_argument("--in", dest="in_features", type=int, default=1024)
    ap.add_argument("--out", dest="out_features", type=int, default=3 * 8192)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--crossover", type=lambda t: [int(x) for x in t.split(",")],
                    help="rows per rank to time both styles at, e.g. 8,16,32,64")
    ap.add_argument("--gbits", type=float, help="run in a namespace limited to G Gbit/s")
    args = ap.parse_args()
    if args.gbits is not None and not os.environ.get("PARVOX_IN_NETNS"):
        from netns import in_rate_limited_namespace

        os.environ["PARVOX_IN_NETNS"] = "1"
        cmd = in_rate_limited_namespace([sys.executable, *sys.argv], args.gbits)
        return subprocess.run(cmd, check=False).returncode
    if args.crossover:
        return crossover(args)
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "times.pt")
        mp.start_processes(_rank, args=(args, _free_port(), out), nprocs=2,
                           start_method="spawn")
        times = torch.load(out)
    base = statistics.median(times["torch"])
    rows = [(v, f"{statistics.median(t) * 1e3:.2f}", f"{statistics.median(t) / base:.3f}")
            for v, t in times.items()]
    print(f"K = 2, gloo, 1 thread per rank; FC {args.in_features} -> {args.out_features}, "
          f"{args.rows} rows per rank; median of {args.repeats} alternated repeats\n")
    print(markdown_table(["collectives", "ms per forward + backward", "÷ torch's"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
