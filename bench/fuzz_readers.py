"""Fuzz every reader that outside input reaches, thousands of cases, and print a table.

Photos, binvox, ``rendering_metadata.txt``, ``ShapeNet.json``, run config files (JSON and
TOML) and the mesh formats of ``data build`` (OBJ, OFF, PLY, STL, GLB): each case is a valid
file mutated by hypothesis (``tests/fuzz_targets.py``); the reader must return or raise a
one-line ParvoxError within 5 s, under a 4 GiB address-space limit. Findings are listed
with the first failing input's size.

    .venv/bin/python bench/fuzz_readers.py [--cases-per-reader 800] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz_targets import TARGETS, Target, mutated, run_case  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

from parvox.progress import markdown_table  # noqa: E402

#: Address-space limit of the fuzzing process: a reader that allocates from a size field of
#: the file without bounds hits it (a MemoryError, counted as a finding).
ADDRESS_SPACE = 4 << 30


def campaign(target: Target, cases: int, folder: Path) -> dict:
    """Run ``cases`` mutated files through ``target``; counts, findings and timing."""
    stats = {"cases": 0, "errors": 0, "findings": [], "max_s": 0.0}

    @settings(max_examples=cases, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(mutated(target.seeds()))
    def case(data: bytes) -> None:
        start = time.perf_counter()
        finding = run_case(target, data, folder)
        stats["max_s"] = max(stats["max_s"], time.perf_counter() - start)
        stats["cases"] += 1
        if finding is not None:
            stats["findings"].append(f"{finding} ({len(data)} bytes)")

    case()
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases-per-reader", type=int, default=800)
    ap.add_argument("--json")
    args = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    rows, report, begin = [], {}, time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for name, target in TARGETS.items():
            start = time.perf_counter()
            stats = campaign(target, args.cases_per_reader, Path(folder))
            report[name] = stats
            rows.append([name, stats["cases"], len(stats["findings"]),
                         f"{stats['max_s'] * 1000:.0f}", f"{time.perf_counter() - start:.1f}"])
            print(f"{name}: {stats['cases']} cases, {len(stats['findings'])} findings",
                  file=sys.stderr, flush=True)
    total = sum(s["cases"] for s in report.values())
    found = sum(len(s["findings"]) for s in report.values())
    rows.append(["**all**", total, found, "", f"{time.perf_counter() - begin:.1f}"])
    print(markdown_table(["reader", "cases", "findings", "slowest case ms", "seconds"], rows))
    for name, stats in report.items():
        for finding in sorted(set(stats["findings"]))[:5]:
            print(f"- {name}: {finding}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{total} cases, {found} findings, peak memory {peak:.0f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
