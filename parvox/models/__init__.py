"""Single-device model code.

Never imports torch.distributed: parallelism is applied from outside by parvox.parallel.
"""

from parvox.models.config import ModelConfig
from parvox.models.r2n2 import R2N2, occupancy, voxel_loss
from parvox.models.registry import available_models, create_model, model_config

__all__ = [
    "R2N2",
    "ModelConfig",
    "available_models",
    "create_model",
    "model_config",
    "occupancy",
    "voxel_loss",
]
