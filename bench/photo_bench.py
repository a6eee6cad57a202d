"""The photo path measured: framing, cluttered backgrounds, real photos, and speed.

Sections (each prints a table; ``--json`` keeps them all):

* ``--framing``: where R2N2's renders put their objects (the bounding box's long side over the
  frame side, and its centre), on the real samples and on procedural renders: the constants
  :data:`parvox.data.framing.FRAME_EXTENT` and :data:`~parvox.data.framing.FRAME_CENTRE` come
  from here.
* ``--backgrounds``: the views 0-4 of the real samples (never trained on) pasted on cluttered
  backgrounds (textures, and the regions around the objects of the shared photos), sent
  through the photo path (segmentation, re-framing) and the network, one view at a time; the
  class-mean IoU@0.4 beside the same views on the clean grey of the evaluation protocol, and
  the segmentation's IoU with the render's own alpha. The same composites re-framed from the
  render's own alpha instead of the segmentation split the loss in two: what re-framing costs
  (the object's size in the frame is a cue of its size and of the viewpoint; a photo's is
  unknown, so the photo path sets every object to R2N2's mean size) and what the
  segmentation adds.
* ``--reframing``: the clean views 0-4 of the real samples re-framed from their own alpha, one
  part at a time (the object cut out; moved to R2N2's median centre; scaled to R2N2's median
  size; both, as the photo path does), against the views as rendered.
* ``--photos``: each shared photo reconstructed through the photo path (its alpha is the
  mask); the reconstruction is rendered from a grid of R2N2 viewpoints and the best
  silhouette IoU with the photo's mask is reported (both re-framed alike, so scale and
  position do not count). ``--segment`` ignores the photos' alpha and segments them instead.
* ``--speed``: ``parvox reconstruct`` of each shared photo, from process start to files
  written (median of ``--repeats`` runs).

Every prediction is flip-averaged, as ``parvox reconstruct`` predicts (:mod:`parvox.inference`),
unless ``--no-flip-average``.

    .venv/bin/python bench/photo_bench.py --framing --backgrounds --reframing --photos \\
        --speed [--checkpoint pretrained] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from parvox.checkpoint import load_model
from parvox.data import augment
from parvox.data.binvox import read_binvox
from parvox.data.camera import R2N2_IMAGE_SIZE
from parvox.data.classes import class_name
from parvox.data.dataset import load_rgba, protocol_view
from parvox.data.framing import frame_object
from parvox.data.layout import R2N2Layout
from parvox.errors import DataError
from parvox.evaluate import MAIN_THRESHOLD
from parvox.inference import predict_occupancy
from parvox.metrics import iou
from parvox.photo import prepare_photo, prepare_rgb, segment
from parvox.progress import markdown_table
from parvox.shared import shared_dir

#: Canvas of the cluttered composites, and the render's size on it (the object fills about
#: the share of a photo that it fills of an R2N2 render).
CANVAS, PASTED = 256, 200
#: Views of each real sample used by --backgrounds (Pix2Vox evaluates the first ones).
VIEWS = range(5)
#: Viewpoint grid of --photos: R2N2 renders azimuth 0-360 and elevation 25-30 degrees.
AZIMUTHS = np.arange(0.0, 360.0, 10.0)
ELEVATIONS = (0.0, 10.0, 20.0, 30.0, 40.0)


def bbox_stats(alpha: np.ndarray) -> tuple[float, float, float]:
    """(long side / frame side, centre row, centre column) of alpha > 127, as fractions."""
    rows, cols = np.nonzero(alpha > 127)
    side = alpha.shape[0]
    extent = max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) / side
    centre_row = (rows.min() + rows.max() + 1) / 2 / side
    return extent, centre_row, (cols.min() + cols.max() + 1) / 2 / side


def framing(roots: dict[str, Path], limit: int = 2400) -> list[list[str]]:
    """Rows: source, renders (every k-th, at most ``limit``), extent median (p10-p90), centre
    row, centre column."""
    rows = []
    for name, root in roots.items():
        files = sorted(root.glob("ShapeNetRendering/*/*/rendering/*.png"))
        files = files[::-(-len(files) // limit)]
        stats = np.array([bbox_stats(load_rgba(f)[..., 3]) for f in files])
        p10, p90 = np.percentile(stats[:, 0], [10, 90])
        rows.append([name, str(len(files)), f"{np.median(stats[:, 0]):.3f} ({p10:.2f}-{p90:.2f})",
                     f"{np.median(stats[:, 1]):.3f}", f"{np.median(stats[:, 2]):.3f}"])
    return rows


def photo_backgrounds(photos: Path, count: int = 2) -> list[tuple[str, np.ndarray]]:
    """Windows of the shared photos around their objects (walls, floors) where the object
    covers under 5 %: the ``count`` emptiest of each photo whose surroundings are not plain."""
    out = []
    for path in sorted(photos.glob("*.png")):
        rgba = np.asarray(Image.open(path).convert("RGBA"))
        alpha = rgba[..., 3] >= 128
        rows, cols = np.nonzero(alpha)
        box = rgba[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        around = box[box[..., 3] < 128][:, :3]
        if len(around) == 0 or around.std(axis=0).max() < 8:  # a plain backdrop: no clutter
            continue
        side = int(0.4 * min(box.shape[:2]))
        windows = []
        for top in np.linspace(0, box.shape[0] - side, 6).astype(int):
            for left in np.linspace(0, box.shape[1] - side, 6).astype(int):
                cover = float((box[top:top + side, left:left + side, 3] >= 128).mean())
                windows.append((cover, top, left))
        for cover, top, left in sorted(windows)[:count]:
            if cover < 0.05:
                window = box[top:top + side, left:left + side, :3]
                crop = Image.fromarray(np.ascontiguousarray(window))
                out.append((f"{path.stem}@{top},{left}",
                            np.asarray(crop.resize((CANVAS, CANVAS), Image.Resampling.BILINEAR))))
    return out


def texture_backgrounds() -> list[tuple[str, np.ndarray]]:
    """Two of each texture kind of the training augmentation, from fixed seeds."""
    out = []
    for kind in ("pattern", "noise", "room"):
        for seed in range(2):
            image = augment.background(kind, (CANVAS, CANVAS), np.random.default_rng(100 + seed))
            out.append((f"{kind}-{seed}", image.round().astype(np.uint8)))
    return out


def paste(rgba: np.ndarray, size: tuple[int, int], corner: tuple[int, int],
          background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The uint8 RGBA picture resized to ``size`` (width, height; premultiplied bilinear) and
    blended over ``background`` (CANVAS, CANVAS, 3) with its top-left at ``corner`` (column,
    row): (uint8 RGB (CANVAS, CANVAS, 3), bool alpha of the object)."""
    layer = Image.fromarray(rgba, "RGBA").convert("RGBa").resize(
        size, Image.Resampling.BILINEAR).convert("RGBA")
    canvas = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    canvas.paste(layer, corner)
    pasted = np.asarray(canvas).astype(np.float32)
    alpha = pasted[..., 3:] / 255.0
    rgb = background.astype(np.float32) * (1 - alpha) + pasted[..., :3] * alpha
    return rgb.round().astype(np.uint8), alpha[..., 0] >= 0.5


def composite(render: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The RGBA render enlarged to :data:`PASTED` pixels and pasted in the middle of the
    background: (uint8 RGB (CANVAS, CANVAS, 3), bool alpha of the object)."""
    corner = (CANVAS - PASTED) // 2
    return paste(render, (PASTED, PASTED), (corner, corner), background)


#: Whether :func:`predict` flip-averages, as ``parvox reconstruct`` does by default
#: (:mod:`parvox.inference`); ``--no-flip-average`` measures the single pass.
FLIP_AVERAGE = True


def predict(model: torch.nn.Module, views: list[torch.Tensor]) -> torch.Tensor:
    """(32, 32, 32) occupancy probability of one or more (3, S, S) views."""
    return predict_occupancy(model, torch.stack(views)[None], flip_average=FLIP_AVERAGE)[0]


def voxel_iou(prob: torch.Tensor, target: np.ndarray) -> float:
    """IoU@0.4 of a (32, 32, 32) probability grid against bool occupancy (parvox.metrics)."""
    return float(iou(prob[None], torch.from_numpy(target)[None].float(), MAIN_THRESHOLD))


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def backgrounds(checkpoint: str, samples: Path, photos: Path) -> tuple[list[list[str]], dict]:
    """Per class: clean IoU, re-framed from the true mask, cluttered IoU through the photo path
    (segmented), the difference, segmentation IoU; then the same two through the segmentation
    before the mask network (GrabCut from the border flood alone). ``report["groups"]`` splits
    the cluttered and segmentation scores by background group."""
    model, _ = load_model(checkpoint)
    layout = R2N2Layout(samples)
    groups = {"training textures": texture_backgrounds(),
              "photo regions": photo_backgrounds(photos)}
    scenes = [(group, name, image) for group, found in groups.items() for name, image in found]
    rows, report = [], {"backgrounds": [name for _, name, _ in scenes], "classes": {}}
    by_group: dict[str, list[dict[str, float]]] = {group: [] for group in groups}
    for ref in layout.discover():
        target = read_binvox(layout.voxel_path(ref)).occupancy.astype(bool)
        scores: list[dict[str, float]] = []
        for view in VIEWS:
            render = load_rgba(layout.image_path(ref, view))
            clean = voxel_iou(predict(model, [protocol_view(render, model.config.image_size)]),
                              target)
            for group, name, scene in scenes:
                found = composite_scores(model, *composite(render, scene), target,
                                         f"{ref.model_id}/{view}/{name}")
                report["failures"] = report.get("failures", 0) + found.pop("failed")
                scores.append({"clean": clean, **found})
                by_group[group].append(found)
        means = {key: float(np.mean([s[key] for s in scores])) for key in BACKGROUND_SCORES}
        report["classes"][class_name(ref.synset)] = means
        rows.append(_background_row(class_name(ref.synset), means))
    report["mean"] = {key: float(np.mean([c[key] for c in report["classes"].values()]))
                      for key in BACKGROUND_SCORES}
    report["groups"] = {group: {key: float(np.mean([s[key] for s in found]))
                                for key in BACKGROUND_SCORES[1:]}
                        for group, found in by_group.items()}
    rows.append(_background_row("**class mean**", report["mean"]))
    return rows, report


def composite_scores(model: torch.nn.Module, rgb: np.ndarray, alpha: np.ndarray,
                     target: np.ndarray, name: str) -> dict[str, float]:
    """One cluttered composite: IoU re-framed from its true mask, then IoU and mask IoU through
    each segmentation ("no object found" scores 0 and counts in ``failed``)."""
    size = model.config.image_size
    truth = prepare_rgb(rgb, name, mask=alpha)
    out = {"true_mask": voxel_iou(predict(model, [truth.view(size)]), target), "failed": 0}
    for suffix, prior in (("", "network"), ("_border", "border")):
        try:
            photo = prepare_rgb(rgb, name, prior=prior)
        except DataError:  # "no object found": the user gets no reconstruction
            out["failed"] += 1
            out["cluttered" + suffix] = out["mask" + suffix] = 0.0
            continue
        out["mask" + suffix] = mask_iou(photo.mask, alpha)
        out["cluttered" + suffix] = voxel_iou(predict(model, [photo.view(size)]), target)
    return out


#: The scores of :func:`backgrounds`, per class.
BACKGROUND_SCORES = ("clean", "true_mask", "cluttered", "mask", "cluttered_border",
                     "mask_border")


def _background_row(name: str, s: dict[str, float]) -> list[str]:
    return [name, f"{s['clean']:.3f}", f"{s['true_mask']:.3f}", f"{s['cluttered']:.3f}",
            f"{s['cluttered'] - s['clean']:+.3f}", f"{s['mask']:.3f}",
            f"{s['cluttered_border']:.3f}", f"{s['mask_border']:.3f}"]


#: What :func:`reframing_parts` re-frames: (name, frame_object's keyword arguments); ``None``
#: is the clean view itself.
REFRAMINGS = (("clean grey", None), ("cut out only", {"extent": None, "centre": None}),
              ("R2N2 centre", {"extent": None}), ("R2N2 size", {"centre": None}),
              ("both (the photo path)", {}))


def reframing_parts(checkpoint: str, samples: Path) -> tuple[list[str], list[list[str]]]:
    """The class names, and rows: each part of re-framing, its class-mean IoU and per-class
    IoU, on views 0-4 of the real samples on clean grey (no segmentation: the render's own
    alpha is the mask)."""
    from parvox.data.framing import reframe_render

    model, _ = load_model(checkpoint)
    size = model.config.image_size
    layout = R2N2Layout(samples)
    scores: dict[str, dict[str, list[float]]] = {name: {} for name, _ in REFRAMINGS}
    for ref in layout.discover():
        target = read_binvox(layout.voxel_path(ref)).occupancy.astype(bool)
        for view in VIEWS:
            render = load_rgba(layout.image_path(ref, view))
            for name, how in REFRAMINGS:
                image = render if how is None else reframe_render(render, **how)
                iou_ = voxel_iou(predict(model, [protocol_view(image, size)]), target)
                scores[name].setdefault(class_name(ref.synset), []).append(iou_)
    classes = list(scores[REFRAMINGS[0][0]])
    return classes, [[name, f"{np.mean([np.mean(per[c]) for c in classes]):.3f}",
                      *(f"{np.mean(per[c]):.3f}" for c in classes)]
                     for name, per in scores.items()]


def reframing_table(checkpoint: str, samples: Path) -> str:
    """:func:`reframing_parts` as a markdown table, a column per class."""
    classes, rows = reframing_parts(checkpoint, samples)
    return markdown_table(["views framed", "class mean", *classes], rows)


def silhouette(mesh_triangles: np.ndarray, azimuth: float, elevation: float,
               renderer, **camera: float) -> np.ndarray:
    """bool (137, 137) silhouette of the mesh from one R2N2 viewpoint (``camera``: more of
    :func:`parvox.data.camera.r2n2_camera`'s arguments, its defaults otherwise)."""
    from parvox.data.camera import r2n2_camera

    colors = np.full((len(mesh_triangles), 3), 128, np.uint8)
    view = r2n2_camera(azimuth, elevation, **camera)
    rgba = renderer.render_views(mesh_triangles, colors, [view])[0]
    return rgba[..., 3] > 127


def reframed(mask: np.ndarray) -> np.ndarray:
    """bool (137, 137): ``mask`` re-framed as the photo path frames objects."""
    rgb = np.zeros((*mask.shape, 3), np.uint8)
    return frame_object(rgb, mask)[..., 3] >= 128


def photo_silhouettes(checkpoint: str, photos: Path, segment_only: bool) -> tuple[list, dict]:
    """Per photo: mask source, best silhouette IoU, its viewpoint."""
    from parvox.data.render import Renderer
    from parvox.reconstruct import probability_mesh

    model, _ = load_model(checkpoint)
    size = model.config.image_size
    renderer = Renderer(R2N2_IMAGE_SIZE)
    rows, report = [], {}
    try:
        for path in sorted(photos.glob("*.png")):
            truth = prepare_photo(path)  # its alpha: the object's mask in the photo
            photo, border = truth, "-"
            if segment_only:
                rgb = np.asarray(Image.open(path).convert("RGB"))
                small = np.asarray(Image.fromarray(rgb).resize(truth.photo.shape[1::-1],
                                                               Image.Resampling.BOX))
                photo = prepare_rgb(small, str(path))
                border = f"{mask_iou(segment(small, prior='border'), truth.mask):.3f}"
            target = truth.framed[..., 3] >= 128
            mesh = probability_mesh(predict(model, [photo.view(size)]).numpy())
            best = max((mask_iou(reframed(silhouette(mesh.triangles, az, el, renderer)), target),
                        az, el) for az in AZIMUTHS for el in ELEVATIONS)
            found = mask_iou(photo.mask, truth.mask)
            report[path.stem] = {"mask": photo.mask_source, "iou": best[0],
                                 "azimuth": best[1], "elevation": best[2], "mask_iou": found}
            rows.append([path.stem, photo.mask_source, f"{found:.3f}",
                         border, f"{best[0]:.3f}", f"{best[1]:.0f} / {best[2]:.0f}"])
    finally:
        renderer.release()
    return rows, report


def speed(checkpoint: str, photos: Path, repeats: int) -> tuple[list, dict]:
    """Per photo: median and min wall time of ``parvox reconstruct`` in a fresh process."""
    rows, report = [], {}
    for path in sorted(photos.glob("*.png")):
        times = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as out:
                cmd = [sys.executable, "-m", "parvox", "reconstruct", str(path), "--out", out,
                       *([] if FLIP_AVERAGE else ["--no-flip-average"])]
                if checkpoint != "pretrained":
                    cmd += ["--checkpoint", checkpoint]
                start = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                times.append(time.perf_counter() - start)
        report[path.stem] = times
        rows.append([path.stem, f"{statistics.median(times):.2f}", f"{min(times):.2f}"])
    return rows, report


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default="pretrained")
    ap.add_argument("--framing", action="store_true")
    ap.add_argument("--backgrounds", action="store_true")
    ap.add_argument("--reframing", action="store_true",
                    help="what each part of re-framing costs on the clean real samples")
    ap.add_argument("--photos", action="store_true")
    ap.add_argument("--segment", action="store_true",
                    help="with --photos: segment the photos instead of using their alpha")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--procedural", help="a procedural dataset for --framing")
    ap.add_argument("--json", help="write all measurements to this file")
    ap.add_argument("--no-flip-average", action="store_true",
                    help="one forward pass per prediction (default: flip-averaged, as "
                         "parvox reconstruct predicts)")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(2)
    shared = shared_dir()
    samples, photos = shared / "r2n2-samples", shared / "photos"
    global FLIP_AVERAGE
    FLIP_AVERAGE = not args.no_flip_average
    out: dict = {"checkpoint": args.checkpoint, "flip_average": FLIP_AVERAGE}
    if args.framing:
        roots = {"real samples": samples, **({"procedural": Path(args.procedural)}
                                             if args.procedural else {})}
        print(markdown_table(["renders", "count", "bbox long side / frame (p10-p90)",
                              "centre row", "centre column"], framing(roots)), "\n")
    if args.backgrounds:
        rows, out["backgrounds"] = backgrounds(args.checkpoint, samples, photos)
        print(f"{len(out['backgrounds']['backgrounds'])} backgrounds x {len(VIEWS)} views per "
              f"sample, 1 view at a time; {out['backgrounds'].get('failures', 0)} composites "
              "without an object found (scored 0)")
        print(markdown_table(["class", "clean grey IoU", "re-framed from the true mask",
                              "cluttered IoU (photo path)", "difference",
                              "segmentation IoU", "cluttered IoU, border GrabCut",
                              "segmentation IoU, border GrabCut"], rows), "\n")
        print(markdown_table(["backgrounds", "re-framed from the true mask", "cluttered IoU",
                              "segmentation IoU", "cluttered IoU, border GrabCut",
                              "segmentation IoU, border GrabCut"],
                             [[group, *(f"{s[key]:.3f}" for key in BACKGROUND_SCORES[1:])]
                              for group, s in out["backgrounds"]["groups"].items()]), "\n")
    if args.reframing:
        print(reframing_table(args.checkpoint, samples), "\n")
    if args.photos:
        rows, out["photos"] = photo_silhouettes(args.checkpoint, photos, args.segment)
        print(markdown_table(["photo", "mask", "mask IoU vs alpha",
                              "mask IoU vs alpha, border GrabCut", "best silhouette IoU",
                              "azimuth / elevation"], rows), "\n")
    if args.speed:
        rows, out["speed"] = speed(args.checkpoint, photos, args.repeats)
        print(markdown_table(["photo", "median s", "min s"], rows), "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
