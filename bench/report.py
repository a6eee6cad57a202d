"""Run the benchmarks of ``bench/`` and write ``docs/BENCHMARKS.md`` (``make bench``).

The document is generated from scratch: a header with the machine, date, torch version and git
commit, a table of the targets (measured value, met or missed by how much, computed from the
numbers of this run), then one section per benchmark with the command that reproduces it, its
tables and plots (``docs/results/*.png``) and fixed explanatory text. Every sub-benchmark is
also a script of its own that prints the same tables.

    .venv/bin/python bench/report.py [--quick] [--out docs/BENCHMARKS.md] [--plots DIR]
        [--only throughput,model,...]

``--quick`` shrinks every benchmark (tiny configs, few steps: ~3 minutes, numbers meaningless)
to check the machinery; write it elsewhere with ``--out``. The full run takes ~15-25 minutes
on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import class_prior_iou  # noqa: E402
import data_bench  # noqa: E402
import model_bench  # noqa: E402
import projection  # noqa: E402
import throughput  # noqa: E402

from parvox.models import model_config  # noqa: E402
from parvox.progress import markdown_table  # noqa: E402

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
#: What ``--only`` selects (the analytical projection and the plots always run).
SECTIONS = ("throughput", "model", "data", "prior", "gpu")

#: Targets of issue 5 (and of issue 2 for the data rows).
OWT_OVER_DDP = 1.0
R2N2_SAMPLES_PER_S = 2.5
OF_PEAK = 0.75
LOADER_OVER_STEP = 3.0
NVLINK_SPEEDUP_K8 = 7.0
BUILD_S_PER_MODEL_CORE = 0.5
CLASS_PRIOR_IOU = 0.35

#: Recorded on one H100 in an earlier session (see the section "Recorded earlier").
H100_STEP_S = 0.043


@dataclass(frozen=True)
class ThroughputSpec:
    config: str
    batch: int
    views: int
    bf16: bool
    steps: int
    warmup: int


@dataclass(frozen=True)
class Settings:
    """Sizes of one report run."""

    data_per_class: int
    data_samples: int
    prior_train: int
    prior_heldout: int
    prior_classes: tuple[str, ...] | None
    model_runs: tuple[tuple[str, int, int], ...]  # (config, batch, views)
    model_steps: int
    throughput: tuple[ThroughputSpec, ...]
    nprocs: tuple[int, ...]
    bytes_config: str
    bytes_nprocs: tuple[int, ...]
    bytes_batch: int
    bytes_views: int
    bytes_steps: int
    train_per_class: int
    projection_config: str = "r2n2-res-gru"
    gpu_steps: int = 20


FULL = Settings(
    data_per_class=12, data_samples=800, prior_train=500, prior_heldout=500, prior_classes=None,
    model_runs=(("small", 16, 3), ("r2n2-res-gru", 16, 5)), model_steps=5,
    throughput=(ThroughputSpec("small", 16, 3, False, 20, 5),
                ThroughputSpec("r2n2-res-gru", 8, 5, True, 12, 3)),
    nprocs=(1, 2), bytes_config="small", bytes_nprocs=(4,), bytes_batch=16, bytes_views=3,
    bytes_steps=2, train_per_class=4)
QUICK = Settings(
    data_per_class=1, data_samples=48, prior_train=4, prior_heldout=2, prior_classes=None,
    model_runs=(("tiny", 4, 2), ("r2n2-res-gru", 1, 2)), model_steps=2,
    throughput=(ThroughputSpec("tiny", 8, 2, False, 3, 1),),
    nprocs=(1, 2), bytes_config="tiny", bytes_nprocs=(4,), bytes_batch=8, bytes_views=2,
    bytes_steps=1, train_per_class=1, gpu_steps=3)


@dataclass
class Target:
    name: str
    measured: str
    status: str
    met: bool | None  # None: not measured in this run


@dataclass
class Report:
    settings: Settings
    quick: bool
    plots: Path
    out: Path
    work: Path
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    data: data_bench.DataResult | None = None
    prior: list[class_prior_iou.Row] | None = None
    peaks: dict[str, float] = field(default_factory=dict)
    models: list[model_bench.ConfigResult] = field(default_factory=list)
    scalings: list[throughput.Scaling] = field(default_factory=list)
    byte_runs: list[throughput.Run] = field(default_factory=list)
    gpu: dict[str, object] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    load: list[float] = field(default_factory=list)
    cache: dict[tuple[object, ...], object] = field(default_factory=dict)
    only: str = ""  # --only, when given
    commit: str = ""  # the code that ran: taken before anything is written


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def py(script: str, *args: object) -> str:
    """A reproducing command line."""
    return shlex.join(["python", script, *map(str, args)])


# ---------------------------------------------------------------------------- running


def train_data(report: Report) -> Path:
    return throughput.make_data(report.work / "train-data", report.settings.train_per_class)


def run_throughput(report: Report) -> None:
    """The scaling runs of every config, then the runs for bytes at larger K; a config that
    fails is reported and the others still run."""
    s = report.settings
    data = train_data(report)
    errors = []
    for spec in s.throughput:
        try:
            result = throughput.scaling(data, report.work / "runs", spec.config,
                                        list(s.nprocs), spec.batch, spec.views, spec.steps,
                                        spec.warmup, spec.bf16, "cpu", log)
        except Exception:
            errors.append(traceback.format_exc())
            log(f"{spec.config} FAILED:\n{errors[-1]}")
            continue
        report.scalings.append(result)
        report.byte_runs += [r for r in result.runs.values()
                             if r.nproc > 1 and r.batch == spec.batch]
    for k in s.bytes_nprocs:
        try:
            report.byte_runs += throughput.bytes_runs(data, report.work / "runs",
                                                      s.bytes_config, k, s.bytes_batch,
                                                      s.bytes_views, s.bytes_steps, log=log)
        except Exception:
            errors.append(traceback.format_exc())
            log(f"bytes at K = {k} FAILED:\n{errors[-1]}")
    if errors:
        report.failures["throughput"] = "\n".join(errors)


def isolated(threads: int, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """``fn(*args, **kwargs)`` in a fresh process with ``threads`` torch threads: one
    configuration's state (a profiler run, another precision's oneDNN primitives and
    allocations) must not slow the next one. Measured here: r2n2-res-gru bf16 took 7.2 s per
    step right after the fp32 rows in the same process, 6.3 s alone."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, initializer=torch.set_num_threads,
                             initargs=(threads,)) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def run_model(report: Report, device: str = "cpu") -> list[model_bench.ConfigResult]:
    """Every config at both precisions; one that fails is reported, the others still run."""
    torch.set_num_threads(report.threads)
    peaks = model_bench.matmul_peaks(device)
    results, errors = [], []
    if device == "cpu":
        report.peaks, report.models = peaks, results
    else:
        report.gpu["peaks"], report.gpu["models"] = peaks, results
    for config, batch, views in report.settings.model_runs:
        for precision in model_bench.PRECISIONS:
            log(f"model {config} {precision} {batch}×{views} on {device}")
            try:
                results.append(isolated(
                    report.threads, model_bench.bench_config,
                    config, batch=batch, views=views, precision=precision, peaks=peaks,
                    device=device, profile=device == "cpu",
                    steps=report.settings.model_steps if device == "cpu"
                    else report.settings.gpu_steps))
            except Exception:
                errors.append(traceback.format_exc())
                log(f"model {config} {precision} FAILED:\n{errors[-1]}")
    if errors:
        raise RuntimeError("\n".join(errors))
    return results


def run_data(report: Report) -> None:
    s = report.settings
    report.data = data_bench.run(s.data_per_class, s.data_samples, loader_shapes(report))


def run_prior(report: Report) -> None:
    s = report.settings
    report.prior = class_prior_iou.run(s.prior_train, s.prior_heldout,
                                       list(s.prior_classes) if s.prior_classes else None)


def run_gpu(report: Report) -> None:
    """The CUDA counterparts, when this machine has a GPU: model step and plans over NCCL."""
    if not torch.cuda.is_available():
        return
    count = torch.cuda.device_count()
    report.gpu["name"] = torch.cuda.get_device_name(0)
    report.gpu["count"] = count
    errors = []
    try:
        run_model(report, "cuda")
    except Exception:
        errors.append(traceback.format_exc())
    nprocs = [k for k in (1, 2, 4, 8) if k <= count]
    report.gpu["scalings"] = []
    for spec in report.settings.throughput:
        batch = spec.batch * max(nprocs) * (1 if report.quick else 4)
        try:
            report.gpu["scalings"].append(throughput.scaling(
                train_data(report), report.work / "cuda-runs", spec.config, nprocs, batch,
                spec.views, report.settings.gpu_steps, report.settings.gpu_steps // 3, False,
                "cuda", log))
        except Exception:
            errors.append(traceback.format_exc())
    if errors:
        raise RuntimeError("\n".join(errors))


def loader_shapes(report: Report) -> list[tuple[int, int]]:
    """(image size, views) of every trained config of this run."""
    shapes = [(model_config(t.config).image_size, t.views) for t in report.settings.throughput]
    shapes += [(model_config(c).image_size, v) for c, _, v in report.settings.model_runs]
    return list(dict.fromkeys(shapes))


# ---------------------------------------------------------------------------- targets


def status(value: float, target: float, unit: str = "", higher: bool = True,
           fmt: str = "{:.2f}") -> tuple[str, bool]:
    """("met", True) or ("missed by X unit (Y %)", False)."""
    ok = value >= target if higher else value <= target
    if ok:
        margin = (value - target) if higher else (target - value)
        return f"met (by {fmt.format(margin)}{unit})", True
    short = (target - value) if higher else (value - target)
    return (f"**missed by {fmt.format(short)}{unit} ({short / target:.0%} of the target)**",
            False)


def model_result(report: Report, config: str, precision: str,
                 shape: tuple[int, int] | None = None) -> model_bench.ConfigResult | None:
    for r in report.models:
        if r.config == config and r.precision == precision and (
                shape is None or (r.batch, r.views) == shape):
            return r
    return None


def targets(report: Report) -> list[Target]:
    out: list[Target] = []
    # 1. owt >= ddp at every measured K
    for sc in report.scalings:
        ratios = sc.ratios()
        owt = [(k, strong, weak) for k, plan, strong, weak in ratios if plan == "owt"]
        overlap = [strong for _, plan, strong, _ in ratios if plan == "owt-overlap"]
        if not owt:
            continue
        worst = min(min(strong, weak) for _, strong, weak in owt)
        text, ok = status(worst, OWT_OVER_DDP, "×", fmt="{:.3f}")
        measured = ", ".join(f"K={k}: {strong:.3f}× (weak {weak:.3f}×)"
                             for k, strong, weak in owt)
        measured += f"; owt-overlap {', '.join(f'{x:.3f}×' for x in overlap)}"
        out.append(Target(f"owt samples/s ≥ ddp's at every measured K ({sc.config}, "
                          f"{'bf16' if sc.bf16 else 'fp32'}, {sc.batch}×{sc.views})",
                          measured, text, ok))
    # 2. r2n2-res-gru single-process speed and 3. fraction of the peak
    for precision in model_bench.PRECISIONS:
        r = model_result(report, "r2n2-res-gru", precision, (16, 5))
        name = f"r2n2-res-gru single process ≥ {R2N2_SAMPLES_PER_S} samples/s at 16 × 5 " \
               f"({precision}, {report.threads} threads)"
        if r is None:
            out.append(Target(name, "not measured at 16 × 5 in this run", "-", None))
            continue
        text, ok = status(r.samples_per_s, R2N2_SAMPLES_PER_S, " samples/s")
        out.append(Target(name, f"{r.samples_per_s:.2f} samples/s", text, ok))
    for precision in model_bench.PRECISIONS:
        r = model_result(report, "r2n2-res-gru", precision, (16, 5))
        name = f"r2n2-res-gru counted FLOP/s ≥ {OF_PEAK:.0%} of the {precision} matmul peak"
        if r is None:
            out.append(Target(name, "not measured at 16 × 5 in this run", "-", None))
            continue
        text, ok = status(r.of_peak * 100, OF_PEAK * 100, " points", fmt="{:.0f}")
        if r.of_peak > 1:  # more than the peak: the count exceeds the work executed
            text, ok = "not meaningful: above 100 % of the peak (section 4)", None
        out.append(Target(name, f"{r.gflops:,.0f} of {r.peak:,.0f} GFLOP/s = {r.of_peak:.0%}",
                          text, ok))
    # 4. loader vs the training step's consumption
    for config, rate, loader, _ in loader_ratios(report):
        text, ok = status(loader / rate, LOADER_OVER_STEP, "×", fmt="{:.1f}")
        out.append(Target(f"loader ≥ {LOADER_OVER_STEP:.0f}× the training step's consumption "
                          f"({config})",
                          f"{loader:,.0f} vs {rate:,.1f} samples/s = {loader / rate:.1f}×",
                          text, ok))
    # 5. projected owt speedup at K = 8 on the NVLink-class link
    step, where = gpu_step(report)
    table = bytes_by_k(report, 16, 5)
    value = projection.speedup(step, table[8][0], projection.LINKS["NVLink-class (450 GB/s)"], 8)
    text, ok = status(value, NVLINK_SPEEDUP_K8, "×")
    out.append(Target(f"projected owt speedup at K = 8, NVLink-class link (compute {where})",
                      f"{value:.2f}×", text, ok))
    # issue 2 targets kept in the report
    if report.data:
        build = {w: x for w, _, x in report.data.build}
        best = min(build.values())
        text, ok = status(best, BUILD_S_PER_MODEL_CORE, " s", higher=False, fmt="{:.3f}")
        shown = "; ".join(f"{w} worker{'s' * (w > 1)}: {x:.3f} s" for w, x in build.items())
        out.append(Target(f"dataset build ≤ {BUILD_S_PER_MODEL_CORE} s per model per core "
                          "(issue 2)", shown, text, ok))
    if report.prior:
        name, _, worst, _ = max(report.prior, key=lambda row: row[2])
        text, ok = status(worst, CLASS_PRIOR_IOU, "", higher=False, fmt="{:.3f}")
        out.append(Target(f"class-prior IoU ≤ {CLASS_PRIOR_IOU} for every class (issue 2)",
                          f"worst {worst:.3f} ({name})", text, ok))
    return out


def loader_ratios(report: Report) -> list[tuple[str, float, float, tuple[int, int]]]:
    """(config, fastest training samples/s of this run, loader samples/s with one process,
    (image size, views)) per config trained in the run."""
    if not report.data:
        return []
    rates: dict[tuple[str, int], float] = {}
    for sc in report.scalings:
        for run in sc.runs.values():
            key = (run.config, run.views)
            rates[key] = max(rates.get(key, 0.0), run.samples_per_s)
    for r in report.models:
        key = (r.config, r.views)
        rates[key] = max(rates.get(key, 0.0), r.samples_per_s)
    out = []
    for (config, views), rate in rates.items():
        size = model_config(config).image_size
        loader = report.data.loader_rate(size, views, 0)
        if loader is not None:
            out.append((config, rate, loader, (size, views)))
    return out


def projection_model(report: Report):
    from parvox.models import create_model

    key = ("model", report.settings.projection_config)
    if key not in report.cache:
        report.cache[key] = create_model(report.settings.projection_config)
    return report.cache[key]


def bytes_by_k(report: Report, per_rank: int, views: int,
               ks: tuple[int, ...] = projection.KS) -> dict[int, tuple[float, float]]:
    """Analytical (owt, ddp) bytes of the projection config (``parvox plan`` runs the model
    once per call: computed once per report)."""
    key = ("bytes", per_rank, views, ks)
    if key not in report.cache:
        report.cache[key] = projection.bytes_table(projection_model(report), per_rank, views,
                                                   ks)
    return report.cache[key]  # type: ignore[return-value]


def comm_rows(report: Report) -> list[tuple[object, ...]]:
    key = ("comm rows",)
    if key not in report.cache:
        report.cache[key] = projection.comm_rows(projection_model(report),
                                                 bytes_by_k(report, 16, 5), 16, 5)
    return report.cache[key]  # type: ignore[return-value]


def gpu_step(report: Report) -> tuple[float, str]:
    """Per-rank compute of the GPU-class projection: measured on this run's GPU, else the H100
    step recorded earlier (r2n2-res-gru, fp32, 16 × 5)."""
    for r in report.gpu.get("models", []):
        if (r.config, r.precision, r.batch, r.views) == ("r2n2-res-gru", "fp32", 16, 5):
            return r.seconds, f"{r.seconds * 1e3:.0f} ms measured on {report.gpu['name']}"
    return H100_STEP_S, f"{H100_STEP_S * 1e3:.0f} ms, one H100, recorded earlier"


# ---------------------------------------------------------------------------- writing


def machine() -> dict[str, str]:
    info = {"cpu": platform.processor() or platform.machine(), "flags": ""}
    try:
        text = Path("/proc/cpuinfo").read_text()
        for line in text.splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
                info["flags"] = ", ".join(f"{f} {'yes' if f in flags else 'no'}"
                                          for f in wanted)
                break
    except OSError:
        pass
    try:
        kb = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                  if x.startswith("MemTotal"))
        info["memory"] = f"{kb / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        info["memory"] = "?"
    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        info["gpu"] = ", ".join(names)
    elif shutil.which("nvidia-smi"):
        done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
        info["gpu"] = (done.stdout.strip().replace("\n", "; ") or "none") + \
            " (not usable by this torch build)"
    else:
        info["gpu"] = "none"
    return info


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return commit + (" + uncommitted changes" if dirty else "")


def header(report: Report, total: float) -> list[str]:
    m = machine()
    quick = " --quick" if report.quick else ""
    out = "" if report.out == ROOT / "docs/BENCHMARKS.md" else f" --out {report.out}"
    if report.plots != report.out.parent / "results":
        out += f" --plots {report.plots}"
    if report.only:
        out += f" --only {report.only}"
    cmd = f"python bench/report.py{quick}{out}"
    lines = [
        "# Benchmarks", "",
        "Generated by `make bench` (`bench/report.py`), which runs the scripts of `bench/` and "
        "writes this file from scratch: do not edit it by hand (the fixed text lives in "
        "`bench/report.py`). Every number below was measured in the run described here, "
        "except the section *Recorded earlier on a GPU machine*.", "",
    ]
    if report.quick:
        lines += ["> **`--quick` run: tiny configs and step counts, for checking the machinery "
                  "only. The numbers mean nothing.**", ""]
    lines += [
        "| | |", "|---|---|",
        f"| date | {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC |",
        f"| machine | {m['cpu']}, {os.cpu_count()} cores ({platform.machine()}), "
        f"{m['memory']} memory |",
        f"| CPU features | {m['flags']} |",
        f"| GPU | {m['gpu']} |",
        f"| software | torch {torch.__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()} |",
        f"| git commit | {report.commit or git_commit()} |",
        f"| command | `{cmd}` ({total / 60:.1f} minutes) |",
        f"| load average (1 min) | {report.load[0]:.2f} at the start, {report.load[-1]:.2f} at "
        "the end |", "",
        "The development machine's 2 cores are shared with other jobs: speed numbers move "
        "between runs (10–20 % is common); a load average well above 0 at the start or end "
        "means other work shared the cores during the run.", "",
    ]
    return lines


def target_section(report: Report) -> list[str]:
    rows = targets(report)
    lines = ["## Targets", "", "| target | measured | status |", "|---|---|---|"]
    lines += [f"| {t.name} | {t.measured} | {t.status} |" for t in rows]
    met, missed = sum(t.met is True for t in rows), sum(t.met is False for t in rows)
    lines += ["", f"Met: {met}; missed: {missed}"
              + (" (the sections below say why)" if missed else "")
              + (f"; not measured or not meaningful in this run: {len(rows) - met - missed}"
                 if len(rows) > met + missed else "") + "."]
    return lines + [""]


def failed(report: Report, name: str) -> list[str]:
    if name in report.failures:
        return ["**This benchmark failed in this run:**", "", "```",
                report.failures[name].strip()[-2500:], "```", ""]
    return []


def rel(report: Report, path: Path) -> str:
    return os.path.relpath(path, report.out.parent)


def throughput_section(report: Report) -> list[str]:
    s = report.settings
    lines = ["## 1. Training throughput of the parallel plans", ""]
    lines += failed(report, "throughput")
    if not report.scalings:
        return lines
    lines += [
        "Each point is a real `parvox train` run (launcher, data sharding, collectives over "
        "gloo on the CPU, one thread per rank); samples/s is the global batch over the median "
        "step time after the warm-up steps, read from `RUN/train_log.jsonl` (the step: forward, "
        "backward, communication, Adam; data loading runs in the loader's worker process). "
        "Strong scaling keeps the global batch, weak scaling the batch per rank; efficiency is "
        "samples/s ÷ (K × the single process's samples/s at the same global batch, resp. at "
        "the per-rank batch).", "",
    ]
    cores = os.cpu_count() or 1
    for sc, spec in zip(report.scalings, s.throughput, strict=True):
        cmd = py("bench/throughput.py", "--configs", sc.config, "--nprocs",
                 ",".join(map(str, sc.nprocs)), "--batch", sc.batch, "--views", sc.views,
                 "--steps", spec.steps, "--warmup", spec.warmup) + " --bf16" * sc.bf16
        lines += [f"### {sc.config}", "", f"Command: `{cmd}`", "",
                  throughput.scaling_tables(sc), ""]
        lines += owt_commentary(sc)
    big = max(s.nprocs)
    notes = [
        f"* K > {big} is not measured for speed: this machine has {cores} cores, so {2 * big} "
        "single-thread ranks would time-share them and the numbers would measure the "
        "scheduler, not the plans (K = 4 is run for its bytes only, section 2)."
        if cores < 2 * big else f"* K up to {big} measured.",
        "* `r2n2-res-gru` runs with bf16 autocast (`parvox train --bf16`) and a reduced global "
        "batch: in fp32 a 16 × 5 step takes ~27 s with one thread, too long for `make bench`; "
        "the batch is stated in its table."
        if any(t.config == "r2n2-res-gru" and t.bf16 for t in s.throughput) else "",
        "* `owt-overlap` moves the same bytes as `owt` in 2K collectives per FC group (K "
        "broadcasts and K gathers forward) instead of 2, to overlap them with compute; on "
        "loopback gloo there is little communication time to hide.",
    ]
    lines += [f"![throughput vs K]({rel(report, report.plots / 'throughput_vs_k.png')})", "",
              *filter(None, notes), ""]
    return lines


def owt_commentary(sc: throughput.Scaling) -> list[str]:
    """Why owt is (or is not) faster than ddp, from the runs' numbers."""
    out = []
    for k in sc.nprocs:
        if k == 1:
            continue
        ddp, owt = sc.strong("ddp", k), sc.strong("owt", k)
        diff = (owt.seconds - ddp.seconds) * 1e3
        spread = max(max(r.step_times) - min(r.step_times) for r in (ddp, owt)) * 1e3
        saved = (ddp.bytes_sent - owt.bytes_sent) / 1e6
        verdict = "faster" if diff < 0 else "slower"
        text = (f"At K = {k}, `owt`'s median step is {abs(diff):,.0f} ms {verdict} than "
                f"`ddp`'s ({owt.seconds * 1e3:,.0f} vs {ddp.seconds * 1e3:,.0f} ms) while "
                f"sending {saved:,.1f} MB less per rank per step "
                f"({owt.bytes_sent / 1e6:,.1f} vs {ddp.bytes_sent / 1e6:,.1f} MB).")
        if diff > 0:
            text += (f" The difference is {'within' if diff <= spread else 'larger than'} the "
                     f"spread of the timed steps ({spread:,.0f} ms)"
                     + (": run-to-run noise on the shared cores, not a property of the plan."
                        if diff <= spread else
                        ": on loopback gloo the bytes cost little, while `owt`'s 4 collectives per "
                        "FC group (all-gather and all-to-all forward, all-to-all and "
                        "reduce-scatter backward) are synchronous, on the critical path, and "
                        "`ddp`'s one gradient all-reduce runs in DDP buckets overlapped with the "
                        "backward pass."))
        out.append(text)
    return out + [""]


def comm_section(report: Report) -> list[str]:
    lines = ["## 2. Communication bytes per rank per step", ""]
    lines += failed(report, "throughput")
    if report.byte_runs:
        s = report.settings
        extra = ", ".join(map(str, s.bytes_nprocs))
        cmd = py("bench/throughput.py", "--configs", s.bytes_config, "--nprocs", "1,2",
                 "--batch", s.bytes_batch, "--views", s.bytes_views, "--bytes-nprocs", extra,
                 "--bytes-steps", s.bytes_steps)
        lines += [
            "### Measured against analytical", "",
            "Measured: `RUN/comm.json` of the K = 2 throughput runs above and of "
            f"{s.bytes_steps}-step runs at K = {extra} (bytes counted by the collectives as "
            "the ring algorithms move them, the small per-step metrics all-reduce left out); "
            "analytical: `parvox plan` (`parvox.parallel.analysis.plan_report`) for the same "
            "config, K, global batch and views. The plan counts float32 activations; with "
            "bf16 autocast the model-parallel FCs exchange bf16 activations (2 bytes), so "
            "the analytical activation bytes are halved for bf16 runs (gradients stay "
            "float32).", "",
            f"Command (the K = {extra} rows): `{cmd}`", "",
            throughput.bytes_table(report.byte_runs), "",
        ]
        worst = max(abs(r[-1] - 1) for r in throughput.bytes_rows(report.byte_runs))
        lines += [f"Largest relative difference, measured vs analytical: {worst:.2%}.", ""]
    lines += [
        "### Analytical, K = 2 … 64", "",
        f"`{s_cfg(report)}`, 16 samples × 5 views per rank (weak scaling, global batch "
        "16 K), float32: `python bench/projection.py --config r2n2-res-gru --per-rank 16 "
        "--views 5`", "",
        projection.comm_table(comm_rows(report)), "",
        bytes_summary(report),
        "* `ddp` all-reduces every gradient (2 (K−1)/K × 4 P bytes, bounded by 8 P); `owt` "
        "all-reduces only the conv gradients and moves the FC activations instead, which grow "
        "with the global batch. \"batch where ddp would win\": the global batch above which "
        "`owt` sends more than `ddp` at that K (bytes are linear in the batch).", "",
        f"![bytes vs K]({rel(report, report.plots / 'bytes_vs_k.png')})", "",
    ]
    return lines


def bytes_summary(report: Report) -> str:
    """One line on owt / ddp bytes across K, from the analytical table."""
    rows = [row for row in comm_rows(report) if row[0] > 1]
    low = [row[4] for row in rows if row[0] <= 8]
    last = rows[-1]
    owt8, ddp8 = bytes_by_k(report, 3, 5, (8,))[8]
    return (f"* `owt` sends {min(low):.2f}–{max(low):.2f} of `ddp`'s bytes for K ≤ 8 at 16 "
            f"samples per rank, {last[4]:.2f} at K = {last[0]}: its activation traffic grows "
            "with the global batch, and above the last column's batch `ddp` sends less. At "
            "issue 4's setting (3 samples per rank, K = 8, global batch 24; `parvox plan "
            "--config r2n2-res-gru --parallel owt --nproc 8 --batch 24 --views 5`): "
            f"{owt8 / 1e6:.1f} MB against {ddp8 / 1e6:.1f} MB ({owt8 / ddp8:.2f}).")


def s_cfg(report: Report) -> str:
    return report.settings.projection_config


def projection_section(report: Report) -> list[str]:
    lines = ["## 3. Projected step time and speedup, K = 1 … 64", ""]
    lines += failed(report, "projection")
    step, where = gpu_step(report)
    table = bytes_by_k(report, 16, 5)
    lines += [
        "Model (stated, not measured on a multi-GPU machine):", "",
        "* weak scaling, 16 samples × 5 views per rank, global batch 16 K;",
        "* compute per rank per step = the measured single-device step at 16 × 5 (the sum of "
        "the per-layer compute): the data-parallel convs process the per-rank batch on every "
        "rank and the model-parallel FC shards do FC(K b)/K = FC(b) work, so compute per rank "
        "does not change with K in either plan;",
        "* communication = analytical float32 bytes per rank (section 2) ÷ link bandwidth per "
        "direction, not overlapped with compute, latency ignored (conservative for "
        "bandwidth-bound steps; optimistic for latency-bound ones, i.e. small messages at "
        "large K);",
        "* step(K) = T1 + comm(K), speedup(K) = K × T1 / step(K);",
        "* links: 100 Gb/s Ethernet (12.5 GB/s) and an NVLink-class link (450 GB/s);",
        "* Krizhevsky (2014, Table 1) reports 1.95× / 3.74× / 6.25× at 2 / 4 / 8 GPUs for "
        "AlexNet with his schemes (b)/(c).", "",
        f"### GPU-class compute: {where}", "",
        f"Command: `python bench/projection.py --config {s_cfg(report)} --per-rank 16 "
        f"--views 5 --step-time {step:.4g}`", "",
    ]
    for name, bandwidth in projection.LINKS.items():
        lines += [f"{name}:", "",
                  projection.projection_table(projection.projection_rows(table, step,
                                                                         bandwidth)), ""]
    eth, nvl = (projection.projection_rows(table, step, bw) for bw in projection.LINKS.values())
    k8 = {row[0]: row for row in nvl}.get(8)
    e8 = {row[0]: row for row in eth}.get(8)
    if k8 and e8:
        lines += [
            f"* K = 8: projected `owt` speedup {k8[4]:.2f}× on the NVLink-class link (target ≥ "
            f"{NVLINK_SPEEDUP_K8}×, `ddp` {k8[3]:.2f}×) and {e8[4]:.2f}× on 100 Gb/s Ethernet "
            f"(`ddp` {e8[3]:.2f}×); Krizhevsky reported {projection.KRIZHEVSKY[8]}× for AlexNet "
            "at 8 GPUs. With this compute per step both plans are compute-bound on the "
            "NVLink-class link; the plan matters on Ethernet, where `ddp`'s gradient traffic "
            "costs more than `owt`'s activations.", ""]
    lines += [f"![speedup vs K]({rel(report, report.plots / 'speedup_vs_k.png')})", ""]
    cpu = model_result(report, s_cfg(report), "fp32")
    if cpu is not None:
        cpu_table = bytes_by_k(report, cpu.batch, cpu.views)
        rows = []
        for k in cpu_table:
            rows.append((k, *(projection.speedup(cpu.seconds, cpu_table[k][i], bw, k)
                              for bw in projection.LINKS.values() for i in (1, 0))))
        names = [f"{plan}, {link.split(' (')[0]}" for link in projection.LINKS
                 for plan in ("ddp", "owt")]
        lines += [
            f"### This machine's compute: {cpu.seconds:.2f} s per {cpu.batch} × {cpu.views} "
            f"step ({s_cfg(report)}, fp32, {report.threads} threads, section 4)", "",
            f"Command: `python bench/projection.py --config {s_cfg(report)} --per-rank "
            f"{cpu.batch} --views {cpu.views} --step-time {cpu.seconds:.4g}`", "",
            markdown_table(["K", *names], rows), "",
            "With a CPU's step time the communication is negligible on either link and both "
            "plans scale almost linearly: the plan matters once the compute is GPU-fast (the "
            "tables above).", "",
        ]
    return lines


def model_section(report: Report) -> list[str]:
    lines = ["## 4. Single-process efficiency", ""]
    lines += failed(report, "model")
    if not report.models:
        return lines
    cmds = []
    for config, batch, views in report.settings.model_runs:
        cmds.append(py("bench/model_bench.py", "--configs", config, "--batch", batch,
                       "--views", views, "--threads", report.threads, "--steps",
                       report.settings.model_steps, "--precisions", "fp32,bf16"))
    peaks = ", ".join(f"{k} {v:,.0f} GFLOP/s" for k, v in report.peaks.items())
    lines += [
        "Commands: " + "; ".join(f"`{c}`" for c in cmds), "",
        "One process, all cores (channels-last activations, oneDNN), random images and "
        "targets; the step is forward, voxel cross-entropy, backward and Adam; s/step is the "
        f"median of {report.settings.model_steps} steps after one warm-up step. GFLOP/step "
        "counts the convolutions and matrix products of forward + backward "
        "(`torch.utils.flop_counter`, as a direct convolution: the FLOPs the architecture "
        "needs; the column after it gives the part that multiplies zero padding, which the "
        "count includes and oneDNN's kernels skip); achieved GFLOP/s = counted FLOPs ÷ step "
        "time. The peak is the best of 5 2048² matrix products in the same precision, "
        f"measured in the same run (**{peaks}** at the start of the section), and for each "
        "row the best of that and of two more measurements just before and after its timed "
        "steps, so that a moment when other jobs held the cores does not flatter the "
        "fraction.", "",
        model_bench.table(report.models), "",
        "Where the time of one more step goes (`torch.profiler` self time of the "
        "conv/matmul operators; the rest of forward + backward; Adam timed apart):", "",
        model_bench.breakdown_table(report.models), "",
    ]
    lines += efficiency_commentary(report)
    return lines


def efficiency_commentary(report: Report) -> list[str]:
    out = []
    for r in report.models:
        if r.of_peak > 1:
            out.append(
                f"* {r.config} {r.precision}: the counted FLOP/s ({r.gflops:,.0f}) exceed the "
                f"measured {r.precision} matrix-product peak ({r.peak:,.0f}), which no kernel "
                "can do for the counted work: the kernels execute fewer multiply-adds than the "
                "direct convolution the count assumes (the zero-padding taps, "
                f"{r.padding_flops / r.flops:.1%} of the count, are skipped; oneDNN picks its "
                "algorithm per layer), or the cores were busier while the peak was measured "
                "than during the steps. The fraction of peak is therefore not a meaningful "
                "efficiency here.")
    r = model_result(report, "r2n2-res-gru", "bf16")
    if r is not None and r.breakdown:
        total = sum(r.breakdown.values())
        share = r.breakdown["conv/matmul"] / total
        kernel = (r.kernel_gflops or 0.0) / r.peak
        others = ", ".join(f"{op.removeprefix('aten::')} {t / total:.0%}"
                           for op, t in r.top_other)
        verdict = "meets" if r.of_peak >= OF_PEAK else "misses"
        out.append(
            f"* r2n2-res-gru bf16 ({r.batch} × {r.views}) {verdict} the {OF_PEAK:.0%} target at "
            f"{r.of_peak:.0%} of the "
            f"bf16 peak. From the profile: the conv/matmul operators take {share:.0%} of the "
            f"step and run at {kernel:.0%} of the peak on their own ({share:.0%} × {kernel:.0%}"
            f" ≈ {share * kernel:.0%}); the other {1 - share:.0%} of the step does none of the "
            f"counted FLOPs: Adam {r.breakdown['adam'] / total:.0%} (fused, memory-bound, fp32 "
            f"weights and state), and element-wise work, bf16 casts and the loss (costliest: "
            f"{others}). Reaching {OF_PEAK:.0%} would need the non-FLOP work to shrink "
            "(fused casts and activations) or the kernels to run closer to the "
            "peak.")
    cpu = model_result(report, "r2n2-res-gru", "fp32", (16, 5))
    fast = model_result(report, "r2n2-res-gru", "bf16", (16, 5))
    if cpu and fast:
        out.append(
            f"* bf16 autocast (`parvox train --bf16`: bf16 convolutions and matrix products, "
            f"fp32 weights, loss and Adam state) is {fast.samples_per_s / cpu.samples_per_s:.1f}"
            f"× faster than fp32 here ({fast.samples_per_s:.2f} vs {cpu.samples_per_s:.2f} "
            f"samples/s): this CPU has AVX-512 BF16 (bf16 peak {fast.peak / cpu.peak:.1f}× the "
            "fp32 one). Its accuracy cost is in docs/RESULTS.md.")
    out.append("* The step does the work of the architecture: transposed-convolution "
               "upsampling (no zero insertion), channels-last activations, all views of a "
               "batch through the encoder in one call, all gates' FCs in one pass before the "
               "recurrence.")
    return out + [""]


def data_section(report: Report) -> list[str]:
    s = report.settings
    lines = ["## 5. Data pipeline", ""]
    lines += failed(report, "data")
    if not report.data:
        return lines
    shapes = ",".join(f"{a}x{b}" for a, b in loader_shapes(report))
    cmd = py("bench/data_bench.py", "--per-class", s.data_per_class, "--samples",
             s.data_samples, "--loaders", shapes)
    lines += [
        f"Command: `{cmd}`", "",
        "Build: `parvox data build --source procedural` (24 OpenGL renders at 137×137, solid "
        "voxelisation, PNGs and binvox written) of 13 × "
        f"{s.data_per_class} models, wall seconds × workers ÷ models. Loader: training "
        "samples (random views, 127×127 crops of the renders resized to the model's input, "
        "random backgrounds, flips) through a `DataLoader` of batch 16, in the main process "
        "(0 workers: one core, the cost of `parvox train`'s default single loader worker) and "
        "with 2 workers.", "",
        data_bench.tables(report.data), "",
    ]
    ratios = loader_ratios(report)
    if ratios:
        rows = [(config, f"{size}×{size}, {views} views", rate, loader, loader / rate)
                for config, rate, loader, (size, views) in ratios]
        lines += [
            "Loader (one process) against the fastest training step of this run for the same "
            "config, input and views (sections 1 and 4):", "",
            markdown_table(["config", "input", "training samples/s",
                                       "loader samples/s (0 workers)", "loader ÷ training"],
                                      rows), "",
        ]
    waits = [(statistics.median(r.data_waits), r) for sc in report.scalings
             for r in sc.runs.values() if r.data_waits]
    if waits:
        wait, run = max(waits, key=lambda x: x[0] / x[1].seconds)
        lines += [
            f"* In the training runs of section 1 the step waited for data for at most "
            f"{wait * 1e3:,.0f} ms (median per step; {run.config}, {run.plan}, K = {run.nproc}, "
            f"against a {run.seconds * 1e3:,.0f} ms step): "
            + ("the loader worker kept up." if wait < 0.1 * run.seconds else
               "**the loader worker did not keep up there**.")]
    build = dict((w, x) for w, _, x in report.data.build)
    if 1 in build and 2 in build:
        lines += [
            f"* With 2 build processes the per-core cost is {build[2] / build[1]:.2f}× the "
            "single-process one: process start-up and two llvmpipe (Mesa's CPU OpenGL) "
            "contexts competing for the same cores.", ""]
    return lines


def prior_section(report: Report) -> list[str]:
    s = report.settings
    lines = ["## 6. Procedural data variety (class-prior IoU, issue 2)", ""]
    lines += failed(report, "prior")
    if not report.prior:
        return lines
    cmd = py("bench/class_prior_iou.py", "--train", s.prior_train, "--heldout",
             s.prior_heldout)
    lines += [
        f"Command: `{cmd}`", "",
        "How much one template explains a class: the mean 32³ occupancy of the training "
        "shapes, thresholded, scored by IoU against held-out shapes (lower: more intra-class "
        f"variety; target ≤ {CLASS_PRIOR_IOU} for every class). Large samples estimate what "
        "a large training split's mean grid scores; small ones (the script's default 40/20) "
        "read lower and vary by ±0.03 from sample to sample.", "",
        class_prior_iou.table(report.prior, s.prior_train, s.prior_heldout), "",
    ]
    over = [(name, score) for name, _, score, _ in report.prior if score > CLASS_PRIOR_IOU]
    if over:
        lines += [
            "Over the target: " + ", ".join(f"{n} ({x:.3f})" for n, x in over) + ": one "
            "thresholded mean shape already overlaps held-out shapes of these classes that "
            "much, i.e. the procedural generator varies them too little from seed to seed "
            "(a generator matter, parvox/data/procedural; it does not affect the speed "
            "numbers).", ""]
    return lines


def gpu_section(report: Report) -> list[str]:
    lines = []
    if report.gpu.get("name"):
        lines += [f"## GPU: {report.gpu['name']} ({report.gpu['count']} device(s)), this run",
                  ""]
        lines += failed(report, "gpu")
        if report.gpu.get("models"):
            peaks = ", ".join(f"{k} {v:,.0f} GFLOP/s" for k, v in report.gpu["peaks"].items())
            lines += ["Single process, `bench/model_bench.py --device cuda` "
                      f"(matmul peak: {peaks}):", "",
                      model_bench.table(report.gpu["models"]), ""]
        for sc in report.gpu.get("scalings", []):
            lines += [throughput.scaling_tables(sc), ""]
        if report.gpu.get("count") == 1:
            lines += ["One GPU: NCCL needs one GPU per rank, so only K = 1 runs on CUDA.", ""]
    elif "gpu" in report.failures:
        lines += ["## GPU, this run", ""] + failed(report, "gpu")
    lines += [
        "## Recorded earlier on a GPU machine (not re-run by `make bench`)", "",
        "Measured in an earlier session on a lent machine with one NVIDIA H100 80GB HBM3 and "
        "16 CPU cores (torch 2.11.0+cu130); kept as recorded, with their original commands. "
        "The GPU-class projection of section 3 uses the first row when no GPU is present.", "",
        "| what | command | result |", "|---|---|---|",
        "| `r2n2-res-gru` step, fp32, channels-last, 16 × 5 views | `python "
        "bench/model_bench.py --configs small,r2n2-res-gru --batch 16 --views 5 --device "
        "cuda` | 43 ms per step, 373 samples/s |",
        "| `r2n2-res-gru` step, bf16 autocast, 16 × 5 views | the same with `--bf16` | "
        "678 samples/s |",
        "| `small` step, fp32, batch 16 | the first command | 3130 samples/s |",
        "| dataset build, 6500 procedural models, 15 workers, NVIDIA's EGL | `parvox data "
        "build --per-class 500 --workers 15` | 35.0 s: 0.081 s per model per core |",
        "| training, `small`, 8000 steps × 64 samples | `python scripts/results.py --work "
        "runs/results --per-class 500 --steps 8000 --batch 64 --lr 5e-4 --config small "
        "--nproc 1 --parallel ddp` | 5.0 minutes including start-up (docs/RESULTS.md) |", "",
        "No CUDA/NCCL run of more than one rank exists: the lent machine had one GPU and NCCL "
        "refuses two ranks on one device (docs/PARALLELISM.md).", "",
    ]
    return lines


def runtime_section(report: Report) -> list[str]:
    rows = [(name, f"{seconds / 60:.1f}") for name, seconds in report.durations.items()]
    return ["## Section run times", "",
            markdown_table(["benchmark", "minutes"], rows), ""]


def plots(report: Report) -> None:
    report.plots.mkdir(parents=True, exist_ok=True)
    if report.scalings:
        throughput.plot_throughput(report.plots / "throughput_vs_k.png", report.scalings)
    panels = [(f"{s_cfg(report)}, 16 × 5 views per rank, fp32 (analytical)",
               bytes_by_k(report, 16, 5), {})]
    s = report.settings
    measured: dict[str, dict[int, float]] = {}
    for run in report.byte_runs:
        if (run.config, run.batch, run.views, run.bf16) == (s.bytes_config, s.bytes_batch,
                                                            s.bytes_views, False):
            measured.setdefault(run.strategy, {})[run.nproc] = run.bytes_sent
    if measured:
        ks = tuple(k for k in projection.KS if 1 < k <= s.bytes_batch)
        table = {k: (sum(throughput.analytical_bytes(s.bytes_config, "owt", k, s.bytes_batch,
                                                     s.bytes_views)),
                     sum(throughput.analytical_bytes(s.bytes_config, "ddp", k, s.bytes_batch,
                                                     s.bytes_views)))
                 for k in ks}
        panels.append((f"{s.bytes_config}, global batch {s.bytes_batch} × {s.bytes_views}, "
                       "fp32: measured vs analytical", table, measured))
    projection.plot_bytes(report.plots / "bytes_vs_k.png", panels)
    step, where = gpu_step(report)
    projection.plot_speedup(report.plots / "speedup_vs_k.png", bytes_by_k(report, 16, 5), step,
                            f"{s_cfg(report)}, 16 × 5 per rank, compute {where}")


def write(report: Report, total: float) -> None:
    sections = [throughput_section, comm_section, projection_section, model_section,
                data_section, prior_section, gpu_section, runtime_section]
    lines = header(report, total)
    for section in [target_section, *sections]:
        try:
            lines += section(report)
        except Exception:  # a section that cannot be written says so and the rest goes on
            trace = traceback.format_exc()
            log(f"writing {section.__name__} FAILED:\n{trace}")
            report.failures[section.__name__] = trace
            lines += [f"## {section.__name__}: could not be written", "", "```",
                      trace.strip()[-2500:], "```", ""]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    report.out.parent.mkdir(parents=True, exist_ok=True)
    report.out.write_text(text.rstrip() + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (~3 min) to check the "
                    "machinery; the numbers mean nothing")
    ap.add_argument("--out", default=str(ROOT / "docs/BENCHMARKS.md"), help="markdown path")
    ap.add_argument("--plots", help="folder of the PNGs (default: results/ beside --out)")
    ap.add_argument("--only", help=f"comma-separated subset of {','.join(SECTIONS)}")
    ap.add_argument("--work", help="work folder (default: a temporary one, removed)")
    args = ap.parse_args()
    out = Path(args.out).resolve()
    if args.quick and out == (ROOT / "docs/BENCHMARKS.md").resolve():
        ap.error("--quick numbers do not belong in docs/BENCHMARKS.md: give --out")
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    if only - set(SECTIONS):
        ap.error(f"--only: unknown {', '.join(sorted(only - set(SECTIONS)))}")
    work = Path(args.work or tempfile.mkdtemp(prefix="parvox-report-"))
    report = Report(QUICK if args.quick else FULL, args.quick,
                    Path(args.plots).resolve() if args.plots else out.parent / "results", out,
                    work)
    report.only = args.only or ""
    report.commit = git_commit()
    report.load.append(os.getloadavg()[0])
    start = time.perf_counter()
    steps: list[tuple[str, str, Callable[[Report], None]]] = [
        ("throughput", "training throughput and measured bytes", run_throughput),
        ("model", "single-process efficiency", run_model),
        ("data", "data pipeline", run_data),
        ("prior", "class-prior IoU", run_prior),
        ("gpu", "GPU (when present)", run_gpu),
    ]
    for key, title, fn in steps:
        if key not in only:
            continue
        log(f"{title} ...")
        t0 = time.perf_counter()
        try:
            fn(report)
        except Exception:  # one failed benchmark must not lose the others' numbers
            report.failures[key] = traceback.format_exc()
            log(f"{title} FAILED:\n{report.failures[key]}")
        report.durations[title] = time.perf_counter() - t0
        log(f"{title}: {report.durations[title]:.0f} s")
    t0 = time.perf_counter()
    try:
        plots(report)
    except Exception:
        report.failures["projection"] = traceback.format_exc()
        log(f"plots FAILED:\n{report.failures['projection']}")
    report.durations["projection (analytical) and plots"] = time.perf_counter() - t0
    report.load.append(os.getloadavg()[0])
    write(report, time.perf_counter() - start)
    log(f"wrote {out} and {report.plots} in {(time.perf_counter() - start) / 60:.1f} min")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
