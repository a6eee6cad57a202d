"""Reader and writer for binvox v1 voxel files (the format of 3D-R2N2's ``ShapeNetVox32``).

Format (binvox v1, as documented by its author Patrick Min)::

    #binvox 1
    dim D D D
    translate tx ty tz
    scale s
    data
    <body>

Comment lines starting with ``#`` may appear anywhere in the header. The body is a run-length
encoding of the ``D**3`` occupancy values as ``(value, count)`` byte pairs, ``value`` in {0, 1}
and ``count`` in 1..255. The linear order of the body is ``x * D * D + z * D + y`` (y runs
fastest); :class:`Voxels` exposes it as a bool array indexed ``[x, y, z]``.

Every malformed or unreadable file raises :class:`BinvoxError`, a :class:`DataError` naming the
file.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from parvox.errors import DataError

#: First header line of every supported file (binvox format version 1).
MAGIC = b"#binvox 1"
#: Largest run length one (value, count) pair can hold: the count is one byte.
MAX_RUN = 255
#: Header keywords that must each appear exactly once before ``data``.
_FIELDS = ("dim", "translate", "scale")


class BinvoxError(DataError):
    """A binvox file is missing, unreadable or malformed."""


@dataclass
class Voxels:
    """An occupancy grid with its placement in model space.

    Attributes:
        occupancy: bool array of shape ``(D, D, D)`` indexed ``[x, y, z]``.
        translate: model-space position of the grid's corner (binvox ``translate``).
        scale: model-space edge length of the whole grid (binvox ``scale``).
    """

    occupancy: np.ndarray
    translate: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale: float = 1.0

    @property
    def dim(self) -> int:
        """Edge length ``D`` of the cubic grid, in voxels."""
        return int(self.occupancy.shape[0])


# --------------------------------------------------------------------------- reading


def read_binvox(path: str | os.PathLike[str]) -> Voxels:
    """Read a binvox v1 file; raise :class:`BinvoxError` naming ``path`` on any problem."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise BinvoxError(path, "binvox file not found") from None
    except OSError as exc:
        raise BinvoxError(path, f"cannot read binvox file: {exc.strerror or exc}") from None
    return parse_binvox(data, os.fspath(path))


def parse_binvox(data: bytes, name: str) -> Voxels:
    """Decode the bytes of a binvox v1 file; ``name`` is used in error messages.

    Returns:
        :class:`Voxels` whose ``occupancy`` is a C-contiguous bool ``(D, D, D)`` array
        indexed ``[x, y, z]``.
    """
    fields, body_start = _parse_header(data, name)
    dim = _parse_dim(fields["dim"], name)
    translate = _parse_floats(fields["translate"], 3, "translate", name)
    (scale,) = _parse_floats(fields["scale"], 1, "scale", name)
    flat = _decode_runs(memoryview(data)[body_start:], dim**3, name)
    # Linear order x*D*D + z*D + y: reshape gives [x, z, y]; swap the last two axes.
    occupancy = np.ascontiguousarray(flat.reshape(dim, dim, dim).transpose(0, 2, 1))
    return Voxels(occupancy=occupancy, translate=translate, scale=scale)


def _parse_header(data: bytes, name: str) -> tuple[dict[str, list[str]], int]:
    """Return the header fields (keyword -> arguments) and the offset where the body starts."""
    pos = 0
    first = True
    fields: dict[str, list[str]] = {}
    while True:
        end = data.find(b"\n", pos)
        if end < 0:
            raise BinvoxError(name, "binvox header ends before its 'data' line")
        line = data[pos:end].rstrip(b"\r")
        pos = end + 1
        if first:
            if line.strip() != MAGIC:
                raise BinvoxError(name, f"not a binvox v1 file (first line {_show(line)})")
            first = False
        elif line.startswith(b"#") or not line.strip():
            continue
        elif line.strip() == b"data":
            break
        else:
            _add_field(fields, line, name)
    missing = [key for key in _FIELDS if key not in fields]
    if missing:
        raise BinvoxError(name, f"binvox header lacks its {', '.join(missing)} line")
    return fields, pos


def _add_field(fields: dict[str, list[str]], line: bytes, name: str) -> None:
    """Record one ``keyword args...`` header line into ``fields``."""
    try:
        words = line.decode("ascii").split()
    except UnicodeDecodeError:
        raise BinvoxError(name, f"garbled binvox header line {_show(line)}") from None
    key = words[0]
    if key not in _FIELDS:
        raise BinvoxError(name, f"unknown binvox header line {_show(line)}")
    if key in fields:
        raise BinvoxError(name, f"binvox header repeats its {key} line")
    fields[key] = words[1:]


def _parse_dim(args: list[str], name: str) -> int:
    """Parse ``dim D D D``; only cubic grids are supported."""
    if len(args) != 3 or not all(arg.isdigit() for arg in args):
        raise BinvoxError(name, f"bad binvox dim line 'dim {' '.join(args)}'")
    dims = [int(arg) for arg in args]
    if dims[0] < 1:
        raise BinvoxError(name, f"binvox dim must be positive, got {dims[0]}")
    if dims[1] != dims[0] or dims[2] != dims[0]:
        raise BinvoxError(name, f"only cubic binvox grids are supported, got dim {dims}")
    return dims[0]


def _parse_floats(args: list[str], count: int, key: str, name: str) -> tuple[float, ...]:
    """Parse ``count`` finite floats of header line ``key``."""
    bad = BinvoxError(name, f"bad binvox {key} line '{key} {' '.join(args)}'")
    if len(args) != count:
        raise bad
    try:
        values = tuple(float(arg) for arg in args)
    except ValueError:
        raise bad from None
    if not all(math.isfinite(v) for v in values):
        raise bad
    return values


def _decode_runs(body: memoryview, total: int, name: str) -> np.ndarray:
    """Expand the (value, count) byte pairs into a flat bool array of ``total`` voxels."""
    raw = np.frombuffer(body, dtype=np.uint8)
    if raw.size % 2:
        raise BinvoxError(name, "binvox body is truncated (odd number of bytes)")
    values, counts = raw[0::2], raw[1::2]
    if np.any(counts == 0):
        at = int(np.flatnonzero(counts == 0)[0])
        raise BinvoxError(name, f"binvox body has a zero run length (pair {at})")
    if np.any(values > 1):
        at = int(np.flatnonzero(values > 1)[0])
        raise BinvoxError(name, f"binvox body has value {values[at]} (pair {at}), not 0 or 1")
    found = int(counts.sum(dtype=np.int64))
    if found != total:
        what = "truncated" if found < total else "too long"
        raise BinvoxError(name, f"binvox body is {what}: {found} voxels, expected {total}")
    return np.repeat(values.astype(bool), counts)


def _show(line: bytes) -> str:
    """Quote a header line for an error message, shortened."""
    text = line[:40].decode("ascii", errors="replace")
    return repr(text + ("..." if len(line) > 40 else ""))


# --------------------------------------------------------------------------- writing


def write_binvox(path: str | os.PathLike[str], vox: Voxels) -> None:
    """Write ``vox`` as a binvox v1 file; an unwritable path raises :class:`BinvoxError`."""
    data = encode_binvox(vox)
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise BinvoxError(path, f"cannot write binvox file: {exc.strerror or exc}") from None


def encode_binvox(vox: Voxels) -> bytes:
    """Encode ``vox`` as the bytes of a binvox v1 file (header, then runs of at most 255).

    Floats are written in Python's shortest round-trip form, with a trailing ``.0`` dropped
    (``0``, ``0.924938``), so reading then re-encoding a file this function wrote reproduces it
    byte for byte.
    """
    occ = np.asarray(vox.occupancy)
    if occ.ndim != 3 or len(set(occ.shape)) != 1 or occ.shape[0] < 1:
        raise ValueError(f"occupancy must be a non-empty cubic (D, D, D) array, got {occ.shape}")
    if len(vox.translate) != 3:
        raise ValueError(f"translate must have 3 components, got {vox.translate!r}")
    dim = occ.shape[0]
    header = (
        f"#binvox 1\ndim {dim} {dim} {dim}\n"
        f"translate {' '.join(_format_float(t) for t in vox.translate)}\n"
        f"scale {_format_float(vox.scale)}\ndata\n"
    )
    # [x, y, z] -> linear order x*D*D + z*D + y.
    flat = occ.astype(bool, copy=False).transpose(0, 2, 1).reshape(-1)
    return header.encode("ascii") + _encode_runs(flat)


def _encode_runs(flat: np.ndarray) -> bytes:
    """Run-length encode a flat bool array as (value, count) byte pairs, counts <= 255."""
    starts = np.concatenate(([0], np.flatnonzero(flat[1:] != flat[:-1]) + 1))
    lengths = np.diff(np.append(starts, flat.size))
    pieces = (lengths + MAX_RUN - 1) // MAX_RUN  # pairs needed per run
    counts = np.full(int(pieces.sum()), MAX_RUN, dtype=np.int64)
    counts[np.cumsum(pieces) - 1] = lengths - MAX_RUN * (pieces - 1)  # last pair holds the rest
    pairs = np.empty((counts.size, 2), dtype=np.uint8)
    pairs[:, 0] = np.repeat(flat[starts], pieces)
    pairs[:, 1] = counts
    return pairs.tobytes()


def _format_float(value: float) -> str:
    """Shortest text that parses back to ``value`` (``repr``), without a trailing ``.0``."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"binvox header values must be finite, got {value}")
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text
