"""The photo path's mask network in use: its shipped weights and the object's probability per
pixel of a photo.

The network (:class:`parvox.models.masknet.MaskNet`) is trained on procedural renders set into
photo-like scenes (:mod:`parvox.data.masks`, ``scripts/train_masknet.py``). It sees the photo
squashed to a square (:data:`INFERENCE_SIDE`) and returns the object's probability per pixel;
:func:`parvox.photo.segment` starts GrabCut from it. The shipped weights are
``parvox/weights/masknet.safetensors`` (fp16, its widths in the file's metadata).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from parvox.errors import DataError
from parvox.files import read_safetensors, write_half_safetensors
from parvox.models.masknet import MaskNet

#: The shipped weights, inside the package.
WEIGHTS = "masknet.safetensors"
#: The side of the square a photo is squashed to for the network. It is trained on scenes of
#: :data:`~parvox.data.masks.MASK_SIDE` (128); being fully convolutional it runs at any multiple
#: of 16, and a larger square gives thin parts more pixels: at 128 the parts a mask missed were
#: most of the segmentation's cost. Chosen by the rule in docs/RESULTS.md from 160, 192, 224 and
#: 192 mirrored (``bench/photo_choices.py --sides``): 224, 192 mirrored and 192 led on 520
#: procedural validation composites but lowered the shared photos' masks (a large object in
#: a large square outgrows what the network saw in training); 160 keeps them and gains, paired
#: with 128, +0.013 ± 0.006 framed as renders and +0.006 ± 0.005 framed as photos (IoU@0.4
#: through the photo path; +0.009 ± 0.006 and +0.008 ± 0.006 on 520 test composites).
INFERENCE_SIDE = 160
#: Whether the network's probability is averaged with that of the photo mirrored left-right.
INFERENCE_FLIP = False
#: With a fill, a first pass at :data:`INFERENCE_SIDE` measures the object and a second pass
#: runs at the side where its long side spans ``fill`` x :data:`INFERENCE_SIDE` pixels
#: (:func:`fitted_side`): small objects magnified, large ones not. ``None``: one pass.
INFERENCE_FILL: float | None = None
#: The range :func:`fitted_side` keeps to.
FITTED_SIDES = (128, 224)


def save_masknet(model: MaskNet, path: str | Path, info: dict[str, object]) -> None:
    """Write ``model`` as fp16 safetensors (atomically) with its widths and ``info`` in the
    metadata."""
    write_half_safetensors(path, model.state_dict(),
                           {"widths": json.dumps(model.widths), "info": json.dumps(info)})


def load_masknet(path: str | Path) -> MaskNet:
    """A :class:`MaskNet` in eval mode, float32, from :func:`save_masknet`'s file; a missing or
    corrupt file is a :class:`~parvox.errors.DataError` naming it."""
    tensors, header = read_safetensors(path, "mask network weights not found",
                                      "cannot load mask network weights")
    try:
        model = MaskNet(tuple(json.loads(header["widths"])))
        model.load_state_dict({key: t.float() for key, t in tensors.items()})
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise DataError(path, f"cannot load mask network weights ({type(exc).__name__})") from None
    return model.eval()


def masknet_info(path: str | Path) -> dict:
    """The training record :func:`save_masknet` stored with the weights at ``path`` (steps,
    scenes, minutes, validation IoU, command); a missing file or record is a DataError."""
    _, header = read_safetensors(path, "mask network weights not found",
                                 "cannot read mask network weights")
    try:
        return json.loads(header["info"])
    except (KeyError, ValueError) as exc:
        raise DataError(path, f"no training record in its metadata ({exc})") from None


def shipped_path() -> Path:
    """Where the shipped mask network's weights are."""
    return Path(str(resources.files("parvox") / "weights" / WEIGHTS))


@functools.lru_cache(maxsize=1)
def shipped_masknet() -> MaskNet:
    """The mask network shipped in the package (loaded once)."""
    return load_masknet(shipped_path())


def fitted_side(prob: np.ndarray, side: int, fill: float) -> int:
    """The side (a multiple of 16 in :data:`FITTED_SIDES`) at which the object that ``prob``
    (float ``(h, w)``, from a pass at ``side``) finds at 0.5 spans ``fill * side`` pixels
    along its bounding box's longer side; ``side`` when it finds nothing."""
    rows, cols = np.nonzero(prob >= 0.5)
    if len(rows) == 0:
        return side
    extent = max((rows.max() + 1 - rows.min()) / prob.shape[0],
                 (cols.max() + 1 - cols.min()) / prob.shape[1])
    return int(np.clip(16 * round(side * fill / extent / 16), *FITTED_SIDES))


def object_probability(rgb: np.ndarray, model: MaskNet | None = None, *,
                       side: int = INFERENCE_SIDE, flip: bool = INFERENCE_FLIP,
                       fill: float | None = INFERENCE_FILL) -> np.ndarray:
    """float32 ``(h, w)`` in [0, 1]: the object's probability at each pixel of the uint8
    ``(h, w, 3)`` photo, from ``model`` (the shipped one by default) on the photo squashed to a
    ``side`` square (a multiple of 16), stretched back bilinearly; with ``flip`` the mean with
    the photo mirrored left-right; with ``fill`` again at :func:`fitted_side`'s side."""
    prob = _probability(rgb, model, side, flip)
    if fill is not None:
        fitted = fitted_side(prob, side, fill)
        if fitted != side:
            prob = _probability(rgb, model, fitted, flip)
    return prob


def _probability(rgb: np.ndarray, model: MaskNet | None, side: int, flip: bool) -> np.ndarray:
    """One pass of :func:`object_probability` at ``side``."""
    if side <= 0 or side % 16:
        raise ValueError(f"the mask network's side must be a positive multiple of 16, got {side}")
    model = model or shipped_masknet()
    square = np.asarray(Image.fromarray(rgb).resize((side, side), Image.Resampling.BILINEAR))
    batch = torch.from_numpy(np.array(square)).permute(2, 0, 1)[None].float()
    if flip:
        batch = torch.cat([batch, batch.flip(-1)])
    with torch.no_grad():
        logits = model(batch)
        prob = torch.sigmoid(F.interpolate(logits, size=rgb.shape[:2], mode="bilinear",
                                           align_corners=False))
    if flip:
        prob = (prob[:1] + prob[1:].flip(-1)) / 2
    return prob[0, 0].numpy()
