"""Single-process training speed of two commits, side by side, alternating.

Identical code differs by up to 10 % between runs on shared cores, so a speed-up is measured by
alternating the two commits' own ``bench/model_bench.py`` ``--rounds`` times (each from a
temporary ``git worktree`` of its commit, with that commit's model code) and comparing medians.

Usage: ``python bench/ab_commits.py --before REV [--after HEAD] [--config r2n2-res-gru]
[--batch 16] [--views 5] [--precision fp32] [--threads 2] [--steps 3] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parvox.progress import markdown_table  # noqa: E402

#: model_bench's table row: "| config | precision | ... | step s | samples/s | ..." — the
#: samples/s value is read from its "samples/s" column.
_ROW = re.compile(r"^\|")


def _worktree(rev: str, parent: Path) -> Path:
    path = parent / rev.replace("/", "_")
    subprocess.run(["git", "worktree", "add", "--detach", str(path), rev], cwd=ROOT, check=True,
                   capture_output=True)
    return path


def _short(rev: str) -> str:
    """``rev`` as a short commit hash, so that the table says which code ran."""
    return subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


def samples_per_s(tree: Path, args: argparse.Namespace) -> float:
    """One run of ``tree``'s model_bench; its samples/s for the config."""
    cmd = [sys.executable, str(tree / "bench" / "model_bench.py"), "--configs", args.config,
           "--batch", str(args.batch), "--views", str(args.views), "--threads",
           str(args.threads), "--steps", str(args.steps), "--precisions", args.precision,
           "--no-profile"]
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env,
                         cwd=tree).stdout
    header, value = None, None
    for line in out.splitlines():
        if not _ROW.match(line):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None and "samples/s" in cells:
            header = cells
        elif header is not None and len(cells) == len(header) and cells[0] == args.config:
            value = float(cells[header.index("samples/s")])
            break
    if value is None:
        raise SystemExit(f"no samples/s row for {args.config} in:\n{out[-2000:]}")
    return value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", default="HEAD")
    ap.add_argument("--config", default="r2n2-res-gru")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--views", type=int, default=5)
    ap.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    args.before, args.after = _short(args.before), _short(args.after)  # "HEAD" as a hash
    with tempfile.TemporaryDirectory() as tmp:
        trees = {label: _worktree(rev, Path(tmp)) for label, rev in
                 (("before", args.before), ("after", args.after))}
        try:
            rates: dict[str, list[float]] = {"before": [], "after": []}
            for _ in range(args.rounds):
                for label, tree in trees.items():
                    rates[label].append(samples_per_s(tree, args))
                    print(f"{label}: {rates[label][-1]:.3f} samples/s", file=sys.stderr)
        finally:
            for tree in trees.values():
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                               check=False, capture_output=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"{args.config}, {args.precision}, {args.batch} × {args.views} views, "
          f"{args.threads} threads, {args.steps} timed steps per run, {args.rounds} alternated "
          f"rounds\n")
    print(markdown_table(["commit", "samples/s per round", "median"],
                         [(f"{label} ({rev})", ", ".join(f"{x:.3f}" for x in rates[label]),
                           f"{med[label]:.3f}")
                          for label, rev in (("before", args.before), ("after", args.after))]))
    print(f"\nafter ÷ before: {med['after'] / med['before']:.3f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
