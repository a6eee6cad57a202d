"""Training throughput of the parallel plans on this machine (CPU: one thread per rank).

For each config, strategy and K it runs ``parvox train`` (the real launcher, data sharding and
collectives) for ``--steps`` steps and reads ``RUN/train_log.jsonl``: samples/s is the global
batch over the median step time after ``--warmup`` steps (data loading excluded: it runs in
the loader's worker), and ``RUN/comm.json`` gives the bytes each rank sent in a step. Strong
scaling keeps the global batch; weak scaling keeps the batch per rank (``--batch`` divided by
the largest K). ``--bytes-nprocs`` adds short runs (``--bytes-steps`` steps) at larger K whose
only purpose is the measured bytes; every measured byte count is printed beside the plan's
analytical count (``parvox plan``) for the same config, K, batch and views.

On CUDA (``--device cuda``) the ranks are GPUs and the backend NCCL (one GPU per rank); on the
CPU the runs hide any GPU (``CUDA_VISIBLE_DEVICES=""``) and use gloo.

Usage: ``python bench/throughput.py [--configs small] [--nprocs 1,2] [--batch 16] [--views 3]
[--steps 10] [--warmup 3] [--bf16] [--bytes-nprocs 4] [--device cpu]``
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from parvox.data.builder import build_dataset, procedural_jobs
from parvox.models import create_model
from parvox.parallel.analysis import is_model_parallel, plan_report
from parvox.parallel.plans import plan_names
from parvox.progress import markdown_table

#: Every registered plan (``auto`` included), in registration order.
STRATEGIES = tuple(plan_names())


@dataclass
class Run:
    """One ``parvox train`` run."""

    config: str
    strategy: str
    nproc: int
    batch: int
    views: int
    bf16: bool
    device: str
    step_times: list[float]  # after the warm-up steps
    comm: dict = field(default_factory=dict)  # RUN/comm.json (K > 1)
    command: str = ""
    data_waits: list[float] = field(default_factory=list)  # seconds waiting for the loader
    stderr: str = field(default="", repr=False)  # what the run printed there

    @property
    def seconds(self) -> float:
        return statistics.median(self.step_times)

    @property
    def samples_per_s(self) -> float:
        return self.batch / self.seconds

    @property
    def bytes_sent(self) -> float:
        return float(self.comm.get("bytes_per_rank_per_step", 0.0))

    @property
    def plan(self) -> str:
        return self.strategy if self.nproc > 1 else "single process"


def train_command(data: Path, run: Path, config: str, strategy: str, nproc: int, batch: int,
                  views: int, steps: int, bf16: bool, device: str) -> list[str]:
    """The ``parvox train`` command line of one measurement."""
    cmd = [sys.executable, "-m", "parvox", "train", "--config", config, "--data", str(data),
           "--out", str(run), "--steps", str(steps), "--batch", str(batch), "--views",
           f"{views}-{views}", "--workers", "1", "--checkpoint-every", str(10**9),
           "--parallel", strategy, "--nproc", str(nproc)]
    if device == "cpu":
        cmd += ["--threads", "1"]
    return cmd + ["--bf16"] * bf16


def measure(data: Path, work: Path, config: str, strategy: str, nproc: int, batch: int,
            views: int, steps: int, warmup: int, bf16: bool = False, device: str = "cpu", *,
            extra: Sequence[str] = (), wrap: Callable[[list[str]], list[list[str]]] | None = None,
            tag: str = "") -> Run:
    """Run ``parvox train`` once and read its step times and bytes. ``extra`` adds flags,
    ``wrap`` turns the command into the ones run at once (in a rate-limited namespace, say, or
    one per node) and ``tag`` names the run folder apart from others of the same settings."""
    precision = "bf16" if bf16 else "fp32"
    run = work / f"{config}-{strategy}-{nproc}-{batch}x{views}-{precision}-{steps}{tag}"
    cmd = train_command(data, run, config, strategy, nproc, batch, views, steps, bf16,
                        device) + list(extra)
    wrap = wrap or (lambda c: [c])
    shutil.rmtree(run, ignore_errors=True)  # a run folder left by an earlier --work run
    env = dict(os.environ, **({"CUDA_VISIBLE_DEVICES": ""} if device == "cpu" else {}))
    stderr = run_all(wrap(cmd), env)
    lines = [json.loads(x) for x in (run / "train_log.jsonl").read_text().splitlines()]
    comm_file = run / "comm.json"
    comm = json.loads(comm_file.read_text()) if comm_file.exists() else {}
    timed = lines[warmup:] or lines
    shown = " & ".join(shlex.join(c) for c in wrap(["python", *cmd[1:]]))
    return Run(config, strategy, nproc, batch, views, bf16, device,
               [x["step_s"] for x in timed], comm, shown,
               [x.get("data_wait_s", 0.0) for x in timed], stderr)


def run_all(cmds: list[list[str]], env: dict[str, str]) -> str:
    """Run ``cmds`` at once and wait for all; their stderr, joined. One that fails raises with
    its command line and the end of its stderr. Each writes its stderr to a file of its own:
    pipes read one after the other would stall a later process that fills its pipe."""
    with tempfile.TemporaryDirectory(prefix="parvox-run-") as tmp:
        logs = [Path(tmp) / f"{i}.err" for i in range(len(cmds))]
        with ExitStack() as files:
            procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, env=env,
                                      stderr=files.enter_context(open(log, "w")))
                     for c, log in zip(cmds, logs, strict=True)]
            for proc in procs:
                proc.wait()
        errs = [log.read_text(errors="replace") for log in logs]
    for c, p, err in zip(cmds, procs, errs, strict=True):
        if p.returncode:
            raise RuntimeError(f"{shlex.join(c)} failed ({p.returncode}):\n{err[-3000:]}")
    return "".join(errs)


@dataclass
class Scaling:
    """Strong and weak scaling of one config: runs keyed by (strategy, K, global batch)."""

    config: str
    batch: int
    views: int
    bf16: bool
    device: str
    nprocs: list[int]
    steps: int
    warmup: int
    runs: dict[tuple[str, int, int], Run] = field(default_factory=dict)

    @property
    def per_rank(self) -> int:
        """Batch per rank of the weak-scaling runs."""
        return self.batch // max(self.nprocs)

    def strategies(self, nproc: int) -> tuple[str, ...]:
        return STRATEGIES if nproc > 1 else ("ddp",)

    def strong(self, strategy: str, nproc: int) -> Run:
        return self.runs[(strategy if nproc > 1 else "ddp", nproc, self.batch)]

    def weak(self, strategy: str, nproc: int) -> Run:
        return self.runs[(strategy if nproc > 1 else "ddp", nproc, self.per_rank * nproc)]

    def rows(self) -> list[tuple[object, ...]]:
        """(K, plan, strong samples/s, step spread, strong eff., weak samples/s, weak eff.,
        MB sent per rank per step) per K and strategy (efficiencies need K = 1)."""
        has_base = 1 in self.nprocs
        base_strong = self.strong("ddp", 1).samples_per_s if has_base else 0.0
        base_weak = self.weak("ddp", 1).samples_per_s if has_base else 0.0
        rows = []
        for k in self.nprocs:
            for strategy in self.strategies(k):
                strong, weak = self.strong(strategy, k), self.weak(strategy, k)
                spread = (f"{min(strong.step_times) * 1e3:,.0f}–"
                          f"{max(strong.step_times) * 1e3:,.0f}")
                rows.append((k, strong.plan, strong.samples_per_s, spread,
                             strong.samples_per_s / base_strong / k if has_base else "-",
                             weak.samples_per_s,
                             weak.samples_per_s / base_weak / k if has_base else "-",
                             strong.bytes_sent / 1e6))
        return rows

    def ratios(self) -> list[tuple[int, str, float, float]]:
        """(K, strategy, strong samples/s over ddp's, weak over ddp's) for the owt plans."""
        out = []
        for k in self.nprocs:
            if k == 1:
                continue
            for strategy in STRATEGIES[1:]:
                out.append((k, strategy,
                            self.strong(strategy, k).samples_per_s
                            / self.strong("ddp", k).samples_per_s,
                            self.weak(strategy, k).samples_per_s
                            / self.weak("ddp", k).samples_per_s))
        return out

    def title(self) -> str:
        precision = "bf16 autocast" if self.bf16 else "fp32"
        ranks = "one thread per rank, gloo" if self.device == "cpu" else "one GPU per rank, NCCL"
        timed = self.steps - self.warmup
        return (f"{self.config}, {precision}, global batch {self.batch} × {self.views} views "
                f"(strong), {self.per_rank} per rank (weak), {ranks}; median of {timed} steps "
                f"after {self.warmup} warm-up steps")


def scaling(data: Path, work: Path, config: str, nprocs: list[int], batch: int, views: int,
            steps: int, warmup: int, bf16: bool = False, device: str = "cpu",
            log=None) -> Scaling:
    """Every strategy at every K, at the global batch and at the weak-scaling batch."""
    result = Scaling(config, batch, views, bf16, device, nprocs, steps, warmup)
    for k in nprocs:
        for strategy in result.strategies(k):
            for global_batch in dict.fromkeys((batch, result.per_rank * k)):
                if log:
                    log(f"{config} {strategy} K={k} batch {global_batch}×{views}")
                result.runs[(strategy, k, global_batch)] = measure(
                    data, work, config, strategy, k, global_batch, views, steps, warmup, bf16,
                    device)
    return result


def scaling_tables(result: Scaling) -> str:
    """The scaling table and the owt / ddp ratios."""
    table = markdown_table(["K", "plan", "samples/s (strong)", "step ms (min–max)",
                            "strong efficiency", "samples/s (weak)", "weak efficiency",
                            "MB/rank/step"], result.rows())
    ratios = markdown_table(["K", "plan", "samples/s ÷ ddp's (strong)",
                             "samples/s ÷ ddp's (weak)"], result.ratios())
    return f"{result.title()}\n\n{table}\n\n{ratios}"


@cache
def analytical_bytes(config: str, strategy: str, nproc: int, batch: int, views: int,
                     bf16: bool = False,
                     styles: tuple[tuple[str, str], ...] = ()) -> tuple[float, float]:
    """(gradient bytes, activation bytes) per rank per step from ``parvox plan``, for the
    plan's styles or, given, the ``styles`` a run used (``auto`` picks them at run time)."""
    report = plan_report(create_model(config), dict(styles) if styles else strategy, nproc,
                         batch, views, bf16=bf16)
    layers = report["layers"]
    grads = sum(x["bytes_per_rank_per_step"] for x in layers
                if not is_model_parallel(x["strategy"]))
    acts = sum(x["bytes_per_rank_per_step"] for x in layers if is_model_parallel(x["strategy"]))
    return grads, acts


def bytes_rows(runs: list[Run]) -> list[tuple[object, ...]]:
    """Measured against analytical bytes per rank per step, per run with K > 1."""
    rows = []
    for run in runs:
        if run.nproc < 2:
            continue
        styles = tuple(sorted(run.comm.get("styles", {}).items()))
        grads, acts = analytical_bytes(run.config, run.strategy, run.nproc, run.batch,
                                       run.views, run.bf16, styles)
        labels = run.comm.get("last_step_bytes", {})
        measured_grads = labels.get("ddp-gradients", 0.0)
        measured_acts = run.bytes_sent - measured_grads
        rows.append((run.config, run.nproc, run.strategy, f"{run.batch}×{run.views}",
                     "bf16" if run.bf16 else "fp32",
                     f"{run.bytes_sent / 1e6:.3f} ({measured_grads / 1e6:.3f} + "
                     f"{measured_acts / 1e6:.3f})",
                     f"{(grads + acts) / 1e6:.3f} ({grads / 1e6:.3f} + {acts / 1e6:.3f})",
                     run.bytes_sent / (grads + acts) if grads + acts else float("nan")))
    return rows


def bytes_table(runs: list[Run]) -> str:
    return markdown_table(["config", "K", "plan", "global B×V", "precision",
                           "measured MB/rank/step (gradients + activations)",
                           "analytical MB (gradients + activations)", "measured ÷ analytical"],
                          bytes_rows(runs))


def bytes_runs(data: Path, work: Path, config: str, nproc: int, batch: int, views: int,
               steps: int = 2, bf16: bool = False, device: str = "cpu", log=None) -> list[Run]:
    """Short runs of every strategy at ``nproc`` ranks, for their bytes only."""
    out = []
    for strategy in STRATEGIES:
        if log:
            log(f"{config} {strategy} K={nproc} batch {batch}×{views} (bytes)")
        out.append(measure(data, work, config, strategy, nproc, batch, views, steps, 0, bf16,
                           device))
    return out


def plot_throughput(path: Path, results: list[Scaling]) -> None:
    """Strong-scaling samples/s vs K, one panel per config (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.5 * len(results), 3.6), squeeze=False)
    for ax, result in zip(axes[0], results, strict=True):
        ks = result.nprocs
        if 1 in ks:
            base = result.strong("ddp", 1).samples_per_s
            ax.plot(ks, [base * k for k in ks], ":", color="grey", label="linear")
        for strategy, marker in zip(STRATEGIES, "xosd^v<>", strict=False):
            ax.plot(ks, [result.strong(strategy, k).samples_per_s for k in ks],
                    marker + "-", label=strategy)
        precision = "bf16" if result.bf16 else "fp32"
        ax.set(xlabel="ranks K", ylabel="samples/s (global batch fixed)",
               title=f"{result.config}, {precision}, {result.batch}×{result.views}, "
                     f"{result.device}")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.title.set_fontsize(9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def make_data(folder: Path, per_class: int) -> Path:
    """A procedural dataset for the runs (``per_class`` models per class)."""
    if not (folder / "ShapeNet.json").exists():
        build_dataset(folder, procedural_jobs(per_class), show_progress=False)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="small")
    parser.add_argument("--nprocs", default="1,2")
    parser.add_argument("--batch", type=int, default=16, help="global batch (strong scaling)")
    parser.add_argument("--views", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--bf16", action="store_true", help="parvox train --bf16")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--bytes-nprocs", default="",
                        help="extra K (comma-separated) measured for bytes only")
    parser.add_argument("--bytes-steps", type=int, default=2)
    parser.add_argument("--per-class", type=int, default=4)
    parser.add_argument("--data", help="an existing dataset (default: build one)")
    parser.add_argument("--work", help="folder for the runs (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="parvox-throughput-"))
    data = Path(args.data) if args.data else make_data(work / "data", args.per_class)
    nprocs = [int(k) for k in args.nprocs.split(",")]
    if args.steps - args.warmup < 5:
        print(f"note: median of {args.steps - args.warmup} steps (fewer than 5)")
    try:
        for config in args.configs.split(","):
            result = scaling(data, work, config, nprocs, args.batch, args.views, args.steps,
                             args.warmup, args.bf16, args.device)
            runs = [r for r in result.runs.values() if r.batch == args.batch]
            for k in filter(None, args.bytes_nprocs.split(",")):
                runs += bytes_runs(data, work, config, int(k), args.batch, args.views,
                                   args.bytes_steps, args.bf16, args.device)
            print("\n" + scaling_tables(result) + "\n")
            print(bytes_table(runs))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
