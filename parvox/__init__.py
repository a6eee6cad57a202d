"""parvox: 3D-R2N2 voxel reconstruction with per-layer parallel training."""

__version__ = "0.1.0"
