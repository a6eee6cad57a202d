"""The model that ships inside the package, and the export that makes it.

``parvox/weights/small-procedural.safetensors`` holds the parameters of a ``small`` network
(widened by ``parvox grow`` where its overrides say so) in fp16 (docs/MODEL.md: network, data,
command, evaluation). Its safetensors header carries what rebuilds the model: the registry
config name, the model overrides and the source checkpoint's step and training config, as JSON
strings. ``--checkpoint pretrained`` (or no ``--checkpoint`` for
``parvox reconstruct``) loads it; any other ``*.safetensors`` file written by
:func:`export_weights` loads the same way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from parvox.errors import DataError, ParvoxError
from parvox.files import read_safetensors, sha256_file, write_half_safetensors

#: The name that selects the shipped model wherever a checkpoint is asked for.
PRETRAINED = "pretrained"
#: The shipped weights.
WEIGHTS_FILE = Path(__file__).resolve().parent / "weights" / "small-procedural.safetensors"
#: Header key holding the JSON description of the weights.
_META_KEY = "parvox"


def is_weights_file(checkpoint: str | os.PathLike[str]) -> bool:
    """Whether ``checkpoint`` names exported weights (``pretrained`` or a .safetensors file)."""
    return str(checkpoint) == PRETRAINED or str(checkpoint).endswith(".safetensors")


def weights_path(checkpoint: str | os.PathLike[str]) -> Path:
    """The file behind ``pretrained`` or an exported-weights path."""
    return WEIGHTS_FILE if str(checkpoint) == PRETRAINED else Path(checkpoint)


def export_weights(checkpoint: str | os.PathLike[str], out: str | os.PathLike[str],
                   extra: dict[str, Any] | None = None) -> Path:
    """Write ``checkpoint``'s parameters as fp16 safetensors at ``out`` with the description
    that rebuilds the model (float buffers fp16 too; integer buffers as they are)."""
    from parvox.checkpoint import load_checkpoint, model_from_meta
    from parvox.models.recurrent import upgrade_state_dict

    ckpt = load_checkpoint(checkpoint)
    # a checkpoint from before the gate fusion ships with the fused names of today
    state = upgrade_state_dict(model_from_meta(ckpt.meta, ckpt.path), ckpt.model_state)
    train = ckpt.meta.get("train", {})
    meta = {"config": ckpt.meta.get("config"), "step": ckpt.step,
            "model_overrides": train.get("model_overrides", {}) or {}, "train": train,
            **(extra or {})}
    return _write(out, state, meta)


def _write(out: str | os.PathLike[str], state: dict[str, torch.Tensor],
           meta: dict[str, Any]) -> Path:
    """``state`` as fp16 safetensors at ``out``, described by ``meta`` in the header."""
    return write_half_safetensors(out, state, {_META_KEY: json.dumps(meta, sort_keys=True)})


def read_weights(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and the description of exported weights; a missing, corrupt or foreign file
    is a DataError naming it."""
    path = Path(path)
    tensors, header = read_safetensors(path, "weights file not found",
                                      "not a parvox weights file")
    try:
        meta = json.loads(header[_META_KEY])
    except (KeyError, ValueError) as exc:
        reason = "no parvox description" if isinstance(exc, KeyError) else str(exc)
        raise DataError(path, f"not a parvox weights file ({reason})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), str):
        raise DataError(path, "not a parvox weights file (no model config in its header)")
    return tensors, meta


def load_weights(checkpoint: str | os.PathLike[str]) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The model of exported weights (``pretrained``: the shipped ones) in eval mode, fp32."""
    from parvox.models import available_models

    path = weights_path(checkpoint)
    tensors, meta = read_weights(path)
    if meta["config"] not in available_models():
        raise DataError(path, f"unknown model config {meta['config']!r}")
    try:
        return model_from_state(tensors, meta), meta
    except RuntimeError as exc:
        raise ParvoxError(f"{path}: parameters do not fit config {meta['config']!r} "
                          f"({str(exc).splitlines()[0]})") from None


def average_weights(paths: list[str | os.PathLike[str]]) -> tuple[dict[str, torch.Tensor],
                                                                   dict[str, Any]]:
    """The uniform mean of exported weights of one network (checkpoint averaging, as in
    Polyak and Juditsky's averaging of iterates): fp32 tensors and the last file's description,
    with ``averaged_from`` listing each file's step and sha256. The files must share the model
    config, its overrides and every tensor's name and shape; integer buffers must be equal."""

    if len(paths) < 2:
        raise ParvoxError("averaging needs at least two weights files")
    sums: dict[str, torch.Tensor] = {}
    sources, first, meta = [], None, {}
    for path in paths:
        path = weights_path(path)
        tensors, meta = read_weights(path)
        model = (meta["config"], meta.get("model_overrides", {}))
        if first is None:
            first = model
            sums = {n: t.double() if t.is_floating_point() else t for n, t in tensors.items()}
        else:
            _check_same_network(path, model, first, tensors, sums)
            for name, t in tensors.items():
                if t.is_floating_point():
                    sums[name] += t.double()
        sources.append({"file": path.name, "step": meta.get("step"),
                        "sha256": sha256_file(path)})
    state = {n: (t / len(paths)).float() if t.is_floating_point() else t
             for n, t in sums.items()}
    return state, {**meta, "averaged_from": sources}


def _check_same_network(path: Path, model: tuple, first: tuple,
                        tensors: dict[str, torch.Tensor], sums: dict[str, torch.Tensor]) -> None:
    if model != first:
        raise DataError(path, f"another network than the first file's ({model} vs {first})")
    if tensors.keys() != sums.keys():
        raise DataError(path, "other tensor names than the first file's")
    for name, t in tensors.items():
        if t.shape != sums[name].shape:
            raise DataError(path, f"tensor {name} is {tuple(t.shape)}, the first file's "
                                  f"{tuple(sums[name].shape)}")
        if not t.is_floating_point() and not torch.equal(t, sums[name]):
            raise DataError(path, f"integer buffer {name} differs from the first file's")


def write_average(paths: list[str | os.PathLike[str]], out: str | os.PathLike[str]) -> Path:
    """Write :func:`average_weights` of ``paths`` as fp16 safetensors at ``out``."""
    return _write(out, *average_weights(paths))


def model_from_state(state: dict[str, torch.Tensor], meta: dict[str, Any]) -> torch.nn.Module:
    """The eval-mode fp32 model of ``state`` under the description ``meta`` (as read)."""
    from parvox.models import create_model

    model = create_model(meta["config"], **meta.get("model_overrides", {}))
    model.load_state_dict({n: t.float() if t.is_floating_point() else t
                           for n, t in state.items()})
    return model.eval()
