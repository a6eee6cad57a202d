"""Run the benchmarks of ``bench/`` and write ``docs/BENCHMARKS.md`` (``make bench``).

The document is generated from scratch: a header with the machine, date, torch version and git
commit, a table of the targets (measured value, met or missed by how much, computed from the
numbers of this run), then one section per benchmark with the command that reproduces it, its
tables and plots (``docs/results/*.png``) and fixed explanatory text. Every sub-benchmark is
also a script of its own that prints the same tables.

    .venv/bin/python bench/report.py [--quick] [--out docs/BENCHMARKS.md] [--plots DIR]
        [--only throughput,model,...]

``--quick`` shrinks every benchmark (tiny configs, few steps: ~3 minutes, numbers meaningless)
to check the machinery; write it elsewhere with ``--out``. The full run takes ~25-30 minutes
on the 2-core development machine (28 min on an AMD EPYC with AVX2 on 2026-11-30).

The run is split in three modules beside this entry point: ``report_run.py`` (the sizes, the
measurements and the benchmark runs), ``report_targets.py`` (the targets scored against the
measurements) and ``report_template.py`` (the text of the document).
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docstamp import stamp  # noqa: E402
from report_run import (  # noqa: E402
    FULL,
    QUICK,
    ROOT,
    Report,
    git_commit,
    log,
    plots,
    run_data,
    run_gpu,
    run_links,
    run_model,
    run_prior,
    run_throughput,
)
from report_template import write  # noqa: E402

#: What ``--only`` selects (the analytical projection and the plots always run).
SECTIONS = ("throughput", "links", "model", "data", "prior", "gpu")
#: (``--only`` key, title in the log and the run-time table, benchmark), in running order.
STEPS: list[tuple[str, str, Callable[[Report], None]]] = [
    ("throughput", "training throughput and measured bytes", run_throughput),
    ("links", "rate-limited links", run_links),
    ("model", "single-process efficiency", run_model),
    ("data", "data pipeline", run_data),
    ("prior", "class-prior IoU", run_prior),
    ("gpu", "GPU (when present)", run_gpu),
]


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (~3 min) to check the "
                    "machinery; the numbers mean nothing")
    ap.add_argument("--out", default=str(ROOT / "docs/BENCHMARKS.md"), help="markdown path")
    ap.add_argument("--plots", help="folder of the PNGs (default: results/ beside --out)")
    ap.add_argument("--only", help=f"comma-separated subset of {','.join(SECTIONS)}")
    ap.add_argument("--work", help="work folder (default: a temporary one, removed)")
    return ap


def new_report(args: argparse.Namespace, ap: argparse.ArgumentParser) -> tuple[Report, set[str]]:
    """The empty report of this run and the benchmarks ``--only`` selects."""
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
    report.stamp = stamp("docs/BENCHMARKS.md")  # before anything runs: the code measured
    return report, only


def run_benchmarks(report: Report, only: set[str]) -> None:
    """The selected benchmarks in turn; one that fails is recorded and the others still run."""
    for key, title, fn in STEPS:
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


def run_plots(report: Report) -> None:
    """The analytical projection and the plots (always run)."""
    t0 = time.perf_counter()
    try:
        plots(report)
    except Exception:
        report.failures["projection"] = traceback.format_exc()
        log(f"plots FAILED:\n{report.failures['projection']}")
    report.durations["projection (analytical) and plots"] = time.perf_counter() - t0


def main() -> int:
    ap = parser()
    ap.add_argument("--save", help="also pickle the measurements here (for --render)")
    ap.add_argument("--render", help="write the doc from measurements saved with --save, "
                    "measuring nothing (after a fix to the text)")
    args = ap.parse_args()
    if args.render:
        with open(args.render, "rb") as handle:
            report, total = pickle.load(handle)
        write(report, total)
        log(f"wrote {report.out} from {args.render}")
        return 0
    report, only = new_report(args, ap)
    report.load.append(os.getloadavg()[0])
    start = time.perf_counter()
    run_benchmarks(report, only)
    run_plots(report)
    report.load.append(os.getloadavg()[0])
    if args.save:
        with open(args.save, "wb") as handle:
            pickle.dump((report, time.perf_counter() - start), handle)
    write(report, time.perf_counter() - start)
    log(f"wrote {report.out} and {report.plots} in "
        f"{(time.perf_counter() - start) / 60:.1f} min")
    if not args.work:
        shutil.rmtree(report.work, ignore_errors=True)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
