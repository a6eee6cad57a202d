"""Start a run folder from exported weights, so that ``parvox train --resume`` continues them.

The shipped model's training checkpoints are not kept (they hold the Adam state, ~3x the
weights); what is kept is the fp16 export in the package. This writes that export, widened to
float32, as ``RUN/checkpoints/step-<STEP>`` with no optimizer state: ``--resume`` then loads
the parameters, starts Adam afresh and counts steps (the lr schedule, the data order) from
STEP, the step the weights were exported at.

Usage: ``python scripts/seed_run.py --weights pretrained --out runs/ship5``
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parvox.checkpoint import list_checkpoints, save_checkpoint  # noqa: E402
from parvox.errors import ParvoxError  # noqa: E402
from parvox.pretrained import load_weights, weights_path  # noqa: E402


def seed_run(weights: str, out: Path, step: int | None = None) -> Path:
    """Write ``weights`` (``pretrained`` or a ``.safetensors`` export) as ``out``'s first
    checkpoint; returns its folder. ``step`` defaults to the step the export records."""
    if list_checkpoints(out):
        raise ParvoxError(f"{out}: run folder already has checkpoints")
    model, meta = load_weights(weights)
    step = int(meta.get("step", 0)) if step is None else step
    run_meta = {"config": meta["config"], "train": meta.get("train", {}),
                "model": asdict(model.config), "seeded_from": str(weights_path(weights)),
                "world_size": 1,
                # what the weights had behind them, for the model card of what continues them
                "prior": {"step": step, "samples": meta.get("samples"),
                          "train_seconds": meta.get("train_seconds")}}
    return save_checkpoint(out, step, model.state_dict(), None, run_meta)  # fp32


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="pretrained",
                    help="'pretrained' (the shipped model) or an exported .safetensors file")
    ap.add_argument("--out", required=True, type=Path, help="the new run folder")
    ap.add_argument("--step", type=int, help="step to count from (default: the export's)")
    args = ap.parse_args()
    try:
        path = seed_run(args.weights, args.out, args.step)
    except ParvoxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}; continue it with parvox train --out {args.out} --resume ...")
    return 0


if __name__ == "__main__":
    sys.exit(main())
