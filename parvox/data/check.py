"""A quick check of a split's files before training: find bad models without decoding images.

``parvox train`` refuses a training split with bad files (unless ``--skip-bad``), so that a
broken download fails in seconds with the file named, not hours into a run. Per model it
reads ``rendering_metadata.txt`` (parsed), the whole ``model.binvox`` (decoded: a few KB), and
the first 33 and last 12 bytes of each listed view's PNG: the signature, the ``IHDR`` chunk
(size at least the training crop) and the final ``IEND`` chunk, which a truncated download
lacks. A PNG whose compressed body is damaged in the middle passes this check; the loader
then names it when it reads it (see ``R2N2Dataset(skip_bad=...)``). ``parvox data verify``
decodes everything, for a full check.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from parvox.data.binvox import read_binvox
from parvox.data.images import PNG_SIGNATURE
from parvox.data.layout import ModelRef, R2N2Layout
from parvox.errors import ParvoxError
from parvox.progress import progress_bar

#: The chunk every complete PNG ends with (PNG spec, section 11.2.5).
PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
#: Threads for the check: it waits on the file system, not the CPU.
CHECK_THREADS = 8


@dataclass(frozen=True)
class BadModel:
    """A model with a bad file: the file and the problem (the first one found)."""

    ref: ModelRef
    path: Path
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def check_png_header(path: Path, min_size: int) -> str | None:
    """The problem with the PNG at ``path`` (missing, not a PNG, too small, truncated), or
    ``None``; reads 45 bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(33)
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - len(PNG_IEND)))
            tail = f.read()
    except FileNotFoundError:
        return "missing view"
    except OSError as exc:
        return f"cannot read ({exc.strerror})"
    if len(head) < 33 or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        return "not a PNG file"
    width, height = struct.unpack(">II", head[16:24])
    if min(width, height) < min_size:
        return f"image is {width}x{height}, smaller than {min_size}x{min_size}"
    if tail != PNG_IEND:
        return "truncated PNG (no IEND chunk at the end)"
    return None


def check_model(layout: R2N2Layout, ref: ModelRef, min_views: int,
                min_size: int) -> BadModel | None:
    """The first problem of ``ref``'s files, or ``None`` when they look complete."""
    try:
        metadata = layout.read_metadata(ref)
        read_binvox(layout.voxel_path(ref))
    except ParvoxError as exc:
        path = getattr(exc, "path", layout.rendering_dir(ref))
        return BadModel(ref, Path(path), getattr(exc, "problem", str(exc)))
    if len(metadata) < min_views:
        return BadModel(ref, layout.metadata_path(ref),
                        f"lists {len(metadata)} views, at least {min_views} needed")
    for view in range(len(metadata)):
        path = layout.image_path(ref, view)
        problem = check_png_header(path, min_size)
        if problem is not None:
            return BadModel(ref, path, problem)
    return None


def check_models(layout: R2N2Layout, refs: Sequence[ModelRef], *, min_views: int,
                 min_size: int, show_progress: bool = True) -> list[BadModel]:
    """Check every model of ``refs``; returns the bad ones in ``refs`` order."""
    bad: list[BadModel | None] = []
    with ThreadPoolExecutor(CHECK_THREADS) as pool, progress_bar(
            len(refs), desc="check data", unit="model", enabled=show_progress) as bar:
        for result in pool.map(lambda r: check_model(layout, r, min_views, min_size), refs):
            bad.append(result)
            bar.update(1)
    return [b for b in bad if b is not None]
