"""Produce docs/RESULTS.md: build a procedural dataset, train, evaluate, write the tables.

Usage (the numbers in docs/RESULTS.md came from the command recorded in that file)::

    python scripts/results.py --work runs/results --per-class 300 --steps 6000 --batch 32 \
        --samples ../shared/r2n2-samples [--nproc K --parallel owt] [--time-limit MIN] [--bf16]

Phases (each skipped when its output exists, so the script can be resumed):
1. ``parvox data build`` of ``--per-class`` procedural models per class;
2. ``parvox train --config small`` on its training split;
3. ``parvox eval`` on its test split (1-5 views) and on the real ShapeNet samples (evaluation
   only: never trained on), floors from the procedural training split;
4. ``RESULTS.md`` (and the two JSON reports) under ``--work``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from parvox.evaluate import report_table
from parvox.shared import shared_dir


def run(cmd: list[str]) -> float:
    """Run a parvox command; returns its wall time in seconds."""
    print("+", " ".join(cmd), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def parvox(*args: str) -> list[str]:
    return [sys.executable, "-m", "parvox", *args]


def device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"{platform.processor() or platform.machine()} CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="runs/results")
    parser.add_argument("--per-class", type=int, default=300)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", default="3e-4")
    parser.add_argument("--config", default="small")
    parser.add_argument("--build-workers", type=int, default=2)
    parser.add_argument("--loader-workers", type=int, default=2)
    parser.add_argument("--nproc", type=int, default=1)
    parser.add_argument("--parallel", default="ddp")
    parser.add_argument("--time-limit", type=float, help="training minutes")
    parser.add_argument("--bf16", action="store_true", help="train with bf16 autocast")
    parser.add_argument("--samples", default=str(shared_dir() / "r2n2-samples"))
    args = parser.parse_args()
    work = Path(args.work)
    data, run_dir = work / "data", work / "run"
    times = {}
    times["build"] = run(parvox("data", "build", str(data), "--per-class", str(args.per_class),
                                "--workers", str(args.build_workers)))
    if not (run_dir / "comm.json").exists() and not (run_dir / "done").exists():
        train = parvox("train", "--config", args.config, "--data", str(data), "--out",
                       str(run_dir), "--steps", str(args.steps), "--batch", str(args.batch),
                       "--lr", args.lr, "--views", "1-5", "--checkpoint-every", "1000",
                       "--workers", str(args.loader_workers), "--resume",
                       "--parallel", args.parallel, "--nproc", str(args.nproc))
        if args.time_limit:
            train += ["--time-limit", str(args.time_limit)]
        if args.bf16:
            train.append("--bf16")
        times["train"] = run(train)
        (run_dir / "done").write_text(json.dumps(times))
    reports = {}
    for name, root, extra in (("procedural", data, []),
                              ("real", Path(args.samples), ["--floors-from", str(data)])):
        path = work / f"eval-{name}.json"
        run(parvox("eval", "--checkpoint", str(run_dir), "--data", str(root), "--views",
                   "1,2,3,4,5", "--json", str(path), "--workers", str(args.loader_workers),
                   *extra))
        reports[name] = json.loads(path.read_text())
    write_results(work, args, reports, times)


def write_results(work: Path, args: argparse.Namespace, reports: dict, times: dict) -> None:
    meta = json.loads(max((work / "run" / "checkpoints").glob("step-*/meta.json"),
                          key=lambda p: int(p.parent.name[5:])).read_text())
    splits = json.loads((work / "data" / "ShapeNet.json").read_text())
    counts = {s: sum(len(e[s]) for e in splits) for s in ("train", "val", "test")}
    lines = [
        "# Results",
        "",
        f"Produced by `python scripts/results.py --work {args.work} --per-class "
        f"{args.per_class} --steps {args.steps} --batch {args.batch} --lr {args.lr} "
        f"--config {args.config} --nproc {args.nproc} --parallel {args.parallel}"
        + (f" --time-limit {args.time_limit}" if args.time_limit else "")
        + (" --bf16" if args.bf16 else "") + "` on "
        f"{device_name()}, torch {torch.__version__}.",
        "",
        f"* dataset: procedural, {args.per_class} models per class x 13 classes; "
        f"{counts['train']} train / {counts['val']} val / {counts['test']} test models, 24 views "
        "each;",
        f"* training: `{args.config}`, {meta['step']} steps of global batch {args.batch} "
        f"({meta['step'] * args.batch} samples, 1-5 views each"
        + (", bf16 autocast" if args.bf16 else "") + f"), Adam lr {args.lr} "
        f"(x0.1 at 75%), {times.get('train', float('nan')) / 60:.1f} minutes wall time "
        f"including start-up;",
        "* evaluation: Pix2Vox's protocol (first n views, centre crop, 240 background); floors "
        "from the procedural training split.",
        "",
        "## Procedural test split",
        "",
        report_table(reports["procedural"]),
        "",
        "## Real ShapeNet renders (`../shared/r2n2-samples`, never trained on)",
        "",
        report_table(reports["real"]),
        "",
    ]
    (work / "RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
