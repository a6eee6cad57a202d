"""Named model configurations: ``create_model(name, **overrides)``.

``r2n2-gru``, ``r2n2-res-gru`` (Res3D-GRU-3, the paper's best) and ``r2n2-res-lstm`` follow
3D-R2N2 (Choy et al., ECCV 2016). ``small`` keeps the structure (residual encoder, encoder FC,
3 gate FCs, GRU) at 64×64 with narrower layers and a shallow decoder, since 3D convs at 32³
dominate the CPU cost: ~45 samples/s training at batch 16 × 3 views on 2 CPU threads
(``bench/model_bench.py``). ``tiny`` is for tests (~92k parameters, 32×32 input).
"""

from __future__ import annotations

from parvox.errors import ParvoxError
from parvox.models.config import ModelConfig
from parvox.models.r2n2 import R2N2

_CONFIGS: dict[str, ModelConfig] = {
    "r2n2-gru": ModelConfig(encoder="shallow", recurrent="gru", decoder="shallow"),
    "r2n2-res-gru": ModelConfig(encoder="residual", recurrent="gru", decoder="residual"),
    "r2n2-res-lstm": ModelConfig(encoder="residual", recurrent="lstm", decoder="residual"),
    "small": ModelConfig(
        encoder="residual",
        recurrent="gru",
        image_size=64,
        encoder_widths=(32, 48, 64, 96, 128, 128),
        fc_dim=512,
        hidden_channels=64,
        decoder="shallow",
        decoder_widths=(32, 16, 8),
    ),
    "tiny": ModelConfig(
        encoder="residual",
        recurrent="gru",
        decoder="residual",
        image_size=32,
        encoder_widths=(8, 8, 16, 16, 16, 16),
        fc_dim=32,
        hidden_channels=8,
        decoder_widths=(8, 8, 8, 4),
    ),
}


def available_models() -> list[str]:
    """Names accepted by :func:`create_model`, in registration order."""
    return list(_CONFIGS)


def model_config(name: str, **overrides: object) -> ModelConfig:
    """The configuration registered as ``name`` with ``overrides`` (ModelConfig fields)."""
    if name not in _CONFIGS:
        raise ParvoxError(f"unknown model {name!r} (available: {', '.join(_CONFIGS)})")
    return _CONFIGS[name].replace(**overrides) if overrides else _CONFIGS[name]


def create_model(name: str, **overrides: object) -> R2N2:
    """A freshly initialised :class:`R2N2` (deterministic given ``torch.manual_seed``)."""
    return R2N2(model_config(name, **overrides))
