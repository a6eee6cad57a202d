"""Two choices of the photo path measured on procedural composites (never the real samples).

Each of ``--per-class`` models of a split (one view each, drawn with ``--seed``) is pasted on a
background of the training augmentation's kinds, two ways:

* **as rendered**: the 137 render enlarged onto the canvas, as ``bench/photo_bench.py
  --backgrounds`` composites the real samples, so its framing still carries the cues R2N2's
  framing carries (how big a view of the object is, how high it sits);
* **as photographed**: the object cut out and pasted at a random size (0.55-0.95 of the
  canvas) and centre (0.4-0.6), so its framing carries no cue, as in a user's photo.

Every prediction is flip-averaged, as ``parvox reconstruct`` predicts, and scored by IoU@0.4;
each table gives class means and the paired difference to the shipped choice with two standard
errors (``bench/weight_average.py``'s statistics), and the same views on the clean grey of the
evaluation protocol beside.

* ``--masks``: the masks the segmentation could give (:func:`parvox.photo.segment`): GrabCut
  started from the mask network alone, with the pixels the network gives at least 0.3 / 0.5 /
  0.8 / 0.9 put back (the shipped :data:`~parvox.photo.NETWORK_KEEP`), the network's own
  mask, and the true mask; each re-framed as the photo path does, with its mask IoU.
* ``--sides``: the side of the square the mask network sees the photo at
  (:data:`parvox.masknet.INFERENCE_SIDE`; it is trained at 128) and whether its probability is
  averaged with the mirrored photo's (:data:`~parvox.masknet.INFERENCE_FLIP`): each of
  :data:`SIDES` through the whole segmentation, beside the shipped one.
* ``--fitted``: the mask network at a side fitted to the object (:data:`FITTED`,
  :func:`parvox.masknet.fitted_side`): a first pass measures it, a second magnifies small ones.
* ``--masknet FILE``: another mask network's weights (``scripts/train_masknet.py``'s file) at
  each of ``--masknet-sides`` through the whole segmentation, beside the shipped network at
  its shipped side.
* ``--framing``: where the photo path puts the object (:func:`parvox.data.framing.frame_object`),
  from the shipped segmentation and from the true mask: R2N2's median size and centre for
  every object (shipped), or ``fitted``: the object's own size and centre in its picture,
  clipped into the range procedural training renders show (:func:`fitted_framing`), so an
  object already framed like a render keeps its framing and the cues it carries.

* ``--room``: each of those masks on the room photo of ``tests/test_photo.py``, where the mask
  network at 128 marks floor tiles: the levels below 0.9 bring them back (not at 160).
* ``--photos``: each mask network choice asked for on the shared photos
  (``../shared/photos``) with their alpha ignored: its mask IoU against the alpha, the photo at
  the photo path's working size (as ``bench/photo_bench.py --photos`` segments them).
* ``--ranges``: the 10th-90th percentiles of the training renders' framing that ``fitted``
  clips to (:data:`EXTENT_RANGE`, :data:`CENTRE_RANGE`).

    .venv/bin/python bench/photo_choices.py --data data/ship --split val --per-class 40 \\
        --masks --sides --framing [--room] [--photos] [--ranges] [--checkpoint pretrained] \\
        [--masknet FILE [--masknet-sides 160,192,224]] [--seed 0] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from photo_bench import (  # noqa: E402
    CANVAS,
    bbox_stats,
    composite,
    mask_iou,
    paste,
    predict,
    voxel_iou,
)
from weight_average import paired  # noqa: E402

from parvox.checkpoint import load_model  # noqa: E402
from parvox.data import augment  # noqa: E402
from parvox.data.binvox import read_binvox  # noqa: E402
from parvox.data.dataset import load_rgba, protocol_view  # noqa: E402
from parvox.data.framing import MASK_LEVEL, frame_object  # noqa: E402
from parvox.data.layout import ModelRef, R2N2Layout, load_splits  # noqa: E402
from parvox.data.masks import SIDE_MULTIPLE, parse_sides  # noqa: E402
from parvox.errors import ParvoxError  # noqa: E402
from parvox.masknet import (  # noqa: E402
    INFERENCE_FILL,
    INFERENCE_FLIP,
    INFERENCE_SIDE,
    load_masknet,
)
from parvox.models.masknet import MaskNet  # noqa: E402
from parvox.photo import (  # noqa: E402
    MAX_OBJECT_FRACTION,
    MIN_OBJECT_FRACTION,
    NETWORK_KEEP,
    joined,
    network_grabcut,
    prepare_photo,
    segment,
)
from parvox.progress import markdown_table, progress  # noqa: E402
from parvox.shared import shared_dir  # noqa: E402

#: Background kinds drawn for the composites (the training augmentation's textures and rooms).
KINDS = ("pattern", "noise", "room", "gradient")
#: How the "as photographed" composites frame the object: long side and centre, uniform.
PHOTO_EXTENT = (0.55, 0.95)
PHOTO_CENTRE = (0.4, 0.6)
#: The 10th-90th percentile of the bounding box's long side over the frame side, and of its
#: centre (row, column), over 520 procedural *training* renders of ``data/ship`` (40 per class,
#: one random view each, seed 0; never the real samples), rounded: :func:`fitted_framing`'s
#: range, as ``--ranges`` prints it (:func:`framing_ranges`).
EXTENT_RANGE = (0.47, 0.83)
CENTRE_RANGE = ((0.48, 0.57), (0.46, 0.54))


def own_framing(mask: np.ndarray) -> tuple[float, tuple[float, float]]:
    """The object's framing in its picture: (bounding box's long side, (centre row, centre
    column)) as fractions of the square that letterboxes the picture (side ``max(h, w)``, the
    picture in its middle), for a bool ``(h, w)`` ``mask``, not empty."""
    rows, cols = np.nonzero(mask)
    side = max(mask.shape)
    top, left = (side - mask.shape[0]) / 2, (side - mask.shape[1]) / 2
    extent = max(rows.max() + 1 - rows.min(), cols.max() + 1 - cols.min()) / side
    return extent, ((top + (rows.min() + rows.max() + 1) / 2) / side,
                    (left + (cols.min() + cols.max() + 1) / 2) / side)


def fitted_framing(mask: np.ndarray) -> dict[str, object]:
    """``frame_object``'s ``extent`` and ``centre`` for ``mask`` (bool ``(h, w)``): its
    :func:`own_framing` clipped into :data:`EXTENT_RANGE` and :data:`CENTRE_RANGE`."""
    extent, centre = own_framing(mask)
    return {"extent": float(np.clip(extent, *EXTENT_RANGE)),
            "centre": tuple(float(np.clip(c, *r)) for c, r in zip(centre, CENTRE_RANGE,
                                                                  strict=True))}


def framed(rgb: np.ndarray, mask: np.ndarray, how: str) -> np.ndarray:
    """uint8 ``(137, 137, 4)``: ``rgb``'s object at the framing ``how`` ("median" or
    "fitted")."""
    return frame_object(rgb, mask) if how == "median" else frame_object(
        rgb, mask, **fitted_framing(mask))


def pick(layout: R2N2Layout, split: str, per_class: int,
         rng: np.random.Generator) -> list[tuple[ModelRef, int]]:
    """``per_class`` models of each class of ``split`` and one view of each."""
    chosen = []
    for entry in load_splits(layout.splits_path()):
        ids = entry.ids(split)
        for i in rng.choice(len(ids), min(per_class, len(ids)), replace=False):
            chosen.append((ModelRef(entry.taxonomy_id, ids[i]), int(rng.integers(24))))
    return chosen


def framing_ranges(data: str, per_class: int, seed: int) -> list[list[str]]:
    """Rows: each framing quantity's 10th and 90th percentile over one random view of
    ``per_class`` models per class of the *training* split, and the constant that holds it."""
    layout = R2N2Layout(data)
    chosen = pick(layout, "train", per_class, np.random.default_rng(seed))
    stats = np.array([bbox_stats(load_rgba(layout.image_path(ref, view))[..., 3])
                      for ref, view in chosen])
    constants = (EXTENT_RANGE, *CENTRE_RANGE)
    return [[name, f"{np.percentile(stats[:, k], 10):.3f}",
             f"{np.percentile(stats[:, k], 90):.3f}", f"{constants[k][0]}-{constants[k][1]}"]
            for k, name in enumerate(("long side", "centre row", "centre column"))]


def room_masks(seeds: range = range(3), other: Other | None = None) -> list[list[str]]:
    """Rows: GrabCut alone, each level of :data:`KEEPS` put back, each mask network side of
    :data:`SIDES` and each of ``other``'s, and the mask IoU each gives on the room photo of
    ``tests/test_photo.py`` (a red table before a noisy wall and a tiled floor) for each seed:
    where the mask network's false floor tiles come back."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_photo import room_photo

    photos = [room_photo(seed=seed) for seed in seeds]
    rows = []
    for keep in (None, *KEEPS):
        name = "GrabCut alone" if keep is None else f"GrabCut + network ≥ {keep}"
        rows.append([name, *(f"{mask_iou(segment(rgb, keep=keep), truth):.3f}"
                             for rgb, truth in photos)])
    for name, network in {**side_choices(), **other_choices(other)}.items():
        rows.append([name, *(f"{_found_iou(rgb, truth, network):.3f}" for rgb, truth in photos)])
    return rows


@dataclass(frozen=True)
class Other:
    """``--masknet``: another mask network, its name in the tables and the sides it runs at."""

    name: str
    model: MaskNet
    sides: tuple[int, ...]


def other_choices(other: Other | None) -> dict[str, dict[str, object]]:
    """``other``'s network at each of its sides, as :func:`_network_mask`'s keywords by name."""
    if other is None:
        return {}
    return {f"{other.name} at {side}": {"model": other.model, "side": side, "flip": False}
            for side in other.sides}


def _found_iou(rgb: np.ndarray, truth: np.ndarray, network: dict[str, object]) -> float:
    """Mask IoU against ``truth`` of the segmentation with the network run as ``network``
    says (0 when the network finds nothing)."""
    found = _network_mask(rgb, **network)
    return 0.0 if found is None else mask_iou(found, truth)


def photo_masks(photos: Path, sides: bool, other: Other | None) -> tuple[list[str], list]:
    """``--photos``: the header and, per mask network choice (the shipped one, ``--sides``'
    :data:`SIDES`, ``other``'s), its mask IoU on each shared photo with the alpha ignored,
    against the alpha, at the photo path's working size."""
    choices = {**side_choices(((INFERENCE_SIDE, INFERENCE_FLIP),)),
               **(side_choices() if sides else {}), **other_choices(other)}
    paths = sorted(photos.glob("*.png"))
    if not paths:
        raise ParvoxError(f"{photos}: no .png photos")
    pictures = []
    for path in paths:
        truth = prepare_photo(path)  # the alpha is the object's mask
        size = truth.photo.shape[1::-1]
        rgb = Image.open(path).convert("RGB").resize(size, Image.Resampling.BOX)
        pictures.append((np.asarray(rgb), truth.mask))
    rows = [[name, *(f"{_found_iou(rgb, truth, network):.3f}" for rgb, truth in pictures)]
            for name, network in choices.items()]
    return ["shared photo, alpha ignored", *(p.stem for p in paths)], rows


#: The mask network's sides (and mirrored passes) that ``--sides`` compares.
SIDES = ((128, False), (160, False), (192, False), (224, False), (192, True))


def side_name(side: int, flip: bool) -> str:
    """The name of one of :data:`SIDES` in the tables."""
    shipped = " (shipped)" if (side, flip) == (INFERENCE_SIDE, INFERENCE_FLIP) else ""
    return f"network at {side}{' + mirrored' if flip else ''}{shipped}"


def _network_mask(rgb: np.ndarray, **network: object) -> np.ndarray | None:
    """The whole segmentation with the mask network run as ``network`` says (``side``,
    ``flip``, ``fill`` of :func:`parvox.masknet.object_probability`); ``None`` when the network
    finds nothing."""
    parts = network_grabcut(rgb, **network)
    return None if parts is None else joined(*parts)


#: The fitted sides ``--fitted`` compares: (first side, fill), see
#: :func:`parvox.masknet.fitted_side`.
FITTED = ((160, 0.7),)


def fitted_masks(rgb: np.ndarray) -> dict[str, np.ndarray | None]:
    """``--fitted``: the masks of :data:`FITTED` other than the shipped one, by name."""
    return {f"network at {side}, fitted to {fill}": _network_mask(rgb, side=side, fill=fill)
            for side, fill in FITTED if (side, fill) != (INFERENCE_SIDE, INFERENCE_FILL)}


def side_choices(sides: tuple[tuple[int, bool], ...] = SIDES) -> dict[str, dict[str, object]]:
    """Each of ``sides`` (side, mirrored) as :func:`_network_mask`'s keywords, by name."""
    return {side_name(side, flip): {"side": side, "flip": flip} for side, flip in sides}


def side_masks(rgb: np.ndarray) -> dict[str, np.ndarray | None]:
    """``--sides``: the masks of :data:`SIDES` other than the shipped one, by name."""
    shipped = side_name(INFERENCE_SIDE, INFERENCE_FLIP)
    return {name: _network_mask(rgb, **network) for name, network in side_choices().items()
            if name != shipped}


def photographed(render: np.ndarray, background: np.ndarray,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The render's object cut out and pasted on ``background`` at a random size and centre
    (:data:`PHOTO_EXTENT`, :data:`PHOTO_CENTRE`): (uint8 RGB, bool alpha), both CANVAS."""
    alpha = render[..., 3] >= MASK_LEVEL
    rows, cols = np.nonzero(alpha)
    piece = render[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = rng.uniform(*PHOTO_EXTENT) * CANVAS / max(piece.shape[:2])
    size = (max(1, round(piece.shape[1] * scale)), max(1, round(piece.shape[0] * scale)))
    row, col = rng.uniform(*PHOTO_CENTRE, size=2) * CANVAS
    return paste(piece, size, (round(col - size[0] / 2), round(row - size[1] / 2)), background)


#: The mask network's levels whose pixels ``--masks`` puts back after GrabCut.
KEEPS = (0.3, 0.5, 0.8, NETWORK_KEEP)
SHIPPED = f"GrabCut + network ≥ {NETWORK_KEEP} (shipped)"


def candidate_masks(rgb: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray | None]:
    """The masks ``--masks`` compares, by name (``None``: the network found nothing)."""
    parts = network_grabcut(rgb)
    if parts is None:
        return {SHIPPED: None, "GrabCut alone": None, "network ≥ 0.5 alone": None,
                **{f"GrabCut + network ≥ {k}": None for k in KEEPS if k != NETWORK_KEEP},
                "true mask": truth}
    found, prob = parts
    masks = {SHIPPED: joined(found, prob), "GrabCut alone": joined(found, prob, None)}
    masks.update({f"GrabCut + network ≥ {k}": joined(found, prob, k)
                  for k in KEEPS if k != NETWORK_KEEP})
    masks["network ≥ 0.5 alone"] = joined(prob >= 0.5, prob, None)
    masks["true mask"] = truth
    return masks


def scores(model: torch.nn.Module, rgb: np.ndarray, truth: np.ndarray, target: np.ndarray,
           masks: bool, framing: bool, sides: bool = False,
           fitted: bool = False, other: Other | None = None) -> dict[str, float]:
    """One composite: per mask (``masks``, ``sides``, ``fitted``, ``other``'s network at each
    of its sides) its IoU through the photo path
    and its mask IoU; per framing (``framing``) the IoU from the shipped segmentation and from
    the true mask. A mask the photo path would refuse ("no object found") scores 0."""
    size = model.config.image_size

    def through(mask: np.ndarray | None, how: str = "median") -> float:
        if mask is None or not MIN_OBJECT_FRACTION <= mask.mean() <= MAX_OBJECT_FRACTION:
            return 0.0
        return voxel_iou(predict(model, [protocol_view(framed(rgb, mask, how), size)]), target)

    candidates = candidate_masks(rgb, truth) if masks else {SHIPPED: segment(rgb),
                                                             "true mask": truth}
    if sides:
        candidates.update(side_masks(rgb))
    if fitted:
        candidates.update(fitted_masks(rgb))
    candidates.update({name: _network_mask(rgb, **network)
                       for name, network in other_choices(other).items()})
    out = {}
    for name, mask in candidates.items():
        out[name] = through(mask)
        out[f"{name}: mask"] = 0.0 if mask is None else mask_iou(mask, truth)
    if framing:
        for name in (SHIPPED, "true mask"):
            out[f"{name}: fitted"] = through(candidates[name], "fitted")
    return out


def measure(checkpoint: str, data: str, split: str, per_class: int, seed: int, masks: bool,
            framing: bool, sides: bool = False, fitted: bool = False,
            other: Other | None = None) -> tuple[list[str], dict[str, dict[str, np.ndarray]]]:
    """Each sample's synset, and per composite kind, each score's ``(samples,)`` values."""
    model, _ = load_model(checkpoint)
    layout = R2N2Layout(data)
    rng = np.random.default_rng(seed)
    synsets: list[str] = []
    found: dict[str, dict[str, list[float]]] = {"as rendered": {}, "as photographed": {}}
    for ref, view in progress(pick(layout, split, per_class, rng), desc="composites",
                              unit="model"):
        render = load_rgba(layout.image_path(ref, view))
        target = read_binvox(layout.voxel_path(ref)).occupancy.astype(bool)
        background = augment.background(str(rng.choice(KINDS)), (CANVAS, CANVAS), rng)
        background = background.round().clip(0, 255).astype(np.uint8)
        synsets.append(ref.synset)
        clean = voxel_iou(predict(model, [protocol_view(render, model.config.image_size)]),
                          target)
        for kind, (rgb, truth) in (("as rendered", composite(render, background)),
                                   ("as photographed", photographed(render, background, rng))):
            for key, value in {"clean": clean,
                               **scores(model, rgb, truth, target, masks, framing, sides,
                                         fitted, other)}.items():
                found[kind].setdefault(key, []).append(value)
    return synsets, {k: {s: np.asarray(v) for s, v in d.items()} for k, d in found.items()}


def _mean(synsets: list[str], values: np.ndarray) -> float:
    return paired(synsets, values, values)["mean"]


def _row(kind: str, name: str, synsets: list[str], per: dict[str, np.ndarray],
         a: np.ndarray, b: np.ndarray, report: dict) -> list[str]:
    stats = paired(synsets, a, b)
    report[f"{kind}, {name}"] = {"clean": _mean(synsets, per["clean"]), **stats}
    return [kind, name, f"{stats['mean']:.3f}", f"{stats['diff']:+.4f} ± {stats['two_se']:.4f}",
            f"{stats['up']} / {stats['down']}"]


def mask_table(synsets: list[str], found: dict[str, dict[str, np.ndarray]]) -> tuple[str, dict]:
    """``--masks``, ``--sides``, ``--fitted``: per composite kind and mask, its mask IoU, its
    IoU and the paired difference to the shipped mask; the JSON report."""
    rows, report = [], {}
    for kind, per in found.items():
        names = [k for k in per if k != "clean" and ":" not in k]
        for name in names:
            row = _row(kind, name, synsets, per, per[name], per[SHIPPED], report)
            mask = _mean(synsets, per[f"{name}: mask"])
            report[f"{kind}, {name}"]["mask_iou"] = mask
            rows.append([*row[:2], f"{mask:.3f}", f"{_mean(synsets, per['clean']):.3f}",
                         *row[2:]])
    header = ["composites", "mask", "mask IoU", "clean grey", "IoU", "− shipped (± 2 s.e.)",
              "classes up / down"]
    return markdown_table(header, rows), report


def framing_table(synsets: list[str],
                  found: dict[str, dict[str, np.ndarray]]) -> tuple[str, dict]:
    """``--framing``: per composite kind and mask, the IoU at R2N2's median framing and at
    the fitted one, and the paired difference; the JSON report."""
    rows, report = [], {}
    for kind, per in found.items():
        for name in (SHIPPED, "true mask"):
            row = _row(kind, name, synsets, per, per[f"{name}: fitted"], per[name], report)
            report[f"{kind}, {name}"]["median"] = _mean(synsets, per[name])
            rows.append([*row[:2], f"{_mean(synsets, per['clean']):.3f}",
                         f"{_mean(synsets, per[name]):.3f}", *row[2:]])
    header = ["composites", "mask", "clean grey", "median framing (shipped)", "fitted framing",
              "fitted − median (± 2 s.e.)", "classes up / down"]
    return markdown_table(header, rows), report


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="an R2N2-layout dataset with splits")
    parser.add_argument("--split", default="val")
    parser.add_argument("--per-class", type=int, default=40,
                        help="models per class for the composites (0: none, e.g. with --photos)")
    parser.add_argument("--checkpoint", default="pretrained")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--masks", action="store_true", help="compare the masks")
    parser.add_argument("--sides", action="store_true",
                        help="compare the mask network's sides (and mirrored passes)")
    parser.add_argument("--fitted", action="store_true",
                        help="compare the mask network at fitted sides (FITTED)")
    parser.add_argument("--masknet", help="another mask network's weights to compare "
                        "(scripts/train_masknet.py's file)")
    parser.add_argument("--masknet-sides", default="160,192,224",
                        help="the sides --masknet's network runs at, comma-separated")
    parser.add_argument("--framing", action="store_true", help="compare the framings")
    parser.add_argument("--room", action="store_true",
                        help="print each mask's IoU on the room photo of tests/test_photo.py")
    parser.add_argument("--photos", action="store_true",
                        help="print each mask network choice's mask IoU on the shared photos")
    parser.add_argument("--ranges", action="store_true",
                        help="print the training renders' framing ranges that --framing "
                             "clips to (from the train split, whatever --split says)")
    parser.add_argument("--json", help="write the report here too")
    args = parser.parse_args()
    args.compare_masks = args.masks or args.sides or args.fitted or bool(args.masknet)
    if not (args.compare_masks or args.framing or args.ranges or args.room or args.photos):
        parser.error("nothing to measure: pass --masks, --sides, --fitted, --masknet, "
                     "--framing, --ranges, --room or --photos")
    try:
        args.masknet_sides = parse_sides(args.masknet_sides)
    except ValueError:
        parser.error(f"--masknet-sides must be multiples of {SIDE_MULTIPLE} separated by commas")
    return args


def load_other(args: argparse.Namespace) -> Other | None:
    """``--masknet``'s network, named by its file."""
    if not args.masknet:
        return None
    return Other(f"network {Path(args.masknet).name}", load_masknet(args.masknet),
                 args.masknet_sides)


def main() -> int:
    args = parse_args()
    try:
        other = load_other(args)
        if args.photos:
            header, rows = photo_masks(shared_dir() / "photos", args.sides, other)
            print(markdown_table(header, rows))
        if args.ranges:
            print(markdown_table(["framing, fraction of the frame", "p10", "p90", "range used"],
                                 framing_ranges(args.data, args.per_class, args.seed)))
        if args.room:
            print(markdown_table(["room photo of tests/test_photo.py", "seed 0", "seed 1",
                                  "seed 2"], room_masks(other=other)))
        if not (args.compare_masks or args.framing) or args.per_class == 0:
            return 0
        synsets, found = measure(args.checkpoint, args.data, args.split, args.per_class,
                                 args.seed, args.masks, args.framing, args.sides, args.fitted,
                                 other)
    except ParvoxError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{len(synsets)} models of {args.data} ({args.split}, seed {args.seed}), checkpoint "
          f"{args.checkpoint}")
    report: dict[str, object] = {"args": vars(args)}
    for wanted, make in ((args.compare_masks, mask_table), (args.framing, framing_table)):
        if wanted:
            text, report[make.__name__] = make(synsets, found)
            print(f"\n{text}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
