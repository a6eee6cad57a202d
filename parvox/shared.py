"""Where the project's shared reference data lives: ``../shared`` beside the checkout.

It holds the seven real ShapeNet models (``r2n2-samples/``, for tests and evaluation only) and
three real photos (``photos/``). ``PARVOX_SHARED`` overrides the location.
"""

from __future__ import annotations

import os
from pathlib import Path


def shared_dir() -> Path:
    """``$PARVOX_SHARED``, else the ``shared`` folder beside the project root."""
    default = Path(__file__).resolve().parent.parent.parent / "shared"
    return Path(os.environ.get("PARVOX_SHARED", default))
