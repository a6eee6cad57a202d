"""Ship a trained run as the package's model: export, evaluate, write the model card.

    python scripts/ship_model.py --run runs/ship --data data/ship \\
        --command "parvox train ..." [--command "parvox train ... --resume"] [--quick]

1. ``parvox.pretrained.export_weights``: the run's latest checkpoint as fp16 safetensors in
   ``parvox/weights/small-procedural.safetensors`` (refused above 25 MB);
2. ``parvox eval --checkpoint pretrained`` (the exported file, so the card measures what
   ships) on the procedural test split and on the real samples (floors from the procedural
   training split), 1-5 views (the procedural split at ``--procedural-views``), in one pass
   and again flip-averaged as ``parvox reconstruct`` predicts (the procedural split at 1 view);
3. ``parvox reconstruct`` of each shared photo (previews in ``docs/model/photos.png``);
4. ``bench/photo_bench.py``: cluttered backgrounds, photo silhouettes, reconstruct speed
   (flip-averaged, as ``parvox reconstruct`` predicts);
5. ``docs/MODEL.md`` and the JSON reports in ``docs/model/``.

``--quick`` evaluates 1 and 5 views only and skips the benches (a dry run of the machinery).

``--average W1 W2 ...`` replaces step 1 with the uniform mean of exported weights files
(:func:`parvox.pretrained.average_weights`; checkpoint averaging, chosen on the validation split
with ``bench/weight_average.py``). The last file must be the one ``docs/model/provenance.json``
describes; its commands are kept, and ``--command`` lines (the averaging as run) are appended:

    python scripts/ship_model.py --average W57180 --average W63528 --data data/ship \
        --procedural-views 1,5 --command "..."

``--remeasure`` skips step 1 and measures the shipped file again, for when code on the
measured path changed and the training run is gone (its checkpoints hold Adam's state, ~3x
the weights, and are not kept). What the card says of the training comes from the file's own
metadata and from ``docs/model/provenance.json``, which an export writes beside the card (the
commands, the schedule, the final loss) and which must name the shipped file's sha256:

    python scripts/ship_model.py --remeasure --data data/ship --procedural-views 1,5
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402
from docstamp import stamp  # noqa: E402

from parvox.evaluate import report_table  # noqa: E402
from parvox.files import sha256_file  # noqa: E402
from parvox.pretrained import WEIGHTS_FILE, export_weights  # noqa: E402
from parvox.shared import shared_dir  # noqa: E402

#: The package's size budget for the shipped weights (issue: at most 25 MB).
MAX_WEIGHTS_MB = 25.0


def sh(*cmd: str) -> str:
    """Run a command; its stdout."""
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def run_facts(run: Path) -> dict:
    """Steps, samples, training seconds and the config of a run (from its log and config)."""
    config = json.loads((run / "config.json").read_text())
    steps = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    from parvox.checkpoint import list_checkpoints

    found = list_checkpoints(run)
    kept = found[-1][0]  # what is exported: steps logged after it are not in it
    last = {}
    for entry in steps:  # a resumed run logs again from its checkpoint: keep each step once
        if entry["step"] <= kept:
            last[entry["step"]] = entry
    # a run started from exported weights (scripts/seed_run.py) logs only its own steps
    prior = json.loads((found[0][1] / "meta.json").read_text()).get("prior") or {}
    first = prior.get("step") or 0
    return {"config": config, "steps": max(last),
            "samples": (prior.get("samples") or 0) + (max(last) - first) * config["batch"],
            "train_s": (prior.get("train_seconds") or 0)
            + sum(e["step_s"] for s, e in last.items() if s > first),
            "final_loss": last[max(last)]["loss"]}


def provenance_path(docs: Path) -> Path:
    return docs / "model" / "provenance.json"


def write_provenance(args, facts: dict, docs: Path, source: str | None = None) -> None:
    """What the card says of the training that the exported file's metadata does not hold,
    tied to that file by its sha256 (read back by ``--remeasure``)."""
    record = {"weights_sha256": sha256_file(WEIGHTS_FILE), "build_command": args.build_command,
              "commands": args.command, "schedule": args.schedule,
              "final_loss": facts["final_loss"], **({"source": source} if source else {})}
    provenance_path(docs).write_text(json.dumps(record, indent=1) + "\n")


def remeasured_facts(args, docs: Path, weights: Path | None = None) -> dict:
    """The run's facts for the card from the metadata of ``weights`` (the shipped file) and the
    provenance an export wrote; fills ``args``' training fields from them. SystemExit (one
    line) where the provenance is missing or belongs to other weights."""
    from parvox.pretrained import read_weights

    weights = weights or WEIGHTS_FILE
    path = provenance_path(docs)
    if not path.is_file():
        raise SystemExit(f"{path}: not found; --remeasure needs the provenance an export wrote")
    record = json.loads(path.read_text())
    if record["weights_sha256"] != sha256_file(weights):
        raise SystemExit(f"{path}: describes weights {record['weights_sha256'][:12]}, not "
                         f"{weights} ({sha256_file(weights)[:12]})")
    meta = read_weights(weights)[1]
    args.build_command, args.command = record["build_command"], record["commands"]
    args.schedule, args.generator = record["schedule"], meta.get("generator_commit")
    args.machine, args.source = meta.get("machine"), record.get("source", "written by the export")
    return {"config": meta["train"], "steps": meta["step"], "samples": meta["samples"],
            "train_s": meta["train_seconds"], "final_loss": record["final_loss"],
            "averaged_from": meta.get("averaged_from")}


def average(args, docs: Path) -> dict:
    """Ship the uniform mean of ``args.average`` (exported weights files): the facts and the
    commands of the last one's provenance, ``args.command`` appended; a new provenance."""
    from parvox.pretrained import write_average

    if len(args.average) < 2:
        raise SystemExit("--average needs at least two weights files")
    added = list(args.command)
    last = Path(args.average[-1])
    facts = remeasured_facts(args, docs, last)  # its provenance, checked against the file
    args.command = [*args.command, *added]
    source = (f"the provenance of {last.name} (sha256 {sha256_file(last)[:12]}), the last of the "
              "averaged files, with the averaging appended by scripts/ship_model.py --average")
    write_average(args.average, WEIGHTS_FILE)
    write_provenance(args, facts, docs, source)
    return remeasured_facts(args, docs)  # the shipped mean's own metadata


def evaluate(data: Path, samples: Path, views: str, procedural_views: str, out: Path) -> dict:
    """``parvox eval`` of the exported weights on the procedural test split (at
    ``procedural_views``) and on the real samples (at ``views``), in Pix2Vox's single pass
    and flip-averaged as ``parvox reconstruct`` predicts (the procedural split at 1 view only);
    the reports by name (``procedural``, ``real``, ``procedural-flip``, ``real-flip``)."""
    reports = {}
    floors = ["--floors-from", str(data)]
    flip = ["--flip-average"]
    for name, root, n, extra in (("procedural", data, procedural_views, []),
                                 ("real", samples, views, floors),
                                 ("procedural-flip", data, "1", flip),
                                 ("real-flip", samples, views, floors + flip)):
        path = out / f"eval-{name}.json"
        sh(sys.executable, "-m", "parvox", "eval", "--checkpoint", "pretrained", "--data",
           str(root), "--views", n, "--workers", "2", "--json", str(path), *extra)
        reports[name] = json.loads(path.read_text())
    return reports


def photo_previews(out: Path) -> Path:
    """``parvox reconstruct`` of each shared photo with the shipped model; one sheet of the
    previews at ``out/photos.png`` (the folders stay under ``out/photos/``)."""
    from parvox.demo import contact_sheet

    folders = []
    for photo in sorted((shared_dir() / "photos").glob("*.png")):
        folder = out / "photos" / photo.stem
        sh(sys.executable, "-m", "parvox", "reconstruct", str(photo), "--out", str(folder))
        folders.append(folder / "preview.png")
    contact_sheet(folders, out / "photos.png")
    return out / "photos.png"


def benches(out: Path) -> tuple[str, dict]:
    path = out / "photo-bench.json"
    bench = str(ROOT / "bench" / "photo_bench.py")
    text = sh(sys.executable, bench, "--framing", "--backgrounds", "--reframing", "--photos",
              "--speed", "--json", str(path))
    segmented = sh(sys.executable, bench, "--photos", "--segment")
    text += ("\n\nThe same photos segmented, their alpha ignored "
             "(`python bench/photo_bench.py --photos --segment`):\n\n" + segmented)
    return text, json.loads(path.read_text())


def masknet_lines() -> list[str]:
    """The card's section on the shipped mask network, from its file's metadata."""
    from parvox.masknet import masknet_info, shipped_path

    path = shipped_path()
    info = masknet_info(path)
    return [
        "## Mask network (segmentation of photos without alpha)",
        "",
        f"`parvox/weights/masknet.safetensors` ({path.stat().st_size / 1e6:.1f} MB, sha256 "
        f"`{sha256_file(path)}`): {info['steps']} steps, {info['scenes']} procedural scenes, "
        f"{info['minutes']} min of training; mask IoU@0.5 on the fixed validation scenes "
        f"{info['val_iou']:.3f}. Trained with:",
        "",
        "```",
        info["command"],
        "```",
        "",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default="runs/ship")
    ap.add_argument("--data", default="data/ship")
    ap.add_argument("--command", action="append", default=[],
                    help="the training command(s) exactly as run, in order")
    ap.add_argument("--build-command", default="parvox data build data/ship --per-class 300 "
                    "--workers 2")
    ap.add_argument("--generator", help="the commit the dataset was built with")
    ap.add_argument("--schedule", help="the learning-rate schedule as run, where the run was "
                    "continued with other flags (default: the last run's --lr, x0.1 at its "
                    "--lr-drop-step)")
    ap.add_argument("--machine", help="where it trained, where that was more than this "
                    "machine (default: this CPU)")
    ap.add_argument("--procedural-views", default="1,2,3,4,5",
                    help="view counts for the procedural test split (a big split at 1,5 only "
                         "saves most of the evaluation time)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--remeasure", action="store_true",
                    help="measure the shipped file again without a run (no export; the "
                         "training facts from its metadata and docs/model/provenance.json)")
    ap.add_argument("--average", action="append", default=[], metavar="WEIGHTS",
                    help="ship the uniform mean of these exported weights files instead of "
                         "exporting a run (repeat; the last one's provenance is kept)")
    ap.add_argument("--docs", default=str(ROOT / "docs"))
    args = ap.parse_args()
    data, docs = Path(args.data), Path(args.docs)
    facts = (remeasured_facts(args, docs) if args.remeasure
             else average(args, docs) if args.average
             else export(args, Path(args.run), docs))
    size_mb = WEIGHTS_FILE.stat().st_size / 1e6
    if size_mb > MAX_WEIGHTS_MB:
        raise SystemExit(f"{WEIGHTS_FILE}: {size_mb:.1f} MB, over the {MAX_WEIGHTS_MB} MB budget")
    out = docs / "model"
    out.mkdir(parents=True, exist_ok=True)
    views = "1,5" if args.quick else "1,2,3,4,5"
    reports = evaluate(data, shared_dir() / "r2n2-samples", views,
                       "1,5" if args.quick else args.procedural_views, out)
    photo_previews(out)
    bench_text, bench = ("(skipped: --quick)", {}) if args.quick else benches(out)
    (docs / "MODEL.md").write_text(card(args, facts, size_mb, reports, bench_text, bench))
    print((docs / "MODEL.md").read_text())


def export(args, run: Path, docs: Path) -> dict:
    """Export ``run``'s last checkpoint as the shipped file and record its provenance; the
    run's facts."""
    args.machine = args.machine or f"{cpu_name()}, 2 cores"
    facts = run_facts(run)
    extra = {"generator_commit": args.generator, "samples": facts["samples"],
             "train_seconds": round(facts["train_s"]),
             "machine": args.machine}
    export_weights(run, WEIGHTS_FILE, extra)
    (docs / "model").mkdir(parents=True, exist_ok=True)
    write_provenance(args, facts, docs)
    return facts


def card(args, facts: dict, size_mb: float, reports: dict, bench_text: str, bench: dict) -> str:
    """The text of docs/MODEL.md."""
    lines = [stamp("docs/MODEL.md"), *card_facts(args, facts, size_mb), *card_targets(reports),
             *bench_targets(bench), *card_sections(reports, bench_text)]
    return "\n".join(lines)


def card_facts(args, facts: dict, size_mb: float) -> list[str]:
    """Title, the table of what ships and how it was trained, the training commands."""
    cfg = facts["config"]
    splits = json.loads((Path(args.data) / "ShapeNet.json").read_text())
    counts = {s: sum(len(e[s]) for e in splits) for s in ("train", "val", "test")}
    commands = "\n".join(args.command) or "(not recorded)"
    schedule = args.schedule or f"lr {cfg['lr']} (x0.1 at step {cfg['lr_drop_step']})"
    return [
        "# The shipped model: `small`, trained on procedural shapes",
        "",
        "`parvox/weights/small-procedural.safetensors` is what `parvox reconstruct` uses when no",
        "`--checkpoint` is given and what `--checkpoint pretrained` names everywhere. This card is",
        "written by `python scripts/ship_model.py` (command at the end), which exports the run's",
        "last checkpoint and measures the exported file itself.",
        *remeasured_note(args),
        "",
        "| | |",
        "|---|---|",
        network_row(),
        f"| weights | fp16 safetensors, {size_mb:.1f} MB (budget 25 MB) |",
        f"| weights sha256 | `{sha256_file(WEIGHTS_FILE)}` |",
        f"| data | procedural, `{args.build_command}`: {counts['train']} train / {counts['val']} "
        f"val / {counts['test']} test models x 24 views, the 13 R2N2 classes with ShapeNet's "
        "family mixes (docs/DATA.md); no ShapeNet model was trained on |",
        f"| generator commit | `{args.generator or 'unknown'}` |",
        f"| training | {facts['steps']} steps of global batch {cfg['batch']} = "
        f"{facts['samples']:,} samples of 1-5 views; Adam, {schedule}; plan "
        f"`{cfg['parallel']}` on 2 ranks; "
        f"{'bf16 autocast' if cfg['autocast_bf16'] else 'fp32'}; augmentation: backgrounds "
        f"{cfg['backgrounds']}, light jitter {cfg['light_jitter']}, frame jitter "
        f"{cfg['frame_jitter']}, re-framed views {cfg.get('reframe', 0.0)}, repainted views "
        f"{cfg.get('repaint', 0.0)}, flips |",
        *averaging_row(facts),
        f"| wall time | {facts['train_s'] / 3600:.2f} h of training steps |",
        f"| final training loss | {facts['final_loss']:.3f} |",
        f"| machine | {args.machine}, torch {torch.__version__} |",
        "",
        "Training commands, exactly as run:",
        "",
        "```",
        args.build_command,
        commands,
        "```",
        "",
    ]


def averaging_row(facts: dict) -> list[str]:
    """The card's row on checkpoint averaging, where the shipped file is a mean of weights."""
    sources = facts.get("averaged_from")
    if not sources:
        return []
    parts = ", ".join(f"step {s['step']} (`{s['sha256'][:12]}`)" for s in sources)
    return [f"| checkpoint averaging | the uniform mean of the exported weights at {parts}, "
            "averaged in float64 and stored in fp16 (`parvox.pretrained.average_weights`); "
            "the training rows are those of the last |"]


def remeasured_note(args) -> list[str]:
    """The card's words on a re-measure (``--remeasure``): the file as shipped, measured again
    with today's code, its training facts from where :func:`remeasured_facts` read them."""
    if args.average:
        return ["This time it was run with `--average`: the shipped file is the uniform mean of",
                "exported weights (the averaging row below), measured with this commit's code.",
                "The training rows come from the last file's metadata and provenance",
                f"({args.source})."]
    if not args.remeasure:
        return []
    return ["This time it was run with `--remeasure`: the shipped file measured again with this",
            "commit's code, not exported again (the run is not kept). The training rows come from",
            f"the file's metadata and `docs/model/provenance.json` ({args.source})."]


def network_row() -> str:
    """The card's row that describes the shipped network, read from the shipped file."""
    from parvox.pretrained import load_weights

    model, meta = load_weights(WEIGHTS_FILE)
    c = model.config
    params = sum(p.numel() for p in model.parameters())
    overrides = ", ".join(f"{k}={v}" for k, v in (meta.get("model_overrides") or {}).items())
    return (f"| network | `{meta['config']}`{f' with {overrides}' if overrides else ''} "
            f"(3D-R2N2's structure at {c.image_size}x{c.image_size} input, "
            f"conv-{c.recurrent.upper()} on a {c.grid_size}³ grid of {c.hidden_channels} channels, "
            f"{params / 1e6:.1f} M parameters) |")


def card_targets(reports: dict) -> list[str]:
    """The targets table with the rows measured by ``parvox eval``: each IoU in one pass
    (Pix2Vox's) and flip-averaged (what ``parvox reconstruct`` gives), where both were run."""
    one = {k: r["iou"]["1"]["0.4"]["mean"] for k, r in reports.items()}
    five = {k: r["iou"][max(r["iou"], key=int)]["0.4"]["mean"] for k, r in reports.items()}
    floor = {k: r["floors"]["class_mean"]["0.4"]["mean"] for k, r in reports.items()}

    def row(target: str, values: dict, name: str, goal: float, extra: str = "") -> str:
        flipped = values.get(f"{name}-flip")
        shown = f"{values[name]:.3f} in one pass" + (
            f", {flipped:.3f} flip-averaged" if flipped is not None else "")
        met = ("yes" if values[name] >= goal else
               "yes, flip-averaged only" if flipped is not None and flipped >= goal else "**no**")
        return f"| {target} | {shown}{extra} | {met} |"

    return [
        "## Targets",
        "",
        "One pass is Pix2Vox's protocol (`parvox eval`), comparable with published numbers;",
        "flip-averaged is what `parvox reconstruct` and the web page give (the mean with the",
        "views mirrored left-right, `parvox eval --flip-average`; parvox/inference.py).",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        row("real ShapeNet renders, class-mean IoU@0.4, 1 view ≥ 0.55", one, "real", 0.55,
            f" (class-mean floor {floor['real']:.3f})"),
        row("real ShapeNet renders, 5 views ≥ 0.60", five, "real", 0.60),
        row("procedural test split, 1 view ≥ 0.55", one, "procedural", 0.55,
            f" (class-mean floor {floor['procedural']:.3f})"),
    ]


def flip_sections(reports: dict) -> list[str]:
    """The flip-averaged tables (``parvox eval --flip-average``), where they were run."""
    lines = []
    for name, title in (("real-flip", "Real ShapeNet renders, flip-averaged"),
                        ("procedural-flip", "Procedural test split, flip-averaged")):
        if name in reports:
            lines += [f"## {title}", "", report_table(reports[name]), ""]
    return lines


def bench_targets(bench: dict) -> list[str]:
    """The target rows measured by ``bench/photo_bench.py`` (none without its JSON)."""
    if not bench:
        return []
    bg = bench["backgrounds"]["mean"]
    photos = bench["photos"]
    speed = max(min(v) for v in bench["speed"].values())
    worst = min(p["iou"] for p in photos.values())
    return [
        f"| cluttered backgrounds through the photo path within 0.05 of clean grey | "
        f"{bg['cluttered']:.3f} vs {bg['clean']:.3f} ({bg['cluttered'] - bg['clean']:+.3f}; "
        f"re-framed from the true mask {bg['true_mask']:.3f}) "
        f"| {'yes' if bg['clean'] - bg['cluttered'] <= 0.05 else '**no**'} |",
        "| shared photos, best-viewpoint silhouette IoU ≥ 0.6 | "
        + ", ".join(f"{k} {v['iou']:.2f}" for k, v in photos.items())
        + f" | {'yes' if worst >= 0.6 else '**no**'} |",
        f"| `parvox reconstruct` of one photo ≤ 5 s | slowest photo's best of 3: "
        f"{speed:.2f} s | {'yes' if speed <= 5 else '**no**'} |",
    ]


def card_sections(reports: dict, bench_text: str) -> list[str]:
    """The evaluation tables, the photos, the photo bench's output and how to reproduce."""
    return [
        "",
        "## Real ShapeNet renders (`../shared/r2n2-samples`, never trained on)",
        "",
        report_table(reports["real"]),
        "",
        "## Procedural test split",
        "",
        report_table(reports["procedural"]),
        "",
        *flip_sections(reports),
        "## The shared photos",
        "",
        "`parvox reconstruct PHOTO --out DIR` with the shipped model; per photo: the photo with",
        "the mask used (its alpha), the network's view, the mesh from two sides.",
        "",
        "![previews](model/photos.png)",
        "",
        *masknet_lines(),
        "## Photo path (`python bench/photo_bench.py --framing --backgrounds --reframing "
        "--photos --speed`)",
        "",
        bench_text.strip(),
        "",
        "## Reproduce",
        "",
        "```",
        "python scripts/ship_model.py --run RUN --data DATA --generator COMMIT "
        "--command '...' [--command '...']",
        "python scripts/ship_model.py --average W1 --average W2 --data DATA --command '...'",
        "python scripts/ship_model.py --remeasure --data DATA   # the shipped file again",
        "```",
        "",
    ]


if __name__ == "__main__":
    main()
