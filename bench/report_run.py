"""The running part of ``bench/report.py``: the sizes of a run, the measurements it collects
(:class:`Report`), the benchmark runs that fill it, the analytical projection and the plots.

The scoring of the targets is in ``report_targets.py``, the text of ``docs/BENCHMARKS.md`` in
``report_template.py``.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import class_prior_iou
import data_bench
import links
import model_bench
import projection
import throughput
import torch

from parvox.models import model_config

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent

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
    links_config: str = "small"  # rate-limited links (bench/links.py), K = 2, fp32
    links_gbits: str = "1,10,25,unlimited"
    links_batch: int = 8
    links_views: int = 5
    links_steps: int = 8
    links_warmup: int = 2
    links_rounds: int = 3  # every plan 3 times per link, alternated (auto's 3 % needs it)
    bf16_links_config: str = "r2n2-res-gru"  # the same in bf16, where the CPU has native bf16
    bf16_links_gbits: str = "1,unlimited"


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
    bytes_steps=1, train_per_class=1, gpu_steps=3, links_config="tiny",
    links_gbits="1,unlimited", links_views=2, links_steps=3, links_warmup=1, links_rounds=1)


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
    stamp: str = ""  # docs/BENCHMARKS.md's first line (bench/docstamp.py), taken likewise
    links: links.Result | None = None
    links_duplex: links.Result | None = None  # the same over veth pairs (full duplex)
    links_bf16: links.Result | None = None  # bf16_links_config in bf16 over the shared lo
    crossover: str = ""  # bench/collectives.py --crossover at 1 Gbit/s: its printed tables


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- benchmarks


def train_data(report: Report) -> Path:
    return throughput.make_data(report.work / "train-data", report.settings.train_per_class)


def run_throughput(report: Report) -> None:
    """The scaling runs of every config, then the runs for bytes at larger K; a config that
    fails is reported and the others still run."""
    s = report.settings
    data = train_data(report)
    errors = []
    for spec in s.throughput:
        if spec.bf16 and not native_bf16():
            note = (f"{spec.config} skipped: this CPU has no native bf16 (emulated bf16 is ~20x "
                    "slower than fp32, and r2n2-res-gru in fp32 takes ~30 s a step on one "
                    "thread here), so its bf16 scaling rows would measure the emulation")
            errors.append(note)
            log(note)
            continue
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


def native_bf16() -> bool:
    """Whether this CPU has bf16 arithmetic (AVX-512 BF16 or AMX): elsewhere torch emulates it,
    ~20x slower than fp32 (45 s against 2.5 s a step of small on an AVX2-only EPYC), and the
    bf16 rows would measure the emulation."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


#: The crossover measurement: small's fused gate FC (512 -> 3·64·4³) at 1 Gbit/s.
CROSSOVER_ARGS = ("--in", "512", "--out", "12288", "--crossover", "64,128,256,384,512,768,1024",
                  "--repeats", "3", "--gbits", "1")


def run_links(report: Report) -> None:
    """Every plan over rate-limited links (bench/links.py); needs a network namespace."""
    from netns import namespace_available, veth_available

    if not namespace_available():
        return  # links_section says why
    s = report.settings
    cmd = [sys.executable, str(ROOT / "bench" / "collectives.py"), *CROSSOVER_ARGS]
    log("FC crossover at 1 Gbit/s: " + " ".join(cmd[1:]))
    for attempt in (1, 2):  # a second try: the free port it picked may be taken meanwhile
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode == 0:
            break
        log(f"crossover run {attempt} failed: {done.stderr.strip()[-1500:]}")
    done.check_returncode()
    report.crossover = done.stdout.strip()

    def bench(config: str, gbits: str, bf16: bool, rounds: int, duplex: bool) -> links.Result:
        folder = "links" + "-bf16" * bf16 + "-duplex" * duplex
        return links.links_bench(
            train_data(report), report.work / folder, config, links.parse_links(gbits),
            list(links.PLANS), 2, s.links_batch, s.links_views, s.links_steps, s.links_warmup,
            bf16, log=log, duplex=duplex, rounds=rounds)

    report.links = bench(s.links_config, s.links_gbits, False, s.links_rounds, duplex=False)
    if veth_available():
        report.links_duplex = bench(s.links_config, s.links_gbits, False, s.links_rounds,
                                    duplex=True)
    else:
        log("links: no veth pair can be made here; full-duplex links skipped")
    if native_bf16() and not report.quick:
        report.links_bf16 = bench(s.bf16_links_config, s.bf16_links_gbits, True, 1,
                                  duplex=False)
    else:
        log(f"links: {s.bf16_links_config} in bf16 needs native bf16; not measured")


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
    precisions = [p for p in model_bench.PRECISIONS
                  if p != "bf16" or device != "cpu" or native_bf16()]
    peaks = model_bench.matmul_peaks(device, precisions)
    results, errors = [], []
    if device == "cpu":
        report.peaks, report.models = peaks, results
    else:
        report.gpu["peaks"], report.gpu["models"] = peaks, results
    for config, batch, views in report.settings.model_runs:
        for precision in model_bench.PRECISIONS:
            if precision not in precisions:
                log(f"model {config} bf16 skipped: no native bf16 on this CPU (emulated)")
                continue
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


# ---------------------------------------------------------------------------- projection


def s_cfg(report: Report) -> str:
    return report.settings.projection_config


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


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return commit + (" + uncommitted changes" if dirty else "")


def plots(report: Report) -> None:
    report.plots.mkdir(parents=True, exist_ok=True)
    if report.scalings:
        throughput.plot_throughput(report.plots / "throughput_vs_k.png", report.scalings)
    if report.links:
        links.plot_links(report.plots / "links.png", report.links)
    if report.links_duplex:
        links.plot_links(report.plots / "links_duplex.png", report.links_duplex)
    if report.links_bf16:
        links.plot_links(report.plots / "links_bf16.png", report.links_bf16)
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


