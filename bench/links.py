"""Training throughput of the parallel plans over rate-limited links (CPU, gloo, K ranks).

Loopback between processes on one machine is faster than any network between nodes. Here every
``parvox train`` run goes inside a private network namespace whose loopback is limited by a tbf
qdisc (``bench/netns.py``: 1, 10, 25 Gbit/s, or no qdisc for "unlimited"), for each plan
(ddp, owt, owt-overlap and auto). Step times and bytes are read as ``bench/throughput.py``
reads them (median step after ``--warmup`` steps from ``RUN/train_log.jsonl``, bytes per rank
per step from ``RUN/comm.json``).

Beside each measured step time stands the cost model's prediction
(``parvox.parallel.cost.predict_step``) for the same config, plan, K, batch, views and link,
from the compute time of a step without communication, measured as the K ranks meet it: K
single-process runs (``--nproc 1``, batch / K, same views and precision, one thread each, in the
same kind of namespace) at once, sharing the cores, caches and memory bandwidth as the ranks
do; each step counts the slowest of them, as ranks in lockstep wait for it. So the model that
``--parallel auto`` trusts is itself checked. ``auto`` is told the link (``--link-gbps G
--link-latency-us L``), except for the unlimited one, where the trainer probes it.

Before the runs on a link, a probe (two gloo ranks in the same kind of namespace) measures what
the link really gives: an all-reduce of ``--probe-mb`` MB (bandwidth per rank, and summed over
both ranks, which is what tbf on ``lo`` limits) and of 4 bytes (latency). The probed latency is
L for the predictions and for ``auto`` (tbf adds none: it is loopback's). Each row has two
predictions: over the nominal link (G Gbit/s per rank, what auto is told) and over the probed
one (the bytes/s each rank really got). They differ because tbf on ``lo`` limits the sum of
all ranks' traffic: when both ranks of a ring all-reduce send at once, each gets about half of
G (measured: 1 Gbit/s gave 125 MB/s through lo, 63 MB/s per rank), unlike a full-duplex link
between nodes. The unlimited link has only the probed prediction.

Needs root (``unshare -n``, ``tc``); CPU only: NCCL between GPUs of one machine does not use
the loopback, so a rate limit on it would not bite.

Usage: ``python bench/links.py [--config r2n2-res-gru] [--links 1,10,25,unlimited]
[--plans ddp,owt,owt-overlap,auto] [--nproc 2] [--batch 8] [--views 5] [--bf16] [--steps 10]
[--warmup 3] [--rounds 1] [--json PATH] [--plot PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import throughput  # noqa: E402
from netns import (  # noqa: E402
    Node,
    in_rate_limited_namespace,
    namespace_available,
    veth_available,
    veth_pair,
)

from parvox.parallel.launch import strip_launch_flags  # noqa: E402
from parvox.progress import markdown_table  # noqa: E402

PLANS = ("ddp", "owt", "owt-overlap", "auto")
LINKS = "1,10,25,unlimited"


def parse_links(text: str) -> list[float | None]:
    """``"1,10,unlimited"`` → ``[1.0, 10.0, None]`` (Gbit/s; None: no rate limit)."""
    out: list[float | None] = []
    for item in filter(None, (x.strip() for x in text.split(","))):
        if item in ("unlimited", "inf", "none"):
            out.append(None)
        else:
            gbits = float(item)
            if not gbits > 0:
                raise ValueError(f"link rate must be positive: {item}")
            out.append(gbits)
    return out


def link_name(gbits: float | None) -> str:
    return "unlimited" if gbits is None else f"{gbits:g} Gbit/s"


def cost_model():
    """``parvox.parallel.cost`` (the cost model that ``--parallel auto`` uses), or None where
    this tree does not have it yet."""
    try:
        from parvox.parallel import cost
    except ImportError:
        return None
    if not all(hasattr(cost, name) for name in ("Link", "predict_step")):
        return None
    return cost


# ---------------------------------------------------------------------------- link probe


@dataclass
class Probe:
    """What one link gave a 2-rank gloo all-reduce."""

    gbits: float | None
    nbytes: int  # of the large all-reduce's tensor
    large_s: float  # median seconds of the large all-reduce
    small_s: float  # median seconds of a 4-byte all-reduce
    duplex: bool = False  # a veth pair (each direction its own rate), not a shared lo
    cpu_per_byte: float = 0.0  # compute lost per byte sent while computing (cost model's)

    @property
    def per_rank_bytes_s(self) -> float:
        """Bytes each rank sends per second (a 2-rank ring all-reduce of n bytes sends n)."""
        return self.nbytes / self.large_s

    @property
    def on_lo_bytes_s(self) -> float:
        """Bytes per second through the link, both ranks' traffic together (on a shared lo:
        what tbf sees)."""
        return 2 * self.per_rank_bytes_s

    @property
    def latency_s(self) -> float:
        """One-way latency estimate: a 2-rank 4-byte all-reduce is about one exchange each
        way in each of its two phases; half of it is taken as the one-way time."""
        return self.small_s / 2


def _probe_rank(rank: int, port: int, nbytes: int, reps: int, out: str,
                address: str = "127.0.0.1") -> None:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://{address}:{port}", rank=rank,
                            world_size=2)
    small = torch.zeros(1)
    for _ in range(20):
        dist.all_reduce(small)
    small_times = []
    for _ in range(200):
        t0 = time.perf_counter()
        dist.all_reduce(small)
        small_times.append(time.perf_counter() - t0)
    big = torch.ones(nbytes // 4)
    dist.all_reduce(big)  # warm-up (connections, buffers)
    large_times = []
    for _ in range(reps):
        dist.barrier()
        t0 = time.perf_counter()
        dist.all_reduce(big)
        large_times.append(time.perf_counter() - t0)
    cpu = _overlap_cost(rank, nbytes / statistics.median(large_times))
    if rank == 0:
        Path(out).write_text(json.dumps({"large_s": statistics.median(large_times),
                                         "small_s": statistics.median(small_times),
                                         "cpu_per_byte": cpu}))
    dist.destroy_process_group()


def _overlap_cost(rank: int, bandwidth: float) -> float:
    """``parvox.parallel.cost.overlap_cost`` between the probe's ranks (0 where this tree's
    cost model has none)."""
    import torch.distributed as dist

    from parvox.parallel.comm import Comm

    cost = cost_model()
    if cost is None or not hasattr(cost, "overlap_cost"):
        return 0.0
    return cost.overlap_cost(Comm(rank, 2, dist.group.WORLD), bandwidth)


def probe_worker(nbytes: int, reps: int, out: str) -> None:
    """Two gloo ranks on 127.0.0.1 (run inside the namespace)."""
    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.start_processes(_probe_rank, args=(port, nbytes, reps, out), nprocs=2,
                       start_method="spawn")


def probe(gbits: float | None, megabytes: float = 64, reps: int = 3,
          nodes: tuple[Node, Node] | None = None) -> Probe:
    """All-reduce timings of 2 gloo ranks inside a namespace limited to ``gbits``, or with
    ``nodes`` one rank in each end of that veth pair."""
    nbytes = int(megabytes * 1e6) // 4 * 4
    with tempfile.TemporaryDirectory(prefix="parvox-probe-") as tmp:
        out = Path(tmp) / "probe.json"
        me = [sys.executable, str(Path(__file__).resolve())]
        if nodes is None:
            cmds = [in_rate_limited_namespace([*me, "--probe-worker", f"{nbytes},{reps},{out}"],
                                              gbits)]
        else:
            port = _port()
            cmds = [node.wrap([*me, "--probe-rank",
                               f"{rank},{port},{nbytes},{reps},{nodes[0].address},{out}"])
                    for rank, node in enumerate(nodes)]
        try:
            throughput.run_all(cmds, dict(os.environ, CUDA_VISIBLE_DEVICES=""))
        except RuntimeError as e:
            raise RuntimeError(f"link probe at {link_name(gbits)} failed: {e}") from None
        got = json.loads(out.read_text())
    return Probe(gbits, nbytes, got["large_s"], got["small_s"], nodes is not None,
                 got.get("cpu_per_byte", 0.0))


def _port() -> int:
    """A port number for a rendezvous inside fresh namespaces (nothing else listens there)."""
    return random.randint(20000, 60000)


def probe_table(probes: list[Probe]) -> str:
    rows = [(link_name(p.gbits), "-" if p.gbits is None else f"{p.gbits * 1e3 / 8:,.0f}",
             f"{p.on_lo_bytes_s / 1e6:,.0f}", f"{p.per_rank_bytes_s / 1e6:,.0f}",
             f"{p.small_s * 1e6:,.0f}", f"{p.cpu_per_byte * 1e9:.2f}") for p in probes]
    where = "both directions of the veth pair" if any(p.duplex for p in probes) else "lo"
    return markdown_table(["link", "nominal MB/s per direction",
                           f"measured MB/s through {where} (both ranks)", "MB/s per rank",
                           "4-byte all-reduce µs",
                           "compute lost per byte sent while computing, ns"], rows)


# ---------------------------------------------------------------------------- training runs


@dataclass
class Row:
    """One plan on one link."""

    gbits: float | None
    plan: str
    run: throughput.Run
    predicted_s: float | None = None  # over the nominal link (the one auto is told)
    probed_s: float | None = None  # over the link as probed (bandwidth per rank, latency)
    chosen: str = ""  # what auto said it chose ("<link>: <layer>: <style>, ...")
    link_flags: list[str] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)  # each round's median step s

    @property
    def spread(self) -> str:
        """The rounds' samples/s, lowest-highest ("" for one round)."""
        if len(self.rounds) < 2:
            return ""
        rates = sorted(self.run.batch / s for s in self.rounds)
        return f"{rates[0]:.2f}–{rates[-1]:.2f}"

    @property
    def error(self) -> float | None:
        """Prediction error over the nominal link, (predicted - measured) / measured."""
        return None if self.predicted_s is None else self.predicted_s / self.run.seconds - 1

    @property
    def probed_error(self) -> float | None:
        """Prediction error over the probed link."""
        return None if self.probed_s is None else self.probed_s / self.run.seconds - 1


def measure(data: Path, work: Path, config: str, plan: str, nproc: int, batch: int, views: int,
            steps: int, warmup: int, bf16: bool, gbits: float | None,
            extra: list[str] | None = None, tag: str = "",
            nodes: tuple[Node, Node] | None = None) -> tuple[throughput.Run, str]:
    """``throughput.measure`` inside a namespace limited to ``gbits`` (``-<link>`` added to the
    run folder's name, after ``tag``), or with ``nodes`` (K = 2) one torchrun node in each end
    of that veth pair (torchrun gives the world: ``--nproc`` is left out). Also returns what
    ``--parallel auto`` said it chose ("" for the other plans)."""
    link = "unlimited" if gbits is None else f"{gbits:g}gbit"
    if nodes is None:
        def wrap(cmd: list[str]) -> list[list[str]]:
            return [in_rate_limited_namespace(cmd, gbits)]
    else:
        if nproc != 2:
            raise ValueError(f"a veth pair joins 2 ranks, not {nproc}")
        port = _port()

        def wrap(cmd: list[str]) -> list[list[str]]:
            return [node.wrap([cmd[0], "-m", "torch.distributed.run", "--nnodes", "2",
                               "--nproc-per-node", "1", "--node-rank", str(rank),
                               "--master-addr", nodes[0].address, "--master-port", str(port),
                               *strip_launch_flags(cmd[1:])])
                    for rank, node in enumerate(nodes)]
    run = throughput.measure(data, work, config, plan, nproc, batch, views, steps, warmup, bf16,
                             "cpu", extra=extra or [], tag=f"{tag}-{link}", wrap=wrap)
    said = re.search(r"auto plan for ([^\r\n]*)", run.stderr)
    return run, said.group(1).strip() if said else ""


def measure_compute(data: Path, work: Path, config: str, nproc: int, batch: int, views: int,
                    steps: int, warmup: int, bf16: bool) -> throughput.Run:
    """Compute without communication, as the K ranks meet it: ``nproc`` single-process runs of
    batch / K at once (one thread each, each in an unlimited namespace), so that they share
    the cores, caches and memory bandwidth as the ranks do. Ranks in lockstep wait for the
    slowest at every step, so each step's time is the slowest run's."""
    with ThreadPoolExecutor(nproc) as pool:
        runs = list(pool.map(
            lambda i: measure(data, work, config, "ddp", 1, batch // nproc, views, steps, warmup,
                              bf16, None, tag=f"-compute{i}")[0], range(nproc)))
    slowest = [max(times) for times in zip(*(r.step_times for r in runs), strict=True)]
    return replace(runs[0], step_times=slowest,
                   command=f"{nproc} at once, each step the slowest: {runs[0].command}")


def auto_flags(gbits: float | None, latency_s: float) -> list[str]:
    """The link told to ``--parallel auto`` (none for the unlimited link: the trainer probes)."""
    if gbits is None:
        return []
    return ["--link-gbps", f"{gbits:g}", "--link-latency-us", f"{latency_s * 1e6:.1f}"]


def _pct(x: float | None) -> float | None:
    return None if x is None else 100 * x


def _pair(gbits: float | None, nominal: float | None, probed: float | None, fmt: str) -> str:
    """"nominal / probed" (one value for the unlimited link, whose only link is the probed)."""
    def one(v: float | None) -> str:
        return "n/a" if v is None else fmt.format(v)

    return one(probed) if gbits is None else f"{one(nominal)} / {one(probed)}"


@dataclass
class Result:
    config: str
    nproc: int
    batch: int
    views: int
    bf16: bool
    steps: int
    warmup: int
    compute: throughput.Run  # the single-process run: compute without communication
    probes: list[Probe]
    rows: list[Row]
    cost_model: bool  # whether parvox.parallel.cost was there
    duplex: bool = False  # links were veth pairs (full duplex), not a shared lo
    rounds: int = 1  # runs of every plan per link, alternating the plans' order

    def by_key(self) -> dict[tuple[float | None, str], Row]:
        return {(r.gbits, r.plan): r for r in self.rows}

    def over_ddp(self, row: Row) -> float | None:
        ddp = self.by_key().get((row.gbits, "ddp"))
        return row.run.samples_per_s / ddp.run.samples_per_s if ddp else None

    def table_rows(self) -> list[tuple[object, ...]]:
        out = []
        for r in self.rows:
            plan = f"auto ({r.chosen})" if r.plan == "auto" and r.chosen else r.plan
            ratio = self.over_ddp(r)
            rate = f"{r.run.samples_per_s:.2f}" + (f" ({r.spread})" if r.spread else "")
            out.append((link_name(r.gbits), plan, rate,
                        f"{r.run.seconds:.3f}",
                        _pair(r.gbits, r.predicted_s, r.probed_s, "{:.3f}"),
                        _pair(r.gbits, _pct(r.error), _pct(r.probed_error), "{:+.0f}"),
                        f"{r.run.bytes_sent / 1e6:.2f}",
                        "-" if ratio is None else f"{ratio:.2f}"))
        return out

    def title(self) -> str:
        precision = "bf16 autocast" if self.bf16 else "fp32"
        timed = self.steps - self.warmup
        fabric = ("a veth pair between two namespaces, one rank per end, tbf on each end "
                  "(full duplex)" if self.duplex else "a namespace's lo with tbf (shared by "
                  "both directions)")
        pooled = (f"{self.rounds} rounds, each running every plan once in a rotated order; "
                  f"the median of all {self.rounds} × {timed} steps, the rounds' samples/s "
                  "in brackets" if self.rounds > 1 else f"median of {timed} steps")
        return (f"Links: {fabric}. {self.config}, {precision}, K = {self.nproc} (one thread "
                f"per rank, gloo), "
                f"global batch {self.batch} × {self.views} views; {pooled} after "
                f"{self.warmup} warm-up steps; compute without communication "
                f"{self.compute.seconds:.3f} s per step ({self.nproc} single processes of batch "
                f"{self.compute.batch} at once, sharing the cores as the ranks do; each step "
                f"the slowest one's, as ranks in lockstep wait for it)")

    def to_json(self) -> dict:
        def row(r: Row) -> dict:
            return {"link_gbits": r.gbits, "plan": r.plan, "chosen": r.chosen,
                    "samples_per_s": r.run.samples_per_s, "median_step_s": r.run.seconds,
                    "step_times": r.run.step_times, "predicted_step_s": r.predicted_s,
                    "prediction_error": r.error, "predicted_probed_step_s": r.probed_s,
                    "prediction_probed_error": r.probed_error,
                    "bytes_per_rank_per_step": r.run.bytes_sent,
                    "over_ddp": self.over_ddp(r), "comm": r.run.comm,
                    "round_median_step_s": r.rounds,
                    "command": r.run.command}

        return {"config": self.config, "nproc": self.nproc, "batch": self.batch,
                "views": self.views, "bf16": self.bf16, "steps": self.steps,
                "warmup": self.warmup, "rounds": self.rounds,
                "compute_s": self.compute.seconds,
                "duplex": self.duplex,
                "compute_command": self.compute.command, "cost_model": self.cost_model,
                "probes": [dict(asdict(p), per_rank_bytes_s=p.per_rank_bytes_s,
                                on_lo_bytes_s=p.on_lo_bytes_s, latency_s=p.latency_s)
                           for p in self.probes],
                "rows": [row(r) for r in self.rows]}


def predict(cost, result_args: dict, plan: str, gbits: float | None, probe_: Probe,
            compute_s: float, probed: bool) -> float | None:
    """The cost model's step time over the nominal link (``probed`` False: ``gbits`` with the
    probed latency, what auto is told) or over the link as probed (the bandwidth each rank got
    and the latency); None (and a note) where the model cannot give one. The unlimited link has
    no nominal rate: both use the probe."""
    if cost is None or (gbits is None and not probed):
        return None
    if probed:
        link = cost.Link(bandwidth=probe_.per_rank_bytes_s, latency=probe_.latency_s)
    else:
        link = cost.Link.from_gbits(gbits, latency_s=probe_.latency_s)
    # both: what the traffic takes from the compute, as probed
    link = replace(link, cpu_per_byte=probe_.cpu_per_byte)
    try:
        return float(cost.predict_step(plan=plan, link=link, compute_s=compute_s,
                                       **result_args))
    except Exception as e:  # noqa: BLE001 - a plan the model does not know: say so, go on
        print(f"note: predict_step({plan!r}, {link_name(gbits)}) failed: {e}", file=sys.stderr)
        return None


def links_bench(data: Path, work: Path, config: str, links: list[float | None],
                plans: list[str], nproc: int = 2, batch: int = 8, views: int = 5,
                steps: int = 10, warmup: int = 3, bf16: bool = False, probe_mb: float = 64,
                latency_us: float | None = None, log=None, duplex: bool = False,
                rounds: int = 1) -> Result:
    """Every plan on every link, with the probes, the compute run and the predictions; with
    ``duplex`` each link is a veth pair (K = 2, one rank per end) instead of a shared lo. With
    ``rounds`` > 1 every plan runs that often per link, the plans' order rotated each round so
    that slow spells of the shared cores fall on every plan alike; a row pools its runs."""
    if nproc < 2 or batch % nproc:
        raise ValueError(f"need K >= 2 dividing the batch (K = {nproc}, batch {batch})")
    log = log or (lambda message: None)
    cost = cost_model()
    log(f"{config} compute: {nproc} single processes at once, batch {batch // nproc}×{views}")
    compute = measure_compute(data, work, config, nproc, batch, views, steps, warmup, bf16)
    args = {"config": config, "nproc": nproc, "batch": batch, "views": views, "bf16": bf16}
    result = Result(config, nproc, batch, views, bf16, steps, warmup, compute, [], [],
                    cost is not None, duplex, rounds)
    for gbits in links:
        with veth_pair(gbits) if duplex else nullcontext() as nodes:
            log(f"probe {link_name(gbits)}{' (veth pair)' * duplex}")
            p = probe(gbits, probe_mb, nodes=nodes)
            if latency_us is not None:
                p = replace(p, small_s=2 * latency_us * 1e-6)
            result.probes.append(p)
            runs: dict[str, list[tuple[throughput.Run, str]]] = {plan: [] for plan in plans}
            for round_ in range(rounds):
                for plan in plans[round_ % len(plans):] + plans[:round_ % len(plans)]:
                    flags = auto_flags(gbits, p.latency_s) if plan == "auto" else []
                    log(f"{config} {plan} K={nproc} {link_name(gbits)} round {round_ + 1}")
                    runs[plan].append(measure(data, work, config, plan, nproc, batch, views,
                                              steps, warmup, bf16, gbits, flags, nodes=nodes,
                                              tag=f"-r{round_}" * (rounds > 1)))
            for plan in plans:
                flags = auto_flags(gbits, p.latency_s) if plan == "auto" else []
                run, chosen, medians = pooled(runs[plan])
                result.rows.append(Row(
                    gbits, plan, run, predict(cost, args, plan, gbits, p, compute.seconds,
                                              False),
                    predict(cost, args, plan, gbits, p, compute.seconds, True), chosen, flags,
                    medians))
    return result


def pooled(runs: list[tuple[throughput.Run, str]]) -> tuple[throughput.Run, str, list[float]]:
    """One plan's runs on one link as one: all their timed steps, the last run's bytes, what
    auto chose in each (distinct choices joined by " | "), and each run's median step."""
    steps = [t for run, _ in runs for t in run.step_times]
    chosen = " | ".join(dict.fromkeys(said for _, said in runs if said))
    return replace(runs[-1][0], step_times=steps), chosen, [run.seconds for run, _ in runs]


def links_table(result: Result) -> str:
    table = markdown_table(["link", "plan", "samples/s", "median step s",
                            "predicted step s (nominal / probed link)",
                            "prediction error % (nominal / probed)", "MB/rank/step",
                            "samples/s ÷ ddp's"], result.table_rows())
    note = ("" if result.cost_model else
            "\n\n(predicted: n/a — `parvox.parallel.cost` is not in this tree)")
    return f"{result.title()}\n\n{table}{note}\n\nLinks as probed:\n\n{probe_table(result.probes)}"


def plot_links(path: Path, result: Result) -> None:
    """Samples/s against link speed, one line per plan (measured: solid; predicted over the
    nominal link, the probed one for unlimited: dashed), log x axis; the unlimited link stands
    right of the fastest limited one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    finite = sorted({r.gbits for r in result.rows if r.gbits is not None})
    top = max(finite) if finite else 1.0
    unlimited_x = top * 4

    def x(gbits: float | None) -> float:
        return unlimited_x if gbits is None else gbits

    fig, ax = plt.subplots(figsize=(6, 4))
    plans = list(dict.fromkeys(r.plan for r in result.rows))
    for plan, marker in zip(plans, "xos^dv", strict=False):
        rows = sorted((r for r in result.rows if r.plan == plan), key=lambda r: x(r.gbits))
        line, = ax.plot([x(r.gbits) for r in rows], [r.run.samples_per_s for r in rows],
                        marker + "-", label=plan)
        pred = [(x(r.gbits), result.batch / t) for r in rows
                if (t := r.probed_s if r.gbits is None else r.predicted_s)]
        if pred:
            ax.plot(*zip(*pred, strict=True), "--", color=line.get_color(), alpha=0.6,
                    label=f"{plan} (predicted)")
    ticks = finite + ([unlimited_x] if any(r.gbits is None for r in result.rows) else [])
    ax.set_xscale("log")
    ax.set_xticks(ticks, [f"{g:g}" for g in finite] + ["unlimited"] * (len(ticks) > len(finite)))
    ax.minorticks_off()
    precision = "bf16" if result.bf16 else "fp32"
    ax.set(xlabel="link (Gbit/s, tbf on the namespace's loopback)", ylabel="samples/s",
           title=f"{result.config}, {precision}, K = {result.nproc}, {result.batch} × "
                 f"{result.views}, CPU gloo")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="r2n2-res-gru")
    parser.add_argument("--links", default=LINKS, help="Gbit/s, comma-separated; 'unlimited'")
    parser.add_argument("--plans", default=",".join(PLANS))
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8, help="global batch")
    parser.add_argument("--views", type=int, default=5)
    parser.add_argument("--bf16", action="store_true", help="parvox train --bf16")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs of every plan per link, the plans' order rotated each round")
    parser.add_argument("--probe-mb", type=float, default=64,
                        help="size of the probe's large all-reduce")
    parser.add_argument("--latency-us", type=float,
                        help="link latency for the predictions and auto (default: probed)")
    parser.add_argument("--per-class", type=int, default=4)
    parser.add_argument("--data", help="an existing dataset (default: build one)")
    parser.add_argument("--work", help="folder for the runs (default: a temporary one)")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--plot", help="write the samples/s vs link plot (PNG) here")
    parser.add_argument("--duplex", action="store_true",
                        help="each link a veth pair between two namespaces, one rank (torchrun "
                             "node) per end, each direction at the full rate (K = 2)")
    parser.add_argument("--probe-worker", help=argparse.SUPPRESS)
    parser.add_argument("--probe-rank", help=argparse.SUPPRESS)
    return parser


def _check(parser: argparse.ArgumentParser, plans: list[str], steps: int, warmup: int,
           duplex: bool, nproc: int, rounds: int = 1) -> None:
    """One line and exit 2 for what cannot run here; notes for what will run with less."""
    if duplex and nproc != 2:
        parser.error(f"--duplex joins 2 ranks by a veth pair; --nproc {nproc} is not 2")
    if duplex and not veth_available():
        parser.error("cannot make two network namespaces joined by a veth pair here (needs "
                     "root, ip and tc)")
    if unknown := set(plans) - set(PLANS):
        parser.error(f"--plans: unknown {', '.join(sorted(unknown))}")
    if "auto" in plans and cost_model() is None:
        parser.error("--plans auto needs the cost model (parvox.parallel.cost) and "
                     "`parvox train --parallel auto`, which this tree does not have yet; "
                     "leave auto out (--plans ddp,owt,owt-overlap)")
    if not namespace_available():
        parser.error("cannot make a rate-limited network namespace here (needs root, "
                     "unshare, ip and tc)")
    if rounds < 1:
        parser.error(f"--rounds must be at least 1, got {rounds}")
    if steps - warmup < 5:
        print(f"note: median of {steps - warmup} steps (fewer than 5)")
    if cost_model() is None:
        print("note: parvox.parallel.cost is not in this tree: predicted step times are n/a",
              file=sys.stderr)


def _log(message: str) -> None:
    print(f"[links {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> int:
    parser = _parser()
    args = parser.parse_args()
    if args.probe_worker:
        nbytes, reps, out = args.probe_worker.split(",", 2)
        probe_worker(int(nbytes), int(reps), out)
        return 0
    if args.probe_rank:
        rank, port, nbytes, reps, address, out = args.probe_rank.split(",", 5)
        _probe_rank(int(rank), int(port), int(nbytes), int(reps), out, address)
        return 0
    links = parse_links(args.links)
    plans = [p for p in args.plans.split(",") if p]
    _check(parser, plans, args.steps, args.warmup, args.duplex, args.nproc, args.rounds)
    work = Path(args.work or tempfile.mkdtemp(prefix="parvox-links-"))
    data = Path(args.data) if args.data else throughput.make_data(work / "data",
                                                                  args.per_class)
    try:
        result = links_bench(data, work, args.config, links, plans, args.nproc, args.batch,
                             args.views, args.steps, args.warmup, args.bf16, args.probe_mb,
                             args.latency_us, _log, args.duplex, args.rounds)
        print("\n" + links_table(result))
        if args.json:
            Path(args.json).write_text(json.dumps(result.to_json(), indent=1) + "\n")
        if args.plot:
            plot_links(Path(args.plot), result)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return 0

if __name__ == "__main__":
    sys.exit(main())
