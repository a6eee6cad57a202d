"""Train the photo path's mask network (:mod:`parvox.masknet`) on procedural scenes.

Each step draws fresh scenes (:func:`parvox.data.masks.scene`) around random views of the
training split's models in a loader process; the validation scenes are fixed (seeded) ones of
the validation split's models. Loss: binary cross-entropy plus soft Dice. Adam with 100 steps
of warm-up and a cosine decay over ``--steps`` or ``--time-limit``, whichever ends first;
bf16 autocast with ``--bf16``. ``--repaint P`` repaints that share of the training scenes'
objects light and mostly grey, as ShapeNet's untextured models render. ``--sides`` draws
each batch's scenes at one of the listed sides (default 128, :data:`~parvox.data.masks.MASK_SIDE`):
the network is fully convolutional and the photo path runs it at
:data:`~parvox.masknet.INFERENCE_SIDE`, so training at the sides it will run at lets a large
object fill a large square and thin parts keep more pixels. ``--init FILE``
continues saved weights with a fresh Adam and schedule (a warm restart); the file's steps,
scenes and minutes carry into the new file's totals and its command is kept before this one.
Ends with a table of mask IoU@0.5 on the fixed validation scenes, as drawn and on as many
again with every object repainted light (both at the first side), then as drawn at each
further side, and writes fp16 weights with the command in their
metadata. ``--eval-only`` prints that table for the ``--init`` weights and writes nothing.

    .venv/bin/python scripts/train_masknet.py --data data/ship --steps 3000 \\
        --out parvox/weights/masknet.safetensors [--batch 32] [--lr 2e-3] [--bf16] \\
        [--time-limit MINUTES] [--repaint P] [--sides 160,192,224]
    .venv/bin/python scripts/train_masknet.py --data data/ship --eval-only \\
        --init parvox/weights/masknet.safetensors
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from parvox.data.dataset import load_rgba
from parvox.data.layout import ModelRef, R2N2Layout, load_splits, split_models
from parvox.data.masks import MASK_SIDE, SIDE_MULTIPLE, parse_sides, scene
from parvox.errors import ParvoxError
from parvox.masknet import load_masknet, masknet_info, save_masknet
from parvox.models.masknet import MaskNet
from parvox.progress import markdown_table, progress_bar


class Scenes(IterableDataset):
    """Endless batches of (uint8 ``(B, 3, S, S)`` pictures, bool ``(B, S, S)`` masks) around
    random views of ``split``'s models, each batch at a side ``S`` drawn from ``sides``;
    seeded per loader process."""

    def __init__(self, root: Path, split: str, batch: int, seed: int,
                 repaint: float = 0.0, sides: tuple[int, ...] = (MASK_SIDE,)) -> None:
        self.layout = R2N2Layout(root)
        self.models = split_models(load_splits(self.layout.splits_path()), split)
        if not self.models:
            raise ParvoxError(f"{root}: no models in the {split} split")
        self.batch, self.seed, self.repaint, self.sides = batch, seed, repaint, sides
        self.views: dict[ModelRef, int] = {}  # per model: the views its metadata lists

    def render(self, rng: np.random.Generator) -> np.ndarray:
        ref = self.models[int(rng.integers(len(self.models)))]
        if ref not in self.views:  # read once per model, not once per scene
            self.views[ref] = self.layout.read_metadata(ref).shape[0]
        return load_rgba(self.layout.image_path(ref, int(rng.integers(self.views[ref]))))

    def draw(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        # one side drawn: nothing is drawn for it when there is only one, so a single side
        # gives the scenes it gave before the option
        side = self.sides[int(rng.integers(len(self.sides)))] if len(self.sides) > 1 \
            else self.sides[0]
        pairs = [scene(self.render(rng), rng, side, other=lambda: self.render(rng),
                       repaint=self.repaint) for _ in range(self.batch)]
        images = torch.from_numpy(np.stack([p[0] for p in pairs])).permute(0, 3, 1, 2)
        return images.contiguous(), torch.from_numpy(np.stack([p[1] for p in pairs]))

    def __iter__(self):
        info = get_worker_info()
        rng = np.random.default_rng([self.seed, info.id if info else 0])
        while True:
            yield self.draw(rng)


def loss_fn(logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """BCE plus soft Dice of ``(B, 1, S, S)`` logits against bool ``(B, S, S)`` masks."""
    target = masks[:, None].float()
    bce = F.binary_cross_entropy_with_logits(logits, target)
    prob = torch.sigmoid(logits)
    dice = 1 - (2 * (prob * target).sum((1, 2, 3)) + 1) / (prob.sum((1, 2, 3))
                                                          + target.sum((1, 2, 3)) + 1)
    return bce + dice.mean()


def mask_iou(model: MaskNet, images: torch.Tensor, masks: torch.Tensor) -> float:
    """Mean per-picture IoU of ``sigmoid(logits) >= 0.5`` against the masks."""
    model.eval()
    with torch.no_grad():
        found = torch.cat([model(images[i:i + 64].float()) for i in range(0, len(images), 64)])
    model.train()
    found = found[:, 0] >= 0
    inter = (found & masks).sum((1, 2)).float()
    union = (found | masks).sum((1, 2)).clamp(min=1).float()
    return float((inter / union).mean())


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--out", type=Path, help="where to write the weights (not with --eval-only)")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--val", type=int, default=512, help="validation scenes")
    ap.add_argument("--time-limit", type=float,
                    help="minutes: the cosine runs over the steps or this time, which ends first")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repaint", type=float, default=0.0,
                    help="share of training scenes whose object is repainted light (0..1)")
    ap.add_argument("--sides", default=str(MASK_SIDE),
                    help="sides of the training scenes, comma-separated multiples of 16; each "
                         "batch is drawn at one (validation: every one)")
    ap.add_argument("--eval-only", action="store_true",
                    help="print the validation table of the --init weights; train nothing")
    ap.add_argument("--init", type=Path, help="continue these weights (a file this script "
                    "wrote): a fresh Adam and schedule; their training adds to the totals. "
                    "With --eval-only: the weights to report")
    return ap.parse_args()


def prior_info(path: Path | None) -> dict:
    """The training record of the weights ``--init`` continues (none: an empty record)."""
    if path is None:
        return {"steps": 0, "scenes": 0, "minutes": 0.0, "command": ""}
    return masknet_info(path)


Validation = list[tuple[torch.Tensor, torch.Tensor]]


def validation(root: Path, count: int, sides: tuple[int, ...] = (MASK_SIDE,)) -> Validation:
    """The fixed validation scenes: ``count`` as drawn, then ``count`` with every object
    repainted light, both at ``sides[0]``; then ``count`` as drawn at each further side (each
    set seeded on its own; the first two are those of a single side)."""
    sets = [(10_000, 0.0, sides[0]), (10_001, 1.0, sides[0])]
    sets += [(10_000 + side, 0.0, side) for side in sides[1:]]
    return [Scenes(root, "val", count, 10_000, repaint, (side,)).draw(np.random.default_rng(seed))
            for seed, repaint, side in sets]


def row(model: MaskNet, step: int, scenes: int, val: Validation) -> list[str]:
    """A validation table row: step, scenes seen, then the mask IoU on each set."""
    return [str(step), str(scenes), *(f"{mask_iou(model, *v):.3f}" for v in val)]


def train(args: argparse.Namespace, model: MaskNet, loader, val: Validation
          ) -> tuple[list[list[str]], int]:
    """Train ``model`` in place; returns the validation rows and the steps done."""
    optim = torch.optim.Adam(model.parameters(), lr=args.lr)
    rows, start, step = [row(model, 0, 0, val)], time.monotonic(), 0
    with progress_bar(args.steps, desc="masknet", unit="step") as bar:
        for step in range(1, args.steps + 1):
            done = max(step / args.steps, (time.monotonic() - start) / 60 / args.time_limit
                       if args.time_limit else 0.0)
            for group in optim.param_groups:  # warm-up, then a cosine over steps or time
                group["lr"] = args.lr * min(1.0, step / 100) * 0.5 * (1 + math.cos(math.pi * done))
            images, masks = next(loader)
            with torch.autocast("cpu", torch.bfloat16, enabled=args.bf16):
                logits = model(images.float())
            loss = loss_fn(logits.float(), masks)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
            late = done >= 1.0
            if step % 500 == 0 or step == args.steps or late:
                rows.append(row(model, step, step * args.batch, val))
            if late:
                break
    return rows, step


def check_args(args: argparse.Namespace) -> None:
    """One clear line and exit status 1 for flags that do not go together."""
    if args.eval_only and args.init is None:
        sys.exit("error: --eval-only needs --init WEIGHTS")
    if not args.eval_only and args.out is None:
        sys.exit("error: --out is required unless --eval-only")
    if not 0.0 <= args.repaint <= 1.0:
        sys.exit(f"error: --repaint must be in [0, 1], got {args.repaint}")
    try:
        args.sides = parse_sides(args.sides)
    except ValueError:
        sys.exit(f"error: --sides must be multiples of {SIDE_MULTIPLE} separated by commas, "
                 f"got {args.sides!r}")


def main() -> None:
    args = parse_args()
    check_args(args)
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    try:
        val = validation(args.data, args.val, args.sides)
        model = load_masknet(args.init).train() if args.init else MaskNet()
        prior = prior_info(args.init)
        # scores only: no training split needed
        scenes = None if args.eval_only else Scenes(args.data, "train", args.batch, args.seed,
                                                    args.repaint, args.sides)
    except ParvoxError as exc:
        sys.exit(f"error: {exc}")
    header = ["step", "scenes", f"val mask IoU@0.5 ({args.val} scenes)",
              f"repainted light ({args.val})",
              *(f"at {side} ({args.val})" for side in args.sides[1:])]
    if scenes is None:
        print(markdown_table(header, [row(model, prior["steps"], prior["scenes"], val)]))
        return
    loader = iter(DataLoader(scenes, batch_size=None, num_workers=1, prefetch_factor=4))
    start = time.monotonic()
    rows, done = train(args, model, loader, val)
    minutes = (time.monotonic() - start) / 60
    print(markdown_table(header, rows))
    print(f"{done} steps, {done * args.batch} scenes in {minutes:.1f} min "
          f"({done * args.batch / 60 / minutes:.1f} scenes/s)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["python", *sys.argv])
    save_masknet(model, args.out, {
        "steps": prior["steps"] + done, "scenes": prior["scenes"] + done * args.batch,
        "minutes": round(prior["minutes"] + minutes, 1), "val_iou": float(rows[-1][2]),
        "val_iou_light": float(rows[-1][3]), "sides": list(args.sides),
        "command": f"{prior['command']}\n{command}" if prior["command"] else command})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
