"""Small file helpers: atomic writes, writable folders checked, one-line errors."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from parvox.errors import DataError


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
