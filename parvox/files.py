"""Small file helpers: atomic writes, writable folders checked, one-line errors."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parvox.errors import DataError

if TYPE_CHECKING:
    import torch


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex sha256 of a file's bytes, read in 1 MiB blocks (checkpoints, shipped weights)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temporary name, then rename it over ``path``: readers see the old
    file or the new one, never half of one.

    Raises:
        DataError: the file cannot be written (naming it and the reason).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(path, f"cannot write ({exc.strerror})") from None


def write_json(path: str | os.PathLike[str], data: Any, indent: int = 1) -> None:
    """Write ``data`` as UTF-8 JSON atomically (see :func:`write_bytes`).

    Raises:
        DataError: the file cannot be written (naming it and the reason).
    """
    write_bytes(path, (json.dumps(data, indent=indent) + "\n").encode("utf-8"))


def check_writable_dir(path: str | os.PathLike[str]) -> None:
    """Create the folder ``path`` if needed and check that files can be created in it, so that
    a read-only or forbidden output folder stops a command before any work.

    Raises:
        DataError: the folder cannot be created or written (naming it and the reason).
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(path, f"cannot create the folder ({exc.strerror or exc})") from None
    try:
        handle, probe = tempfile.mkstemp(prefix=".parvox-write-test-", dir=path)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise DataError(path, f"cannot write in the folder ({exc.strerror or exc})") from None


def write_half_safetensors(path: str | os.PathLike[str], tensors: dict[str, torch.Tensor],
                           header: dict[str, str]) -> Path:
    """Write ``tensors`` as safetensors atomically (see :func:`write_bytes`), floating point
    ones as fp16, with the string pairs of ``header`` as the file's metadata; returns the path.

    Raises:
        DataError: the file cannot be written (naming it and the reason).
    """
    import torch
    from safetensors.torch import save

    half = {name: (t.detach().to(torch.float16) if t.is_floating_point() else t.detach())
            .contiguous() for name, t in tensors.items()}
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(path.parent, f"cannot create the folder ({exc.strerror})") from None
    write_bytes(path, save(half, metadata=header))
    return path


def read_safetensors(path: str | os.PathLike[str], missing: str, unreadable: str
                     ) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and the metadata of a safetensors file. A missing file is a
    :class:`DataError` naming it, "``missing``"; an unreadable one, "``unreadable`` (reason)"."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    path = Path(path)
    if not path.is_file():
        raise DataError(path, missing)
    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
        return load_file(str(path)), header
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise DataError(path, f"{unreadable} ({str(exc).splitlines()[0]})") from None
