"""``make demo``: the whole job on the embedded procedural dataset, on this machine.

1. build a procedural R2N2-layout dataset of the 13 classes and verify it like real data;
2. train ``small`` with the ``owt`` plan (data-parallel convs, model-parallel FCs) on 2 local
   ranks, bounded in time;
3. evaluate on the test split (IoU per class and views, floors, F-score);
4. reconstruct a few test models from their renders, and the photos in ``../shared/photos``
   when present, both with the short run and with the model shipped in the package, with
   previews, and one contact sheet of them all (``previews.png``).

A second run reuses the dataset and the finished training run.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from parvox.data.builder import build_dataset, procedural_jobs
from parvox.data.layout import R2N2Layout, default_splits, split_models
from parvox.data.verify import verify_root
from parvox.errors import ParvoxError
from parvox.evaluate import evaluate, report_table
from parvox.files import write_bytes, write_json
from parvox.shared import shared_dir

#: Demo training budget, sized for 2 CPU cores (about 10 minutes; see docs/RESULTS.md).
DEMO_STEPS = 1500
DEMO_BATCH = 16
DEMO_TIME_LIMIT_MIN = 12.0


def _say(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def _train(data: Path, run: Path, nproc: int, steps: int) -> None:
    """Train through the CLI so the ranks start exactly as a user's would."""
    cmd = [sys.executable, "-m", "parvox", "train", "--config", "small", "--data", str(data),
           "--out", str(run), "--steps", str(steps), "--batch", str(DEMO_BATCH),
           "--views", "1-5", "--lr", "3e-4", "--checkpoint-every", "250", "--threads", "1",
           "--parallel", "owt", "--nproc", str(nproc), "--resume",
           "--time-limit", str(DEMO_TIME_LIMIT_MIN)]
    if nproc == 1:
        cmd[cmd.index("--threads") + 1] = str(os.cpu_count() or 1)
    if subprocess.run(cmd).returncode != 0:
        raise ParvoxError("demo training failed (see the messages above)")


def _reconstruct_tests(data: Path, run: Path, out: Path, count: int = 3) -> list[Path]:
    """Reconstruct ``count`` test models with the short run, and each shared photo with the
    short run and with the model shipped in the package (``photo-NAME-shipped-model``)."""
    from parvox.pretrained import PRETRAINED
    from parvox.reconstruct import reconstruct

    layout = R2N2Layout(data)
    tests = split_models(default_splits(data), "test")
    picked = [tests[i * len(tests) // count] for i in range(count)]
    folders = []
    for ref in picked:
        images = [str(layout.image_path(ref, v)) for v in range(3)]
        folder = out / f"{ref.class_name}-{ref.model_id}"
        reconstruct(images, run, folder)
        folders.append(folder)
    photos = shared_dir() / "photos"
    if photos.is_dir():
        for photo in sorted(photos.glob("*.png")):
            for checkpoint, suffix in ((run, ""), (PRETRAINED, "-shipped-model")):
                folder = out / f"photo-{photo.stem}{suffix}"
                reconstruct([str(photo)], checkpoint, folder)
                folders.append(folder)
    return folders


def contact_sheet(previews: list[Path], path: Path) -> None:
    """Stack the preview images (each inputs | shaded result) top to bottom, left-aligned on
    white, into one PNG at ``path``."""
    from PIL import Image

    images = [Image.open(p).convert("RGB") for p in previews]
    sheet = Image.new("RGB", (max(i.width for i in images), sum(i.height for i in images)),
                      "white")
    y = 0
    for image in images:
        sheet.paste(image, (0, y))
        y += image.height
    png = io.BytesIO()
    sheet.save(png, format="PNG")
    write_bytes(path, png.getvalue())


#: Models per class that give every class a model in each split (``make_splits``).
MIN_PER_CLASS = 3


def run_demo(out: str, *, per_class: int = 30, workers: int = 2, nproc: int = 2,
             steps: int = DEMO_STEPS) -> int:
    """Build, verify, train, evaluate and reconstruct under ``out``; returns the exit status."""
    if per_class < MIN_PER_CLASS:  # before anything is built or trained
        raise ParvoxError(f"--per-class must be at least {MIN_PER_CLASS} (a train, a val and a "
                          f"test model of each class), got {per_class}")
    root = Path(out)
    data, run = root / "data", root / "run"
    _say(f"1/4 building {per_class} procedural models per class into {data}")
    summary = build_dataset(data, procedural_jobs(per_class), workers=workers)
    _say(f"{summary.count('built')} built, {summary.count('skipped')} reused")
    check = verify_root(data)
    write_json(root / "verify.json", check.to_json())
    _say(f"verify: silhouette IoU {check.mean_silhouette_iou:.3f}, coverage "
         f"{check.mean_coverage:.3f} over {len(check.models)} models")
    _say(f"2/4 training 'small' with the owt plan on {nproc} local ranks into {run}")
    _train(data, run, nproc, steps)
    _say("3/4 evaluating on the test split")
    report = evaluate(run, data, views=[1, 3, 5])
    write_json(root / "eval.json", report)
    _say("4/4 reconstructing test models and photos")
    folders = _reconstruct_tests(data, run, root / "reconstructions")
    contact_sheet([f / "preview.png" for f in folders], root / "previews.png")
    print()
    print(report_table(report))
    print()
    _say(f"dataset          {data}  (verify report: {root / 'verify.json'})")
    _say(f"training run     {run}  (checkpoints/, tensorboard/, config.json, comm.json)")
    _say(f"evaluation       {root / 'eval.json'}")
    for folder in folders:
        _say(f"reconstruction   {folder / 'preview.png'}")
    _say(f"all previews     {root / 'previews.png'}")
    return 0
