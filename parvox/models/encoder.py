"""2D image encoders of 3D-R2N2: conv stages, each ending in a 2×2 max-pool, then one FC.

``shallow``: one conv + LeakyReLU per stage (3D-R2N2's ``gru_net.py``).
``residual``: the "deep residual" encoder of Res3D-GRU-3 (``res_gru_net.py``): every stage is
two convs; from the second stage on, a shortcut (identity, or a 1×1 conv where the width
changes) is added after the second activation.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from parvox.models.config import ModelConfig
from parvox.models.layers import ConvStage, ResidualStage, leaky, linear, pool2d


class Encoder(nn.Module):
    """Images to feature vectors.

    The FC is a plain ``nn.Linear`` at the stable attribute ``fc`` (``flat_features`` ->
    ``fc_dim``), so a parallel plan can find and replace it. Its input size is computed at
    construction from ``config.image_size`` (see :attr:`ModelConfig.flat_features`).

    Shapes: (N, 3, image_size, image_size) -> (N, fc_dim).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.image_size = config.image_size
        self.channels_last = config.channels_last
        self.stages = nn.ModuleList(_stages(config))
        self.fc = linear(config.flat_features, config.fc_dim, activated=True)

    def features(self, images: Tensor) -> Tensor:
        """Conv trunk: (N, 3, S, S) -> (N, encoder_widths[-1], s, s), s = feature_map_size."""
        x = images
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        for stage in self.stages:
            x = pool2d(stage(x))
        return x

    def forward(self, images: Tensor) -> Tensor:
        """(N, 3, S, S) -> (N, fc_dim), LeakyReLU applied."""
        return leaky(self.fc(torch.flatten(self.features(images), 1)))


def _stages(config: ModelConfig) -> list[nn.Module]:
    """The 2D stages of ``config``'s encoder (pooling is applied in :meth:`Encoder.features`)."""
    stages: list[nn.Module] = []
    in_ch = 3
    for index, width in enumerate(config.encoder_widths):
        kernel = config.first_kernel if index == 0 else 3
        if config.encoder == "residual":
            stages.append(ResidualStage(2, in_ch, width, kernel, residual=index > 0))
        else:
            stages.append(ConvStage(2, in_ch, width, kernel))
        in_ch = width
    return stages
