"""Building blocks shared by the encoders and decoders: initialised convs, residual blocks,
padded pooling and ×2 volumetric upsampling.

Every constructor initialises its weights at once (deterministic given ``torch.manual_seed``):
Kaiming-normal with the LeakyReLU gain for convs followed by the activation, unit (linear)
gain for convs and linears whose output is not activated (shortcuts, logits, gates). Biases
start at zero.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: Negative slope of every LeakyReLU (3D-R2N2, Choy et al. 2016, ``lib/layers.py``).
LEAKY_SLOPE = 0.01
#: Upsampling modes: a learned ``ConvTranspose3d(k=2, s=2)``, or 3D-R2N2's ``Unpool3DLayer``
#: (each value placed at the corner of a 2×2×2 cell, zeros elsewhere).
UPSAMPLE_MODES = ("transpose", "unpool")

Conv = nn.Conv2d | nn.Conv3d


def init_weight(module: nn.Conv2d | nn.Conv3d | nn.Linear, *, activated: bool) -> None:
    """Kaiming-normal weights (LeakyReLU gain if ``activated``, else unit gain), zero bias."""
    nonlinearity = "leaky_relu" if activated else "linear"
    nn.init.kaiming_normal_(module.weight, a=LEAKY_SLOPE, nonlinearity=nonlinearity)
    if module.bias is not None:
        nn.init.zeros_(module.bias)


def conv(
    dim: int, in_ch: int, out_ch: int, kernel: int, *, activated: bool = True, bias: bool = True
) -> Conv:
    """A ``dim``-D conv with 'same' padding (odd ``kernel``), initialised.

    Shapes: (N, in_ch, *S) -> (N, out_ch, *S) with S the ``dim`` spatial sizes.
    """
    if kernel % 2 != 1:
        raise ValueError(f"kernel must be odd for 'same' padding, got {kernel}")
    cls = nn.Conv2d if dim == 2 else nn.Conv3d
    module = cls(in_ch, out_ch, kernel, padding=kernel // 2, bias=bias)
    init_weight(module, activated=activated)
    return module


def linear(in_features: int, out_features: int, *, activated: bool) -> nn.Linear:
    """A plain ``nn.Linear`` with bias, initialised. Shapes: (N, in) -> (N, out)."""
    module = nn.Linear(in_features, out_features)
    init_weight(module, activated=activated)
    return module


def leaky(x: Tensor) -> Tensor:
    """LeakyReLU with slope :data:`LEAKY_SLOPE`, any shape."""
    return F.leaky_relu(x, LEAKY_SLOPE)


def leaky_(x: Tensor) -> Tensor:
    """In-place :func:`leaky` on a fresh conv output (its backward needs only the result, and
    a conv's backward does not need its output): one pass over memory instead of two and no
    new tensor. Not for tensors that other code still reads."""
    return F.leaky_relu_(x, LEAKY_SLOPE)


def pooled_size(size: int) -> int:
    """Edge after :func:`pool2d`: ``size // 2 + 1`` (127 -> 64 -> 33 -> 17 -> 9 -> 5 -> 3)."""
    return size // 2 + 1


def pool2d(x: Tensor) -> Tensor:
    """2×2 max-pool, stride 2, padding 1, as 3D-R2N2's ``PoolLayer`` (``padding=(1, 1)``).

    Shapes: (N, C, H, W) -> (N, C, H // 2 + 1, W // 2 + 1).
    """
    return F.max_pool2d(x, kernel_size=2, stride=2, padding=1)


class ConvStage(nn.Module):
    """One plain stage: conv (``kernel``) then LeakyReLU. (N, in_ch, *S) -> (N, out_ch, *S)."""

    def __init__(self, dim: int, in_ch: int, out_ch: int, kernel: int = 3) -> None:
        super().__init__()
        self.conv = conv(dim, in_ch, out_ch, kernel)

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_ch, *S) -> (N, out_ch, *S)."""
        return leaky_(self.conv(x))


class ResidualStage(nn.Module):
    """Two convs with LeakyReLU after each, plus a shortcut added after the second activation.

    As 3D-R2N2's residual network (``res_gru_net.py``): ``out = act(conv_b(act(conv_a(x)))) +
    shortcut(x)``, the shortcut being the identity when the width is unchanged and a 1×1 conv
    when it changes; ``residual=False`` drops the shortcut (the encoder's first stage).

    Shapes: (N, in_ch, *S) -> (N, out_ch, *S).
    """

    def __init__(
        self, dim: int, in_ch: int, out_ch: int, kernel: int = 3, *, residual: bool = True
    ) -> None:
        super().__init__()
        self.conv_a = conv(dim, in_ch, out_ch, kernel)
        self.conv_b = conv(dim, out_ch, out_ch, 3)
        self.shortcut: nn.Module | None = None
        if residual:
            same = in_ch == out_ch
            self.shortcut = nn.Identity() if same else conv(dim, in_ch, out_ch, 1, activated=False)

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_ch, *S) -> (N, out_ch, *S)."""
        out = leaky_(self.conv_b(leaky_(self.conv_a(x))))
        return out if self.shortcut is None else out + self.shortcut(x)


def is_channels_last(x: Tensor) -> bool:
    """Whether a 4D/5D tensor is laid out channels-last (and not also plain contiguous)."""
    fmt = torch.channels_last if x.dim() == 4 else torch.channels_last_3d
    return x.is_contiguous(memory_format=fmt) and not x.is_contiguous()


def unpool3d(x: Tensor) -> Tensor:
    """3D-R2N2's ×2 unpooling: value at index ``2i`` of each axis, zeros at ``2i + 1``.

    Keeps the memory format of ``x`` (channels-last in, channels-last out).
    Shapes: (N, C, D, H, W) -> (N, C, 2D, 2H, 2W).
    """
    n, c, d, h, w = x.shape
    if is_channels_last(x):
        out = x.new_zeros(n, d, 2, h, 2, w, 2, c)
        out[:, :, 0, :, 0, :, 0] = x.permute(0, 2, 3, 4, 1)
        return out.reshape(n, 2 * d, 2 * h, 2 * w, c).permute(0, 4, 1, 2, 3)
    out = x.new_zeros(n, c, d, 2, h, 2, w, 2)
    out[:, :, :, 0, :, 0, :, 0] = x
    return out.reshape(n, c, 2 * d, 2 * h, 2 * w)


class Upsample3d(nn.Module):
    """×2 upsampling of a volume, keeping the channel count.

    ``"transpose"``: ``ConvTranspose3d(C, C, kernel_size=2, stride=2)`` (each output voxel is a
    learned linear map of one input voxel; its unit-gain init uses fan-in ``C``).
    ``"unpool"``: parameter-free :func:`unpool3d`.

    Shapes: (N, C, D, H, W) -> (N, C, 2D, 2H, 2W).
    """

    def __init__(self, channels: int, mode: str = "transpose") -> None:
        super().__init__()
        if mode not in UPSAMPLE_MODES:
            raise ValueError(f"upsample mode must be one of {UPSAMPLE_MODES}, got {mode!r}")
        self.mode = mode
        self.deconv: nn.ConvTranspose3d | None = None
        if mode == "transpose":
            self.deconv = nn.ConvTranspose3d(channels, channels, kernel_size=2, stride=2)
            nn.init.normal_(self.deconv.weight, std=1.0 / math.sqrt(channels))
            nn.init.zeros_(self.deconv.bias)

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, D, H, W) -> (N, C, 2D, 2H, 2W)."""
        return unpool3d(x) if self.deconv is None else self.deconv(x)

