"""The 3D-R2N2 dataset: multi-view renders and 32^3 occupancy of ShapeNet models.

Each item is one model seen from ``V`` views (see :class:`R2N2Dataset`). Randomness (which
views, crops, background colours, flips) is a pure function of ``(seed, draw, index)`` so that
any worker on any rank produces the same sample for the same key: a distributed sampler passes
``(index, draw, k)`` keys with ``draw`` a global step and ``k`` the batch's view count.
"""

from __future__ import annotations

import operator
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset

from parvox.data.augment import (
    Augment,
    jitter_frame,
    jitter_light,
    random_background,
    repaint_light,
)
from parvox.data.binvox import read_binvox
from parvox.data.framing import reframe_render
from parvox.data.images import to_rgba
from parvox.data.layout import (
    SPLIT_NAMES,
    ModelRef,
    R2N2Layout,
    default_splits,
    split_models,
)
from parvox.errors import DataError, ParvoxError

#: Ground-truth grid edge (3D-R2N2's ShapeNetVox32).
VOXEL_DIM = 32
#: Crop edge: 3D-R2N2's training setup takes 127x127 crops of its 137x137 renders.
CROP_SIZE = 127
#: Training background colour range per channel, inclusive (3D-R2N2's random background).
TRAIN_BACKGROUND = (225, 255)
#: Test-time background grey level (3D-R2N2 / Pix2Vox evaluation).
TEST_BACKGROUND = 240
#: Probability of a horizontal flip per view when ``flip=True`` (Pix2Vox's RandomFlip).
FLIP_PROBABILITY = 0.5
#: SeedSequence stream tags, so per-sample and per-draw streams never coincide.
_SAMPLE_STREAM = 1
_VIEW_COUNT_STREAM = 2

#: A dataset key: ``index``, ``(index, draw)`` or ``(index, draw, k)``.
Key = int | tuple[int, int] | tuple[int, int, int]


class R2N2Dataset(Dataset[dict[str, Any]]):
    """ShapeNet models of one split, as multi-view images and occupancy.

    Args:
        root: dataset root in the R2N2 layout (see :mod:`parvox.data.layout`).
        split: ``"train"``, ``"val"`` or ``"test"``.
        splits_file: Pix2Vox ``ShapeNet.json``; default ``root/ShapeNet.json``.
        views: number of views per sample, or an inclusive ``(min, max)`` range (training draws
            the count per draw; evaluation uses ``max``).
        train: training-time sampling and augmentation; else deterministic evaluation.
        image_size: output edge; the crop is resized (bilinear, antialiased) when it differs.
        crop: take a 127x127 crop (random when training, centred otherwise); else the full render.
        flip: when training, flip each view horizontally with probability 0.5.
        seed: base seed of all randomness (non-negative).
        allow_missing_splits: without a split file, put every discovered model in ``"test"``.
        skip_bad: a model whose files fail to load is replaced by the next good one of the
            split (a warning names the file, once per process); else its DataError is raised.
        augment: when training, augmentation for real photos beyond R2N2's (varied
            backgrounds, light and colour, framing; :class:`parvox.data.augment.Augment`).

    Items are dicts:

    - ``images``: float32 ``(V, 3, image_size, image_size)``, RGB in [0, 1];
    - ``voxels``: float32 ``(32, 32, 32)`` occupancy in {0, 1}, indexed ``[x, y, z]`` as binvox;
    - ``metadata``: float32 ``(V, 5)``, the ``rendering_metadata.txt`` rows of the chosen views
      (azimuth, elevation, in-plane rotation, distance ratio, fov);
    - ``view_ids``: int64 ``(V,)``, the render numbers used;
    - ``taxonomy``: the synset (str); ``model_id``: the model id (str).

    Keys and randomness: ``dataset[index]`` uses the current epoch (:meth:`set_epoch`) as the
    draw; ``dataset[(index, draw)]`` names the draw explicitly (e.g. a global step); and
    ``dataset[(index, draw, k)]`` also fixes the view count. All random choices come from
    ``numpy.random.Generator(SeedSequence([seed, draw, index, 1]))``, never from the worker or
    the rank. When ``views`` is a range and ``k`` is not given, ``k`` is drawn from
    ``SeedSequence([seed, draw, 0, 2])``, which does not depend on ``index``, so every sample of
    the same draw has the same ``k`` (see :meth:`views_for_draw`, :meth:`batch_keys`).

    Training picks ``k`` views at random without replacement (in random order), and per view a
    random crop, a random background colour per channel in [225, 255] and an optional flip;
    evaluation uses the first ``k`` views (0..k-1, as Pix2Vox evaluates), a centred crop and a
    grey 240 background.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "train",
        *,
        splits_file: str | os.PathLike[str] | None = None,
        views: int | tuple[int, int] = 1,
        train: bool = True,
        image_size: int = CROP_SIZE,
        crop: bool = True,
        flip: bool = False,
        seed: int = 0,
        allow_missing_splits: bool = False,
        skip_bad: bool = False,
        augment: Augment | None = None,
    ) -> None:
        if split not in SPLIT_NAMES:
            raise ParvoxError(f"unknown split {split!r}; expected one of {', '.join(SPLIT_NAMES)}")
        self.min_views, self.max_views = _view_range(views)
        if image_size < 1:
            raise ParvoxError(f"image size must be positive, got {image_size}")
        if seed < 0:
            raise ParvoxError(f"seed must be non-negative, got {seed}")
        self.layout = R2N2Layout(root)
        self.split = split
        self.train = train
        self.image_size = image_size
        self.crop = crop
        self.flip = flip
        self.seed = seed
        self.skip_bad = skip_bad
        self.augment = augment or Augment()
        self._warned: set[str] = set()
        self._epoch = 0
        splits = default_splits(
            root, splits_file, allow_missing=allow_missing_splits, check_split=split
        )
        self.models: list[ModelRef] = split_models(splits, split)
        if not self.models:
            raise self._empty_split_error(splits_file)

    def _empty_split_error(self, splits_file: str | os.PathLike[str] | None) -> DataError:
        """The error for a split without models, naming the split file if one was used."""
        path = Path(splits_file) if splits_file is not None else self.layout.splits_path()
        if path.is_file():
            return DataError(path, f"split {self.split!r} lists no models")
        return DataError(
            self.layout.root,
            f"no split file, so every model is in 'test' and split {self.split!r} is empty",
        )

    def __len__(self) -> int:
        return len(self.models)

    @property
    def epoch(self) -> int:
        """The draw used by plain integer keys."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Set the draw used by plain integer keys (call once per epoch).

        DataLoader workers hold copies of the dataset, so persistent workers miss later calls:
        samplers that need exact parity should pass ``(index, draw, k)`` keys instead.
        """
        if epoch < 0:
            raise ValueError(f"epoch must be non-negative, got {epoch}")
        self._epoch = int(epoch)

    def views_for_draw(self, draw: int) -> int:
        """The view count of every sample of ``draw`` (evaluation: the maximum of the range)."""
        if not self.train or self.min_views == self.max_views:
            return self.max_views
        rng = np.random.default_rng(
            np.random.SeedSequence([self.seed, draw, 0, _VIEW_COUNT_STREAM])
        )
        return int(rng.integers(self.min_views, self.max_views + 1))

    def sample_rng(self, index: int, draw: int) -> np.random.Generator:
        """The generator of sample ``index`` in ``draw``: from ``[seed, draw, index, 1]``."""
        return np.random.default_rng(
            np.random.SeedSequence([self.seed, draw, index, _SAMPLE_STREAM])
        )

    def batch_keys(self, indices: Sequence[int], draw: int) -> list[tuple[int, int, int]]:
        """Keys ``(index, draw, k)`` for one batch, all with the draw's view count ``k``."""
        k = self.views_for_draw(draw)
        return [(int(index), draw, k) for index in indices]

    def drop(self, refs: Iterable[ModelRef]) -> None:
        """Leave ``refs`` out of the split (bad models found before training)."""
        gone = set(refs)
        self.models = [ref for ref in self.models if ref not in gone]
        if not self.models:
            raise DataError(self.layout.root, f"no good model left in split {self.split!r}")

    def __getitem__(self, key: Key) -> dict[str, Any]:
        index, draw, k = self._parse_key(key)
        if not self.skip_bad:
            return self._item(index, draw, k)
        for offset in range(len(self)):
            try:
                return self._item((index + offset) % len(self), draw, k)
            except DataError as exc:
                if str(exc) not in self._warned:
                    self._warned.add(str(exc))
                    print(f"warning: skipping a bad model: {exc}", file=sys.stderr)
        raise DataError(self.layout.root, f"no model of split {self.split!r} could be loaded")

    def _item(self, index: int, draw: int, k: int) -> dict[str, Any]:
        """The sample of model ``index`` for ``draw`` with ``k`` views."""
        ref = self.models[index]
        metadata = self.layout.read_metadata(ref)
        available = metadata.shape[0]
        if k > available:
            raise DataError(
                self.layout.metadata_path(ref), f"lists {available} views, {k} requested"
            )
        if self.train:
            rng = self.sample_rng(index, draw)
            view_ids = rng.choice(available, size=k, replace=False)
            images = self._train_images(ref, view_ids, rng)
        else:
            view_ids = np.arange(k)
            images = self._test_images(ref, view_ids)
        return {
            "images": self._resize(torch.from_numpy(images)),
            "voxels": torch.from_numpy(self._voxels(ref)),
            "metadata": torch.from_numpy(metadata[view_ids].astype(np.float32)),
            "view_ids": torch.from_numpy(view_ids.astype(np.int64)),
            "taxonomy": ref.synset,
            "model_id": ref.model_id,
        }

    # ------------------------------------------------------------------ helpers

    def _parse_key(self, key: Key) -> tuple[int, int, int]:
        """Normalise a key into ``(index, draw, k)``."""
        if isinstance(key, tuple):
            if len(key) not in (2, 3):
                raise TypeError(f"key must be index, (index, draw) or (index, draw, k): {key!r}")
            index, draw = operator.index(key[0]), operator.index(key[1])
            k = operator.index(key[2]) if len(key) == 3 else self.views_for_draw(draw)
        else:
            index, draw = operator.index(key), self._epoch
            k = self.views_for_draw(draw)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} models")
        if draw < 0:
            raise ValueError(f"draw must be non-negative, got {draw}")
        if k < 1:
            raise ValueError(f"view count must be positive, got {k}")
        return index % len(self), draw, k

    def _train_images(
        self, ref: ModelRef, view_ids: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Random crop, random background and optional flip per view (plus :attr:`augment`):
        float32 (V, 3, S, S)."""
        k = len(view_ids)
        offsets = rng.random((k, 2))
        low, high = TRAIN_BACKGROUND
        backgrounds = rng.integers(low, high + 1, size=(k, 3)).astype(np.float32)
        flips = rng.random(k) < FLIP_PROBABILITY
        views = []
        for i, view in enumerate(view_ids):
            if self.augment.active:
                image = self._augmented(ref, int(view), offsets[i], backgrounds[i], rng)
            else:
                image = _composite(self._cropped(ref, int(view), offsets[i]), backgrounds[i])
            views.append(image[:, :, ::-1] if self.flip and flips[i] else image)
        return np.stack(views)

    def _augmented(self, ref: ModelRef, view: int, where: np.ndarray, colour: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
        """One view with :attr:`augment` applied: float32 (3, S, S)."""
        aug = self.augment
        rgba = self._render(ref, view)
        if aug.reframe > 0 and rng.random() < aug.reframe:
            rgba = reframe_render(rgba)
        elif aug.frame > 0:
            rgba = jitter_frame(rgba, rng, aug.frame)
        rgba = self._crop(rgba, self.layout.image_path(ref, view), where)
        repaint = aug.repaint > 0 and rng.random() < aug.repaint
        if repaint or aug.light > 0:
            alpha = rgba[..., 3:].astype(np.float32) * (1.0 / 255.0)
            rgb = rgba[..., :3].astype(np.float32)
            if repaint:
                rgb = repaint_light(rgb, alpha, rng)
            if aug.light > 0:
                rgb = jitter_light(rgb, alpha, rng, aug.light)
            rgba = np.concatenate([rgb.round().astype(np.uint8), rgba[..., 3:]], axis=2)
        if aug.backgrounds > 0 and rng.random() < aug.backgrounds:
            colour = random_background(rgba.shape[:2], rng, lambda: self._other_render(rng))
        return _composite(rgba, colour)

    def _other_render(self, rng: np.random.Generator) -> np.ndarray:
        """Float RGB (H, W, 3) of a random view of a random model of the split, on a random
        plain colour (for blurred-clutter backgrounds)."""
        ref = self.models[int(rng.integers(len(self)))]
        view = int(rng.integers(self.layout.read_metadata(ref).shape[0]))
        colour = rng.integers(0, 256, 3).astype(np.float32)
        return _composite(self._render(ref, view), colour).transpose(1, 2, 0) * 255.0

    def _test_images(self, ref: ModelRef, view_ids: np.ndarray) -> np.ndarray:
        """Centred crop on the grey test background: float32 (V, 3, S, S)."""
        background = np.full(3, TEST_BACKGROUND, dtype=np.float32)
        centre = np.full(2, 0.5)
        return np.stack(
            [_composite(self._cropped(ref, int(v), centre), background) for v in view_ids]
        )

    def _render(self, ref: ModelRef, view: int) -> np.ndarray:
        """The whole RGBA uint8 (H, W, 4) render ``view`` of ``ref``."""
        return load_rgba(self.layout.image_path(ref, view))

    def _cropped(self, ref: ModelRef, view: int, where: np.ndarray) -> np.ndarray:
        """The RGBA uint8 (S, S, 4) crop of one render; ``where`` in [0, 1)^2 picks (row, col)."""
        return self._crop(self._render(ref, view), self.layout.image_path(ref, view), where)

    def _crop(self, rgba: np.ndarray, path: Path, where: np.ndarray) -> np.ndarray:
        """The 127x127 crop of ``rgba`` (read from ``path``) at ``where``; all of it without
        :attr:`crop`."""
        if not self.crop:
            return rgba
        height, width = rgba.shape[:2]
        if height < CROP_SIZE or width < CROP_SIZE:
            raise DataError(path, f"image is {width}x{height}, smaller than the {CROP_SIZE} crop")
        top = int(where[0] * (height - CROP_SIZE + 1))
        left = int(where[1] * (width - CROP_SIZE + 1))
        return rgba[top : top + CROP_SIZE, left : left + CROP_SIZE]

    def _resize(self, images: torch.Tensor) -> torch.Tensor:
        """Resize float32 (V, 3, h, w) images to (V, 3, image_size, image_size)."""
        return _resize_views(images, self.image_size)

    def _voxels(self, ref: ModelRef) -> np.ndarray:
        """float32 (32, 32, 32) occupancy of ``ref``, indexed [x, y, z]."""
        path = self.layout.voxel_path(ref)
        vox = read_binvox(path)
        if vox.dim != VOXEL_DIM:
            raise DataError(path, f"grid is {vox.dim}^3, expected {VOXEL_DIM}^3 (ShapeNetVox32)")
        return vox.occupancy.astype(np.float32)


def _view_range(views: int | tuple[int, int]) -> tuple[int, int]:
    """Validate ``views`` (a count or an inclusive range) into ``(min, max)``."""
    low, high = (views, views) if isinstance(views, int) else tuple(views)
    if not 1 <= low <= high:
        raise ParvoxError(f"views must be a positive count or a (min, max) range, got {views!r}")
    return int(low), int(high)


def load_rgba(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an image file as uint8 RGBA ``(H, W, 4)``; any failure raises DataError naming it
    (see :func:`to_rgba` for the modes)."""
    try:
        with Image.open(path) as image:
            image.load()
            return np.asarray(to_rgba(image))
    except FileNotFoundError:
        raise DataError(path, "image file not found") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DataError(path, f"cannot decode image: {exc}") from None


def _composite(rgba: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Alpha-composite uint8 RGBA (H, W, 4) onto an RGB colour (3,) or image (H, W, 3) in
    0..255.

    Returns float32 (3, H, W) in [0, 1].
    """
    rgb = rgba[..., :3].astype(np.float32)
    alpha = rgba[..., 3:].astype(np.float32) * (1.0 / 255.0)
    out = background + alpha * (rgb - background)
    return (out * (1.0 / 255.0)).transpose(2, 0, 1)


def collate(batch: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Stack dataset items into a batch; every item must have the same view count ``V``.

    Returns:
        ``images`` float32 (B, V, 3, H, W), ``voxels`` float32 (B, 32, 32, 32), ``metadata``
        float32 (B, V, 5), ``view_ids`` int64 (B, V), ``taxonomy`` and ``model_id`` lists of str.
    """
    if not batch:
        raise ValueError("cannot collate an empty batch")
    counts = {item["images"].shape[0] for item in batch}
    if len(counts) != 1:
        raise ValueError(f"items of one batch must have the same view count, got {sorted(counts)}")
    stacked = {
        name: torch.stack([item[name] for item in batch])
        for name in ("images", "voxels", "metadata", "view_ids")
    }
    stacked["taxonomy"] = [item["taxonomy"] for item in batch]
    stacked["model_id"] = [item["model_id"] for item in batch]
    return stacked


def protocol_view(rgba: np.ndarray, image_size: int) -> torch.Tensor:
    """A uint8 RGBA render-like frame ``(H, W, 4)`` (H, W >= 127, e.g. R2N2's 137x137) as the
    evaluation protocol shows it to a network: the centred 127x127 crop on the 240 grey,
    resized to ``image_size``. Returns float32 ``(3, image_size, image_size)`` in [0, 1]."""
    height, width = rgba.shape[:2]
    top = int(0.5 * (height - CROP_SIZE + 1))
    left = int(0.5 * (width - CROP_SIZE + 1))
    crop = rgba[top : top + CROP_SIZE, left : left + CROP_SIZE]
    image = torch.from_numpy(_composite(crop, np.full(3, TEST_BACKGROUND, np.float32)))
    return _resize_views(image[None], image_size)[0]


def _resize_views(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize float32 (V, 3, h, w) images to (V, 3, size, size): bilinear, antialiased."""
    if images.shape[-2:] == (size, size):
        return images
    out = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False,
                        antialias=True)
    return out.clamp_(0.0, 1.0)
