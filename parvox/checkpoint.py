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

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from parvox.errors import DataError, ParvoxError
from parvox.files import sha256_file

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


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: Separates a parameter name from a state key in ``optimizer.safetensors`` (names have dots).
_KEY_SEP = "/"


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer state keyed by parameter name into tensors (``"<name>/<key>"``) and
    the JSON-able rest."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for name, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{name}{_KEY_SEP}{key}"] = value.detach().contiguous()
            else:
                scalars.setdefault(str(name), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars, "keys": "name"}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], rest: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`_flatten_optimizer`. Checkpoints written before the state was keyed by
    name (``"<index>.<key>"``) come back keyed by index, with ``"keys": "index"``."""
    by_name = rest.get("keys") == "name"
    state: dict[Any, dict[str, Any]] = {}
    for flat, value in tensors.items():
        pid, key = flat.rsplit(_KEY_SEP, 1) if by_name else flat.split(".", 1)
        state.setdefault(pid if by_name else int(pid), {})[key] = value
    for pid, entries in rest["scalars"].items():
        state.setdefault(pid if by_name else int(pid), {}).update(entries)
    return {"state": state, "param_groups": rest["param_groups"],
            "keys": "name" if by_name else "index"}


def optimizer_state_by_name(state: dict[str, Any], model: torch.nn.Module) -> dict[str, Any]:
    """An optimizer state keyed by parameter name, for ``model``: a state keyed by index
    (checkpoints from before names) is mapped with the parameter order of that time, and
    per-gate FC entries (before the gate fusion) are fused like the parameters."""
    from parvox.models.recurrent import legacy_gate_names, legacy_parameter_names

    if state.get("keys") == "name":
        return state
    names = legacy_parameter_names(model)
    by_name = {names[int(i)]: entry for i, entry in state["state"].items()}
    groups = [dict(g, params=[names[int(i)] for i in g["params"]])
              for g in state["param_groups"]]
    for module_name, module in model.named_modules():
        gates = getattr(module, "GATES", None)
        if gates is None:
            continue
        for fused, parts in legacy_gate_names(f"{module_name}.", gates).items():
            if all(p in by_name for p in parts):
                entries = [by_name.pop(p) for p in parts]
                by_name[fused] = {k: (torch.cat([e[k] for e in entries]) if
                                      isinstance(v, torch.Tensor) and v.dim() > 0 else v)
                                  for k, v in entries[0].items()}
            for group in groups:
                listed = [n for n in group["params"] if n not in parts]
                if len(listed) < len(group["params"]):
                    group["params"] = _insert_fused(group["params"], parts, fused)
    return {"state": by_name, "param_groups": groups, "keys": "name"}


def _insert_fused(params: list[str], parts: list[str], fused: str) -> list[str]:
    """``params`` with the ``parts`` removed and ``fused`` at the first one's place."""
    out = []
    for name in params:
        if name == parts[0]:
            out.append(fused)
        elif name not in parts:
            out.append(name)
    return out


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
        meta["sha256"] = {name: sha256_file(tmp / name) for name in files}
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
        if sha256_file(file) != expected:
            raise DataError(file, "checksum mismatch: the checkpoint is corrupt")
    model_state = load_file(folder / MODEL_FILE)
    optimizer_state = None
    if (folder / OPTIMIZER_FILE).is_file() and "optimizer" in meta:
        optimizer_state = _unflatten_optimizer(load_file(folder / OPTIMIZER_FILE),
                                               meta["optimizer"])
    rng = load_file(folder / RNG_FILE)["torch_cpu"] if (folder / RNG_FILE).is_file() else None
    return Checkpoint(folder, int(meta["step"]), model_state, optimizer_state, rng, meta)


def model_from_meta(meta: dict[str, Any], where: str | os.PathLike[str]) -> torch.nn.Module:
    """A fresh model built from a checkpoint's ``meta.json``: from the resolved model config it
    holds (``meta["model"]``, every :class:`~parvox.models.ModelConfig` field), else (older
    checkpoints) from the registry name and the run's model overrides."""
    from parvox.models import R2N2, ModelConfig, create_model

    resolved = meta.get("model") or {}
    try:
        if resolved:
            return R2N2(ModelConfig(**resolved))
        overrides = meta.get("train", {}).get("model_overrides", {}) or {}
        return create_model(meta.get("config"), **overrides)
    except (TypeError, ParvoxError) as exc:
        raise DataError(Path(where) / META_FILE, f"cannot rebuild its model ({exc})") from None


def load_model(checkpoint: str | os.PathLike[str]) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The model of a checkpoint (a run folder loads its latest) in eval mode, rebuilt from its
    ``meta.json``; ``pretrained`` or a ``.safetensors`` file loads exported weights
    (:mod:`parvox.pretrained`). On CUDA when available."""
    from parvox.pretrained import is_weights_file, load_weights

    if is_weights_file(checkpoint):
        model, meta = load_weights(checkpoint)
    else:
        ckpt = load_checkpoint(checkpoint)
        model, meta = model_from_meta(ckpt.meta, ckpt.path), ckpt.meta
        try:
            model.load_state_dict(ckpt.model_state)
        except RuntimeError as exc:
            raise ParvoxError(f"{ckpt.path}: parameters do not fit its model "
                              f"({str(exc).splitlines()[0]})") from None
    model.eval()
    return (model.cuda() if torch.cuda.is_available() else model), meta
