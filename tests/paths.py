"""Where the shared reference data lives: ``../shared`` beside the project (CI has it too).

``PARVOX_SHARED`` overrides the location. Tests that need the data skip when it is absent,
except under CI (``CI=true``), where a missing folder is a failure.
"""

from __future__ import annotations

import os

import pytest

from parvox.shared import shared_dir

SHARED = shared_dir()
SAMPLES = SHARED / "r2n2-samples"
PHOTOS = SHARED / "photos"

if os.environ.get("CI") == "true" and not SAMPLES.is_dir():
    raise RuntimeError(f"shared R2N2 samples not found at {SAMPLES} (set PARVOX_SHARED)")

needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"{SAMPLES} absent")
