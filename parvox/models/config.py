"""``ModelConfig``: every size and kind that defines an R2N2 network.

Defaults are 3D-R2N2's (Choy et al., ECCV 2016, and its ``models/res_gru_net.py``): 127×127
inputs, encoder widths 96-128-256-256-256-256 (7×7 then 3×3 convs), a 1024-wide FC, a 4×4×4
recurrent grid of 128 channels, decoder widths 128-128-64-32 and 2-class 32³ logits.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from parvox.errors import ParvoxError
from parvox.models.layers import UPSAMPLE_MODES, pooled_size

ENCODER_KINDS = ("shallow", "residual")
RECURRENT_KINDS = ("gru", "lstm")
DECODER_KINDS = ("shallow", "residual")
#: Output classes per voxel (empty, occupied), as 3D-R2N2's softmax.
NUM_CLASSES = 2

#: 3D-R2N2's ``n_convfilter``.
R2N2_ENCODER_WIDTHS = (96, 128, 256, 256, 256, 256)
#: 3D-R2N2's ``n_fc_filters``.
R2N2_FC_DIM = 1024
#: 3D-R2N2's ``n_deconvfilter[0]`` (hidden channels) and ``n_gru_vox`` (grid edge).
R2N2_HIDDEN_CHANNELS, R2N2_GRID = 128, 4
#: 3D-R2N2's ``n_deconvfilter[1:5]`` (the last entry, 2, is :data:`NUM_CLASSES`).
R2N2_DECODER_WIDTHS = (128, 128, 64, 32)
#: 3D-R2N2's input crop and ShapeNetVox32 grid.
R2N2_IMAGE_SIZE, R2N2_VOXEL_SIZE = 127, 32


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of an :class:`~parvox.models.r2n2.R2N2` network.

    Attributes:
        encoder: ``"shallow"`` (one conv per stage) or ``"residual"`` (two convs + shortcut).
        recurrent: ``"gru"`` or ``"lstm"`` (3D convolutional, on the hidden grid).
        decoder: ``"shallow"`` or ``"residual"``.
        image_size: input edge in pixels (square images).
        encoder_widths: output channels of each 2D stage; each stage ends with a 2×2 max-pool.
        first_kernel: kernel of the first 2D conv (later ones are 3×3).
        fc_dim: width of the encoder FC (the feature fed to the recurrence).
        hidden_channels: channels of the recurrent hidden grid.
        grid_size: edge of the recurrent hidden grid.
        decoder_widths: output channels of each 3D stage; the first ``log2(voxel_size /
            grid_size)`` stages are each preceded by a ×2 upsampling, the rest run at full size.
        voxel_size: edge of the output grid.
        upsample: ``"transpose"`` (``ConvTranspose3d(k=2, s=2)``) or ``"unpool"`` (3D-R2N2).
        channels_last: compute layout, not architecture: the encoder and decoder convert their
            inputs to channels-last memory (weights stay as they are), ~1.5-2× faster 3D convs
            with oneDNN on the CPU. Results are the same up to float rounding.
    """

    encoder: str = "shallow"
    recurrent: str = "gru"
    decoder: str = "shallow"
    image_size: int = R2N2_IMAGE_SIZE
    encoder_widths: tuple[int, ...] = R2N2_ENCODER_WIDTHS
    first_kernel: int = 7
    fc_dim: int = R2N2_FC_DIM
    hidden_channels: int = R2N2_HIDDEN_CHANNELS
    grid_size: int = R2N2_GRID
    decoder_widths: tuple[int, ...] = R2N2_DECODER_WIDTHS
    voxel_size: int = R2N2_VOXEL_SIZE
    upsample: str = "transpose"
    channels_last: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "encoder_widths", tuple(int(w) for w in self.encoder_widths))
        object.__setattr__(self, "decoder_widths", tuple(int(w) for w in self.decoder_widths))
        self._check_kinds()
        self._check_sizes()

    def _check_kinds(self) -> None:
        for field, value, allowed in (
            ("encoder", self.encoder, ENCODER_KINDS),
            ("recurrent", self.recurrent, RECURRENT_KINDS),
            ("decoder", self.decoder, DECODER_KINDS),
            ("upsample", self.upsample, UPSAMPLE_MODES),
        ):
            if value not in allowed:
                raise ParvoxError(f"model {field} must be one of {', '.join(allowed)}: {value!r}")

    def _check_sizes(self) -> None:
        positive = {
            "image_size": self.image_size, "fc_dim": self.fc_dim, "grid_size": self.grid_size,
            "hidden_channels": self.hidden_channels, "voxel_size": self.voxel_size,
        }
        for field, value in positive.items():
            if value < 1:
                raise ParvoxError(f"model {field} must be positive: {value}")
        if not self.encoder_widths or not self.decoder_widths:
            raise ParvoxError("model encoder_widths and decoder_widths must not be empty")
        if min(self.encoder_widths + self.decoder_widths) < 1:
            raise ParvoxError("model layer widths must be positive")
        if self.first_kernel < 1 or self.first_kernel % 2 == 0:
            raise ParvoxError(f"model first_kernel must be odd: {self.first_kernel}")
        ratio = self.voxel_size // self.grid_size
        valid = self.voxel_size % self.grid_size == 0 and (ratio & (ratio - 1)) == 0
        if not valid or self.upsamplings > len(self.decoder_widths):
            raise ParvoxError(
                f"model voxel_size {self.voxel_size} must be grid_size {self.grid_size} times a "
                f"power of two <= 2**{len(self.decoder_widths)} (one decoder stage per ×2)"
            )

    @property
    def upsamplings(self) -> int:
        """Number of ×2 upsamplings from ``grid_size`` to ``voxel_size``."""
        return (self.voxel_size // self.grid_size).bit_length() - 1

    @property
    def feature_map_size(self) -> int:
        """Edge of the last encoder feature map (before the FC) for ``image_size`` inputs."""
        size = self.image_size
        for _ in self.encoder_widths:
            size = pooled_size(size)
        return size

    @property
    def flat_features(self) -> int:
        """Input width of the encoder FC: last width × feature-map edge²."""
        return self.encoder_widths[-1] * self.feature_map_size**2

    @property
    def gate_features(self) -> int:
        """Output width of each gate FC: hidden_channels · grid_size³."""
        return self.hidden_channels * self.grid_size**3

    def replace(self, **overrides: object) -> ModelConfig:
        """A copy with ``overrides`` applied; unknown field names raise :class:`ParvoxError`."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ParvoxError(f"unknown model option(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **overrides)  # type: ignore[arg-type]
