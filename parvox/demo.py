"""``make demo``: the main job on the embedded procedural dataset.

Builds a small procedural R2N2-layout dataset (resumable: a second run reuses it) and verifies
it like a real ShapeNet download: files, 24 views, and the agreement of voxels and renders
through the R2N2 camera. Training, evaluation and reconstruction join it as they land.
"""

from __future__ import annotations

from pathlib import Path

from parvox.data.builder import build_dataset, procedural_jobs
from parvox.data.verify import verify_root, verify_table, write_json


def run_demo(out: str, *, per_class: int = 8, workers: int = 2) -> int:
    """Build and verify the demo dataset under ``out``; returns the exit status."""
    root = Path(out)
    data = root / "data"
    print(f"[demo] building {per_class} procedural models per class into {data}")
    summary = build_dataset(data, procedural_jobs(per_class), workers=workers)
    print(summary.table())
    print(f"[demo] {summary.count('built')} built, {summary.count('skipped')} reused, "
          f"{summary.seconds_per_model_core:.3f} s per model per core")
    print(f"[demo] verifying {data}")
    result = verify_root(data)
    write_json(result, root / "verify.json")
    print(verify_table(result))
    ok = result.mean_silhouette_iou >= 0.75 and result.mean_coverage >= 0.98
    print(f"\n[demo] dataset: {data} (ShapeNetRendering/, ShapeNetVox32/, ShapeNet.json)")
    print(f"[demo] verification report: {root / 'verify.json'}")
    print(f"[demo] silhouette IoU {result.mean_silhouette_iou:.3f} (target >= 0.75), coverage "
          f"{result.mean_coverage:.3f} (target >= 0.98): {'OK' if ok else 'FAILED'}")
    return 0 if ok and not result.bad_models else 1
