"""Photo preprocessing shared by ``parvox reconstruct`` and the web page: find the object, then
show it to the network the way it saw ShapeNet's renders.

The networks were trained on R2N2 renders: one object, centred, on a plain background. A
photo has a room around its object, so each photo goes through:

1. **a mask** of the object, from the first of: a mask file of the user's (``--mask``); the
   photo's own alpha channel, when it has a real one; a segmentation (:func:`segment`:
   OpenCV's GrabCut, started from the mask network of :mod:`parvox.masknet`, with the
   pixels that network is sure of put back); with ``segment=False`` the whole photo is the
   object;
2. **re-framing** (:func:`parvox.data.framing.frame_object`): the object is cut out at its
   mask's bounding box and pasted into a transparent 137x137 frame at the scale and position
   of the R2N2 renders (:data:`~parvox.data.framing.FRAME_EXTENT`,
   :data:`~parvox.data.framing.FRAME_CENTRE`), the mask as its alpha;
3. **the evaluation protocol** (:func:`parvox.data.dataset.protocol_view`): the centred 127
   crop on the 240 grey, resized to the network's input.

Every failure is a :class:`~parvox.errors.DataError` naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from parvox.data.dataset import protocol_view
from parvox.data.framing import MASK_LEVEL, frame_object
from parvox.data.images import has_alpha, photo_size, read_photo
from parvox.errors import DataError
from parvox.masknet import object_probability

#: Long side, in pixels, of the working copy that segmentation and re-framing use.
WORK_SIDE = 384
#: A mask covering less of the photo than this, or more than :data:`MAX_OBJECT_FRACTION`, is
#: "no object found".
MIN_OBJECT_FRACTION = 0.002
MAX_OBJECT_FRACTION = 0.98
#: Pixels that border_flood's 5x5 blur carries a frame's colour into the picture (2) plus one.
BLUR_REACH = 3
#: Mask sources, as :attr:`PreparedPhoto.mask_source` names them.
MASK_SOURCES = ("mask file", "alpha", "segmentation", "whole photo")
#: The mask network's probability beyond which (or below one minus which) GrabCut may not
#: relabel a pixel: 0.98 segmented the cluttered composites of ``bench/photo_bench.py`` better
#: than 0.9 with the first mask network (mask IoU 0.828 against 0.798). With the shipped one,
#: 0.95 led on 400 procedural validation scenes by 0.004 ± 0.003 (``bench/segment_sweep.py``)
#: but lowered the held-out composites (0.877 to 0.872), so 0.98 stays (docs/RESULTS.md).
SURE = 0.98
#: After GrabCut, every pixel the mask network gives at least this probability is put back in
#: the mask: GrabCut's colour models drop whole parts that the network was sure of, and a part
#: missing costs the reconstruction more than a little background kept. Measured by voxel IoU
#: through the photo path on procedural composites (``bench/photo_choices.py --masks``,
#: docs/RESULTS.md): on 520 validation models any level from 0.3 to 0.9 led GrabCut alone, 0.3
#: most, but below 0.9 the network's false floor tiles come back with the parts (the room
#: photo of tests/test_photo.py: mask IoU 1.00 alone, 0.51 at 0.3, 0.83 at 0.8, 0.99 at 0.9;
#: with the network at 128, as then: at 160 every level keeps it).
#: 0.9 led the levels that keep that photo, and 520 test models confirmed it (+0.001 ± 0.002
#: framed as renders, +0.006 ± 0.004 framed as photos). ``None`` is GrabCut alone.
NETWORK_KEEP = 0.9
#: OpenCV's global random state is seeded with this before each GrabCut: its colour models
#: start from a k-means drawn from that state, so without a seed the same photo's mask moved
#: with whatever OpenCV did before in the process (the web page's long-lived one included).
GRABCUT_SEED = 0
#: Where :func:`segment`'s GrabCut starts from: the mask network, or the flood from the border.
PRIORS = ("network", "border")


@dataclass
class PreparedPhoto:
    """One photo made ready for the network.

    Attributes:
        path: the photo's file.
        photo: uint8 ``(h, w, 3)`` the photo at working size (long side <= :data:`WORK_SIDE`).
        mask: bool ``(h, w)`` the object in ``photo``.
        mask_source: where the mask came from (one of :data:`MASK_SOURCES`).
        framed: uint8 ``(137, 137, 4)`` the object re-framed like an R2N2 render, mask as alpha.
    """

    path: str
    photo: np.ndarray
    mask: np.ndarray
    mask_source: str
    framed: np.ndarray

    def view(self, image_size: int) -> torch.Tensor:
        """The network's input: float32 ``(3, image_size, image_size)`` in [0, 1]."""
        return protocol_view(self.framed, image_size)

    def mask_overlay(self) -> np.ndarray:
        """uint8 ``(h, w, 3)``: the photo with everything outside the mask dimmed and tinted."""
        dim = (0.35 * self.photo + 0.65 * np.array([30, 60, 140])).astype(np.uint8)
        return np.where(self.mask[..., None], self.photo, dim)


def prepare_photo(path: str | os.PathLike[str], *, mask_path: str | os.PathLike[str] | None = None,
                  segment_photo: bool = True) -> PreparedPhoto:
    """Read, mask and re-frame one photo (see the module doc for the order of mask sources)."""
    image = read_photo(path, None, min_side=WORK_SIDE)
    if min(image.size) < 8:
        raise DataError(path, f"image too small ({image.width}x{image.height}; need at least "
                              "8x8)")
    image = _work_size(image)
    rgba = np.asarray(image.convert("RGBA"))
    mask = None
    if mask_path is not None:
        mask = read_mask(mask_path, path, image.size)
    alpha = rgba[..., 3] if _real_alpha(image, rgba) else None
    return prepare_rgb(np.ascontiguousarray(rgba[..., :3]), str(path), mask=mask, alpha=alpha,
                       segment_photo=segment_photo)


def prepare_rgb(rgb: np.ndarray, name: str, *, mask: np.ndarray | None = None,
                alpha: np.ndarray | None = None, segment_photo: bool = True,
                prior: str = "network") -> PreparedPhoto:
    """Mask and re-frame a uint8 ``(h, w, 3)`` photo already at working size; ``mask`` (bool)
    wins over ``alpha`` (uint8), which wins over segmentation (:func:`segment` with
    ``prior``). ``name`` names it in errors."""
    if mask is not None:
        source = "mask file"
    elif alpha is not None:
        mask, source = alpha >= MASK_LEVEL, "alpha"
    elif segment_photo:
        mask, source = segment(rgb, prior=prior), "segmentation"
    else:
        mask, source = np.ones(rgb.shape[:2], bool), "whole photo"
    _check_mask(mask, name, source)
    return PreparedPhoto(name, rgb, mask, source, frame_object(rgb, mask))


def _work_size(image: Image.Image) -> Image.Image:
    """``image`` reduced (area filter) so that its long side is at most :data:`WORK_SIDE`."""
    scale = WORK_SIDE / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BOX)


def _real_alpha(image: Image.Image, rgba: np.ndarray) -> bool:
    """Whether the photo's alpha marks an object: present, and not opaque all over (an alpha
    that clears everything marks no object, which :func:`prepare_rgb` refuses)."""
    return has_alpha(image) and float((rgba[..., 3] >= MASK_LEVEL).mean()) <= MAX_OBJECT_FRACTION


def read_mask(path: str | os.PathLike[str], photo: str | os.PathLike[str],
              size: tuple[int, int]) -> np.ndarray:
    """A user's mask file as bool ``(h, w)`` for a photo read at ``size`` (w, h): white (or
    opaque, for masks with alpha) is the object. It must have the photo's pixel size as the
    photo is seen (turned by its EXIF Orientation, as :func:`read_photo` turns it)."""
    mask_size, photo_seen = photo_size(path), photo_size(photo)
    if mask_size != photo_seen:
        raise DataError(path, f"mask is {mask_size[0]}x{mask_size[1]} but the photo {photo} is "
                              f"{photo_seen[0]}x{photo_seen[1]}: a mask must match its photo")
    image = read_photo(path, None, min_side=max(size))
    alpha = np.asarray(image)[..., 3]
    grey = Image.fromarray(alpha) if alpha.min() < 255 else image.convert("L")
    return np.asarray(grey.resize(size, Image.Resampling.BOX)) >= MASK_LEVEL


class NoObjectFound(DataError):
    """The segmentation found no object in a photo (nothing, or the whole photo). Its message
    tells the command line's remedies; :attr:`finding` is the finding alone, for a caller (the
    web page) that offers other ones."""

    def __init__(self, path: str | os.PathLike[str], finding: str) -> None:
        self.finding = finding
        super().__init__(path, f"{finding}; give one with --mask FILE, or pass --no-segment")


def _check_mask(mask: np.ndarray, path: str | os.PathLike[str], source: str) -> None:
    """Refuse empty or all-covering masks with one line naming the photo."""
    fraction = float(mask.mean())
    covers = f"object mask covers {100 * fraction:.2f} % of the photo"
    if fraction < MIN_OBJECT_FRACTION and source == "mask file":
        raise DataError(path, f"the mask file is empty ({covers})")
    if fraction < MIN_OBJECT_FRACTION:
        raise NoObjectFound(path, f"no object found ({covers})")
    if fraction > MAX_OBJECT_FRACTION and source == "segmentation":
        raise NoObjectFound(path, "no object found (the segmentation took the whole photo)")


# ------------------------------------------------------------------------------ segmentation


def segment(rgb: np.ndarray, iterations: int = 5, prior: str = "network",
            keep: float | None = NETWORK_KEEP) -> np.ndarray:
    """The object in a photo without alpha: bool ``(h, w)``.

    1. A photo that floods whole from its border through small colour steps
       (:func:`border_flood`) is a plain wall: no object.
    2. The mask network (:mod:`parvox.masknet`, trained on procedural renders set into
       photo-like scenes) gives each pixel the object's probability.
    3. GrabCut (Rother et al. 2004, OpenCV) starts from it: the pixels the network is sure of
       (beyond :data:`SURE`) and the image border (where the network is not sure of the
       object) are fixed, the rest "probably" object or background as the network leans;
       GrabCut's colour models then settle the unsure ones along the photo's own edges, and
       the pixels the network gives at least ``keep`` (:data:`NETWORK_KEEP`) are added back.
    4. The largest connected region is kept, with the regions at least a tenth its size
       (legs, handles).

    ``prior="border"`` is the segmentation from before the mask network, kept for
    ``bench/photo_bench.py`` to compare: GrabCut starts from the flood alone (flooded pixels
    probably background, the rest probably the object), and a picture left inside a plain
    frame (a product shot pasted on white) is segmented on its own, or is the object when
    nothing is found in it.
    """
    if prior not in PRIORS:
        raise ValueError(f"segmentation prior must be one of {PRIORS}, got {prior!r}")
    outer = border_flood(rgb)
    if outer.all():
        return np.zeros(rgb.shape[:2], bool)
    box = _framed_picture(rgb, outer) if prior == "border" else None
    if box is not None:
        inside = segment(np.ascontiguousarray(rgb[box]), iterations, prior)
        if inside.mean() >= MIN_OBJECT_FRACTION:  # else the picture itself is the object
            mask = np.zeros(rgb.shape[:2], bool)
            mask[box] = inside
            return mask
    if prior == "network":
        parts = network_grabcut(rgb, iterations)
        return np.zeros(rgb.shape[:2], bool) if parts is None else joined(*parts, keep)
    found = _grabcut(rgb, _seed(~outer, np.zeros_like(outer), np.zeros_like(outer)), iterations)
    return np.zeros(rgb.shape[:2], bool) if found is None else _main_regions(found)


def network_grabcut(rgb: np.ndarray, iterations: int = 5,
                    **network: object) -> tuple[np.ndarray, np.ndarray] | None:
    """Steps 2-3 of :func:`segment` before anything is added back: (GrabCut's bool ``(h, w)``
    mask started from the mask network, the network's float ``(h, w)`` probability), or
    ``None`` when the network finds too little to start from. ``network`` goes to
    :func:`~parvox.masknet.object_probability`: ``model`` (the shipped network by default),
    ``side``, ``flip`` and ``fill`` (the shipped :data:`~parvox.masknet.INFERENCE_SIDE`,
    :data:`~parvox.masknet.INFERENCE_FLIP` and :data:`~parvox.masknet.INFERENCE_FILL` by
    default)."""
    prob = object_probability(rgb, **network)
    found = _grabcut(rgb, _seed(prob >= 0.5, prob >= SURE, prob <= 1 - SURE), iterations)
    return None if found is None else (found, prob)


def joined(found: np.ndarray, prob: np.ndarray, keep: float | None = NETWORK_KEEP) -> np.ndarray:
    """Step 3's end and step 4 of :func:`segment`: ``found`` with the pixels of ``prob`` at or
    above ``keep`` (none for ``None``), then its main regions; bool ``(h, w)``."""
    return _main_regions(found if keep is None else found | (prob >= keep))


def _grabcut(rgb: np.ndarray, seed: np.ndarray, iterations: int) -> np.ndarray | None:
    """GrabCut's object, bool ``(h, w)``, from the starting labels ``seed`` (changed in place);
    ``None`` when the seed holds too few object pixels to start."""
    import cv2

    if (seed == cv2.GC_PR_FGD).sum() + (seed == cv2.GC_FGD).sum() < MIN_OBJECT_FRACTION * seed.size:
        return None
    background, foreground = np.zeros((1, 65)), np.zeros((1, 65))
    cv2.setRNGSeed(GRABCUT_SEED)  # the same photo gives the same mask in any process
    cv2.grabCut(np.ascontiguousarray(rgb[..., ::-1]), seed, None, background, foreground,
                iterations, cv2.GC_INIT_WITH_MASK)
    return (seed == cv2.GC_FGD) | (seed == cv2.GC_PR_FGD)


def _seed(likely: np.ndarray, sure: np.ndarray, sure_not: np.ndarray) -> np.ndarray:
    """GrabCut's starting labels, uint8 ``(h, w)``, from bool ``(h, w)`` maps of the pixels
    that are likely, surely and surely not the object; the image border is background except
    where the object surely reaches it (a photo framed tighter than its object)."""
    import cv2

    seed = np.where(likely, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    band = max(1, round(0.02 * min(seed.shape)))
    seed[:band], seed[-band:], seed[:, :band], seed[:, -band:] = (cv2.GC_BGD,) * 4
    seed[sure] = cv2.GC_FGD
    seed[sure_not] = cv2.GC_BGD
    return seed


def _framed_picture(rgb: np.ndarray, outer: np.ndarray) -> tuple[slice, slice] | None:
    """The picture inside a plain frame: when the flood from the border took a plain colour all
    round, the box of what it left (inside the reach of the flood's blur); else ``None``."""
    rows, cols = np.nonzero(~outer)
    height, width = outer.shape
    inside = min(rows.min(), cols.min()) > 1 and rows.max() < height - 2 and cols.max() < width - 2
    if not inside or rgb[outer].std(axis=0).max() > 4.0:
        return None
    if min(np.ptp(rows), np.ptp(cols)) <= 8 * BLUR_REACH:
        return None
    return (slice(rows.min() + BLUR_REACH, rows.max() + 1 - BLUR_REACH),
            slice(cols.min() + BLUR_REACH, cols.max() + 1 - BLUR_REACH))


def border_flood(rgb: np.ndarray, tolerance: int = 3) -> np.ndarray:
    """bool ``(h, w)``: pixels reached from the image border through steps of at most
    ``tolerance`` (per channel, CIELAB of a blurred copy) between neighbours."""
    import cv2

    lab = cv2.cvtColor(cv2.GaussianBlur(rgb, (5, 5), 0), cv2.COLOR_RGB2LAB)
    h, w = lab.shape[:2]
    filled = np.zeros((h + 2, w + 2), np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8)  # 4-connected, fill value 255
    step = max(1, min(h, w) // 64)
    starts = [(x, y) for x in range(0, w, step) for y in (0, h - 1)]
    starts += [(x, y) for y in range(0, h, step) for x in (0, w - 1)]
    for x, y in starts:
        if not filled[y + 1, x + 1]:
            cv2.floodFill(lab, filled, (x, y), 0, (tolerance,) * 3, (tolerance,) * 3, flags)
    return filled[1:-1, 1:-1] > 0


def _main_regions(mask: np.ndarray, share: float = 0.1) -> np.ndarray:
    """The largest 8-connected region of ``mask`` and those at least ``share`` of its size."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    if count <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.nonzero(areas >= share * areas.max())[0] + 1
    return np.isin(labels, keep)
