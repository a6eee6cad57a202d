"""3D decoders of 3D-R2N2: hidden grid (C, G, G, G) -> 2-class logits (2, N, N, N).

Stage ``k`` (widths ``decoder_widths``) is preceded by a ×2 upsampling while the volume is
smaller than ``voxel_size`` (G=4: 4 -> 8 -> 16 -> 32 for the first three stages); a final
3×3×3 conv gives the logits.

``shallow``: one 3×3×3 conv + LeakyReLU per stage (3D-R2N2's ``gru_net.py``).
``residual``: two convs per stage with an identity shortcut, or a 1×1×1 conv shortcut where the
width changes (3D-R2N2's ``res_gru_net.py``; its last stage uses a 3×3×3 shortcut from the
first activation instead, here a 1×1×1 one from the stage input like the others).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from parvox.models.config import NUM_CLASSES, ModelConfig
from parvox.models.layers import ConvStage, ResidualStage, Upsample3d, conv


class Decoder(nn.Module):
    """Hidden grid to voxel logits.

    Shapes: (B, hidden_channels, G, G, G) -> (B, 2, voxel_size, voxel_size, voxel_size).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.channels_last = config.channels_last
        self.upsamples = nn.ModuleList()
        self.stages = nn.ModuleList()
        in_ch = config.hidden_channels
        for index, width in enumerate(config.decoder_widths):
            if index < config.upsamplings:
                self.upsamples.append(Upsample3d(in_ch, config.upsample))
            if config.decoder == "residual":
                self.stages.append(ResidualStage(3, in_ch, width))
            else:
                self.stages.append(ConvStage(3, in_ch, width))
            in_ch = width
        self.head = conv(3, in_ch, NUM_CLASSES, 3, activated=False)

    def forward(self, hidden: Tensor) -> Tensor:
        """(B, C, G, G, G) -> logits (B, 2, N, N, N)."""
        x = hidden
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last_3d)
        for index, stage in enumerate(self.stages):
            if index < len(self.upsamples):
                x = self.upsamples[index](x)
            x = stage(x)
        return self.head(x)
