"""The 3D-R2N2 network (Choy et al., ECCV 2016): encoder -> 3D recurrence -> decoder.

All ``B·V`` images are encoded in one batched call, the recurrent unit then consumes the ``V``
views of each sample in order starting from a zero state, and the decoder turns the final
hidden grid into 2-class logits. Logits ``[b, :, i, j, k]`` predict voxel ``[i, j, k]`` of the
target grid, indexed ``[x, y, z]`` like the dataset's binvox grids.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from parvox.models.config import ModelConfig
from parvox.models.decoder import Decoder
from parvox.models.encoder import Encoder
from parvox.models.recurrent import Recurrent3d, make_recurrent

#: Class index of "occupied" in the logits (class 0 is "empty").
OCCUPIED = 1


class R2N2(nn.Module):
    """Multi-view voxel reconstruction network.

    Submodules: ``encoder`` (:class:`Encoder`, FC at ``encoder.fc``), ``recurrent``
    (:class:`~parvox.models.recurrent.ConvGRU3d` or ``ConvLSTM3d``, FCs at
    ``recurrent.fc_<gate>``) and ``decoder`` (:class:`Decoder`). :meth:`fc_layer_names` lists the
    FC modules (all plain ``nn.Linear``) for a model-parallel plan; everything else is convs.

    Shapes: forward (B, V, 3, S, S) float -> logits (B, 2, N, N, N), S = ``image_size``,
    N = ``voxel_size``; any V >= 1.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.recurrent: Recurrent3d = make_recurrent(config)
        self.decoder = Decoder(config)

    def fc_layer_names(self) -> list[str]:
        """Qualified names of the FC modules: ``["encoder.fc", "recurrent.fc_gates"]``
        (``model.get_submodule(name)``)."""
        return ["encoder.fc"] + [f"recurrent.{n}" for n in self.recurrent.fc_layer_names()]

    def encode(self, images: Tensor) -> Tensor:
        """All views in one encoder call: (B, V, 3, S, S) -> features (B, V, fc_dim)."""
        self._check_images(images)
        batch, views = images.shape[:2]
        features = self.encoder(images.flatten(0, 1))
        return features.reshape(batch, views, -1)

    def aggregate(self, features: Tensor) -> Tensor:
        """Recurrence over views: (B, V, fc_dim) -> hidden (B, C, G, G, G)."""
        return self.recurrent(features)

    def decode(self, hidden: Tensor) -> Tensor:
        """(B, C, G, G, G) -> logits (B, 2, N, N, N)."""
        return self.decoder(hidden)

    def forward(self, images: Tensor) -> Tensor:
        """(B, V, 3, S, S) float images -> (B, 2, N, N, N) voxel logits."""
        return self.decode(self.aggregate(self.encode(images)))

    def predict_occupancy(self, images: Tensor) -> Tensor:
        """(B, V, 3, S, S) -> occupied probability (B, N, N, N) (no ``no_grad`` of its own)."""
        return occupancy(self(images))

    def _check_images(self, images: Tensor) -> None:
        size = self.config.image_size
        expected = f"(B, V, 3, {size}, {size})"
        if images.dim() != 5 or tuple(images.shape[2:]) != (3, size, size):
            raise ValueError(f"images must be {expected}, got {tuple(images.shape)}")
        if images.shape[0] < 1 or images.shape[1] < 1:
            raise ValueError(f"images must have B >= 1 and V >= 1, got {tuple(images.shape)}")


def voxel_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Mean voxel-wise cross-entropy.

    Args:
        logits: (B, 2, N, N, N).
        target: (B, N, N, N) occupancy, long or {0, 1} float/bool (converted to long).

    Returns:
        Scalar loss.
    """
    return F.cross_entropy(logits, target.long())


def occupancy(logits: Tensor) -> Tensor:
    """Softmax probability of "occupied": (B, 2, N, N, N) -> (B, N, N, N)."""
    return torch.softmax(logits, dim=1)[:, OCCUPIED]
