"""Step-indexed batches: the data of training step ``s`` is a pure function of ``(seed, s)``.

Global step ``s`` takes global sample positions ``s * B .. s * B + B - 1`` of an endless stream
made of one seeded permutation of the training set per epoch. Every sample of the step is drawn
with ``draw = s`` and the same view count ``k`` (:meth:`R2N2Dataset.views_for_draw`). Rank ``r``
of ``K`` loads the contiguous slice ``r * B / K .. (r + 1) * B / K`` of the step, so K ranks
together see exactly the samples, views, crops and colours one process sees, and a resumed run
sees exactly what an uninterrupted one would.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from parvox.data.dataset import VOXEL_DIM, R2N2Dataset, collate
from parvox.errors import DataError, ParvoxError

#: SeedSequence stream tag of the epoch permutations (distinct from the dataset's tags).
_PERMUTATION_STREAM = 7


def epoch_permutation(size: int, seed: int, epoch: int) -> np.ndarray:
    """(size,) int64 permutation of the training set for ``epoch``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, epoch, _PERMUTATION_STREAM]))
    return rng.permutation(size)


def step_indices(size: int, batch: int, step: int, seed: int) -> np.ndarray:
    """(batch,) dataset indices of global step ``step``."""
    positions = step * batch + np.arange(batch)
    epochs = positions // size
    out = np.empty(batch, dtype=np.int64)
    for epoch in np.unique(epochs):
        where = epochs == epoch
        out[where] = epoch_permutation(size, seed, int(epoch))[positions[where] % size]
    return out


class StepBatches(Dataset[dict[str, Any]]):
    """Map-style dataset whose item ``s`` is this rank's share of global step ``s``'s batch.

    Use with ``DataLoader(StepBatches(...), batch_size=None, sampler=range(start, stop))``: the
    loader's workers then prefetch whole batches, and the result does not depend on them. A
    file that fails to load gives a zero batch of the same shapes with ``"data_error": (path,
    problem)``, for the training loop to report in one line.

    Args:
        dataset: the training dataset.
        batch: global batch size ``B`` (divisible by ``world``).
        seed: the permutation seed.
        rank, world: this rank and the number of data-parallel ranks.
    """

    def __init__(self, dataset: R2N2Dataset, batch: int, seed: int, rank: int = 0,
                 world: int = 1) -> None:
        if batch % world:
            raise ParvoxError(f"global batch {batch} is not divisible by {world} ranks")
        self.dataset, self.batch, self.seed = dataset, batch, seed
        self.rank, self.world = rank, world

    def __len__(self) -> int:
        return 2**62  # endless: steps are addressed directly

    def __getitem__(self, step: int) -> dict[str, Any]:
        indices = step_indices(len(self.dataset), self.batch, step, self.seed)
        share = self.batch // self.world
        mine = indices[self.rank * share:(self.rank + 1) * share]
        views = self.dataset.views_for_draw(step)
        try:
            batch = collate([self.dataset[(int(i), step, views)] for i in mine])
        except DataError as exc:  # crosses the loader's process boundary as data, not traceback
            return self._placeholder(step, share, views) | {"data_error": (exc.path, exc.problem)}
        batch["step"] = step
        return batch

    def _placeholder(self, step: int, share: int, views: int) -> dict[str, Any]:
        """Zero ``images`` (share, V, 3, S, S) and ``voxels`` (share, 32, 32, 32): the shapes of
        a real batch, so that a rank whose data failed can still take part in the step's
        collectives, where all ranks learn of the failure and stop together."""
        size = self.dataset.image_size
        return {"step": step, "images": torch.zeros(share, views, 3, size, size),
                "voxels": torch.zeros(share, VOXEL_DIM, VOXEL_DIM, VOXEL_DIM)}
