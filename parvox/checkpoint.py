"""Checkpoints: ``RUN/checkpoints/step-<N>/`` written atomically, loaded without pickles.

A checkpoint folder holds:

* ``model.safetensors``: the full, unsharded parameters and buffers by name;
* ``optimizer.safetensors`` + the optimizer's non-tensor state inside ``meta.json``;
* ``rng.safetensors``: the CPU generator state of torch;
* ``meta.json``: step, model name and config, training config, and the SHA-256 of every file.

The folder is written as ``step-<N>.tmp-<pid>``, each file fsynced, then renamed: a crash
leaves either the previous checkpoint or the new one, never half of one. Loading verifies the
checksums and never unpickles (safetensors and JSON only).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from parvox.errors import DataError, ParvoxError

CHECKPOINTS_DIR = "checkpoints"
META_FILE = "meta.json"
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
RNG_FILE = "rng.safetensors"


@dataclass
class Checkpoint:
    """A loaded checkpoint."""

    path: Path
    step: int
    model_state: dict[str, torch.Tensor]
    optimizer_state: dict[str, Any] | None
    rng_state: torch.Tensor | None
    meta: dict[str, Any]


def checkpoint_dir(run: str | os.PathLike[str], step: int) -> Path:
    """``RUN/checkpoints/step-<step>``."""
    return Path(run) / CHECKPOINTS_DIR / f"step-{step}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer ``state_dict`` into tensors (by dotted key) and JSON-able rest."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{pid}.{key}"] = value.detach().contiguous()
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], rest: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    for pid, entries in rest["scalars"].items():
        state.setdefault(int(pid), {}).update(entries)
    return {"state": state, "param_groups": rest["param_groups"]}


def save_checkpoint(
    run: str | os.PathLike[str],
    step: int,
    model_state: dict[str, torch.Tensor],
    optimizer_state: dict[str, Any] | None,
    meta: dict[str, Any],
) -> Path:
    """Write ``RUN/checkpoints/step-<step>`` atomically; returns its path."""
    final = checkpoint_dir(run, step)
    tmp = final.with_name(f"{final.name}.tmp-{os.getpid()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        save_file({k: v.detach().contiguous() for k, v in model_state.items()}, tmp / MODEL_FILE)
        meta = dict(meta, step=step)
        if optimizer_state is not None:
            tensors, rest = _flatten_optimizer(optimizer_state)
            save_file(tensors, tmp / OPTIMIZER_FILE)
            meta["optimizer"] = rest
        save_file({"torch_cpu": torch.get_rng_state()}, tmp / RNG_FILE)
        files = sorted(p.name for p in tmp.iterdir())
        meta["sha256"] = {name: _sha256(tmp / name) for name in files}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=1, default=str))
        for name in [*files, META_FILE]:
            _fsync(tmp / name)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        _fsync(final.parent)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(final, f"cannot write checkpoint ({exc.strerror or exc}); "
                        f"{_latest_kept(run)}") from None
    return final


def _latest_kept(run: str | os.PathLike[str]) -> str:
    """Which checkpoint a failed write leaves in place, for the error message."""
    try:
        found = list_checkpoints(run)
    except OSError:
        return "the previous checkpoints are untouched"
    if not found:
        return "no earlier checkpoint to keep"
    return f"the latest checkpoint is still {found[-1][1]}"


def list_checkpoints(run: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """Complete checkpoints of a run (those with ``meta.json``), sorted by step."""
    folder = Path(run) / CHECKPOINTS_DIR
    found = []
    if folder.is_dir():
        for path in folder.iterdir():
            name = path.name
            if name.startswith("step-") and name[5:].isdigit() and (path / META_FILE).is_file():
                found.append((int(name[5:]), path))
    return sorted(found)


def resolve_checkpoint(path: str | os.PathLike[str]) -> Path:
    """A checkpoint folder from a run folder (its latest) or a checkpoint folder itself."""
    path = Path(path)
    if (path / META_FILE).is_file():
        return path
    found = list_checkpoints(path)
    if not found:
        raise ParvoxError(f"{path}: no checkpoint found (expected {CHECKPOINTS_DIR}/step-<N>/)")
    return found[-1][1]


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Load and verify a checkpoint (a run folder loads its latest one)."""
    folder = resolve_checkpoint(path)
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise DataError(folder / META_FILE, f"unreadable checkpoint metadata ({exc})") from None
    for name, expected in meta.get("sha256", {}).items():
        file = folder / name
        if not file.is_file():
            raise DataError(file, "checkpoint file missing")
        if _sha256(file) != expected:
            raise DataError(file, "checksum mismatch: the checkpoint is corrupt")
    model_state = load_file(folder / MODEL_FILE)
    optimizer_state = None
    if (folder / OPTIMIZER_FILE).is_file() and "optimizer" in meta:
        optimizer_state = _unflatten_optimizer(load_file(folder / OPTIMIZER_FILE),
                                               meta["optimizer"])
    rng = load_file(folder / RNG_FILE)["torch_cpu"] if (folder / RNG_FILE).is_file() else None
    return Checkpoint(folder, int(meta["step"]), model_state, optimizer_state, rng, meta)
