"""Function-preserving widening of a trained R2N2 network (``parvox grow``).

A model that underfits needs more capacity, but a new training history costs the hours the
old one took. Widening keeps them: the grown network computes exactly what the trained one
did, and training continues from there with the extra units free to learn.

The widths that may grow are the recurrent grid's ``hidden_channels``, the encoder FC's
``fc_dim`` and each of ``decoder_widths``; every other field of the
:class:`~parvox.models.ModelConfig` must stay as it is. For each widened layer:

* the old units keep their weights;
* the new units get the fresh initialisation of a new model (their *incoming* weights), so
  they compute something from the start;
* the weights *from* new units *into* old units are zero, so no old unit sees the new ones
  until training moves those zeros (their gradient is not zero: it is the new units'
  activations times the old units' error).

Every old unit, and so the output, is unchanged (Net2Net, Chen et al., ICLR 2016, reach the
same with copied units; zero fan-out is simpler and works for any activation). For the GRU
and LSTM this holds too: a new channel's state starts at zero and only feeds new channels.

The Adam state grows with the weights: the old entries keep their moments; new entries start
with a zero first moment and, as second moment, the mean of the tensor's old second moments,
so their first steps are as large as the old entries' rather than ``1/sqrt(1-β2)`` ≈ 30×
larger (a zero second moment with Adam's bias correction long past).

Weight layouts (PyTorch): ``Linear``/``ConvNd`` weights are (out, in, k...), biases (out,);
``ConvTranspose3d`` weights are (in, out, k...). The fused gate FC's rows are
(gates, C, G, G, G) blocks (:mod:`parvox.models.recurrent`), so growing ``C`` widens every block.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from parvox.errors import ParvoxError
from parvox.models import R2N2, ModelConfig
from parvox.models.recurrent import Recurrent3d

#: The :class:`ModelConfig` fields :func:`grow_model` may change (each only upwards).
GROWABLE = ("hidden_channels", "fc_dim", "decoder_widths")


def check_growth(old: ModelConfig, new: ModelConfig) -> None:
    """Raise :class:`ParvoxError` unless ``new`` only widens ``old``'s growable fields."""
    for field in dataclasses.fields(ModelConfig):
        a, b = getattr(old, field.name), getattr(new, field.name)
        if field.name not in GROWABLE:
            if a != b:
                raise ParvoxError(f"grow: {field.name} cannot change ({a!r} -> {b!r}); "
                                  f"only {', '.join(GROWABLE)} can grow")
            continue
        pairs = list(zip(a, b, strict=False)) if isinstance(a, tuple) else [(a, b)]
        if isinstance(a, tuple) and len(a) != len(b):
            raise ParvoxError(f"grow: {field.name} must keep its {len(a)} stages ({a} -> {b})")
        if any(y < x for x, y in pairs):
            raise ParvoxError(f"grow: {field.name} can only grow ({a} -> {b})")


def _roles(module: nn.Module, kind: str, shape: torch.Size
           ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """How to read parameter ``kind`` (``"weight"`` or ``"bias"``) of a plain layer:
    (view shape, its output axes, its input axes)."""
    if isinstance(module, nn.ConvTranspose3d):
        out_axes, in_axes = ((1,), (0,)) if kind == "weight" else ((0,), ())
        return tuple(shape), out_axes, in_axes
    if isinstance(module, nn.Conv2d | nn.Conv3d | nn.Linear):
        out_axes, in_axes = ((0,), (1,)) if kind == "weight" else ((0,), ())
        return tuple(shape), out_axes, in_axes
    raise ParvoxError(f"grow: cannot widen a {type(module).__name__}")


def _layouts(model: R2N2) -> dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]]:
    """Parameter name -> (view shape, output axes, input axes) for every parameter; the fused
    gate FC's rows are viewed as (gates, C, G³) so that growing C widens each gate's block."""
    out, gates = {}, {}
    for mod_name, module in model.named_modules():
        prefix = f"{mod_name}." if mod_name else ""
        for kind, param in module.named_parameters(recurse=False):
            out[prefix + kind] = _roles(module, kind, param.shape)
        if isinstance(module, Recurrent3d):
            cfg = model.config
            for kind, param in module.fc_gates.named_parameters():
                view = (len(module.GATES), cfg.hidden_channels, cfg.grid_size ** 3,
                        *param.shape[1:])
                gates[f"{prefix}fc_gates.{kind}"] = (view, (0, 1, 2),
                                                     (3,) if kind == "weight" else ())
    return out | gates  # the gate views win over the plain Linear's


def _embed(new: Tensor, old: Tensor, view_new: tuple[int, ...], view_old: tuple[int, ...],
           out_axes: tuple[int, ...], in_axes: tuple[int, ...]) -> Tensor:
    """``new`` (fresh init) with ``old`` in its leading corner and zero weights from new inputs
    into old outputs. Shapes: ``new`` reshapes to ``view_new``, ``old`` to ``view_old``."""
    grown = new.detach().clone().reshape(view_new)
    grown[tuple(slice(0, s) for s in view_old)] = old.reshape(view_old).to(grown.dtype)
    for axis in in_axes:
        if view_new[axis] == view_old[axis]:
            continue
        index: list[slice] = [slice(None)] * len(view_new)
        for o in out_axes:
            index[o] = slice(0, view_old[o])
        index[axis] = slice(view_old[axis], None)
        grown[tuple(index)] = 0
    return grown.reshape(new.shape)


def grow_model(old: R2N2, new_config: ModelConfig, seed: int = 0) -> R2N2:
    """A wider copy of ``old`` (config ``new_config``) that computes the same outputs.

    New units' incoming weights come from a fresh model seeded with ``seed``."""
    check_growth(old.config, new_config)
    torch.manual_seed(seed)
    new = R2N2(new_config).to(next(old.parameters()).dtype)
    old_state, new_state = old.state_dict(), new.state_dict()
    if set(old_state) != set(new_state):
        diff = sorted(set(old_state) ^ set(new_state))
        raise ParvoxError(f"grow: the widening changes the layers ({diff[0]}, ...): a residual "
                          "stage whose input and output widths stop (or start) being equal "
                          "gains (or loses) its shortcut conv")
    old_layout, new_layout = _layouts(old), _layouts(new)
    grown = {}
    for name, tensor in new_state.items():
        view_new, out_axes, in_axes = new_layout[name]
        grown[name] = _embed(tensor, old_state[name], view_new, old_layout[name][0],
                             out_axes, in_axes)
    new.load_state_dict(grown)
    return new


def grow_optimizer_state(state: dict[str, Any], old: R2N2, new: R2N2) -> dict[str, Any]:
    """An Adam state keyed by parameter name (``{"state": {name: {...}}, ...}``) resized for
    ``new``: old entries kept, new ``exp_avg`` zero, new ``exp_avg_sq`` the tensor's old mean."""
    old_layout, new_layout = _layouts(old), _layouts(new)
    shapes = {n: p.shape for n, p in new.named_parameters()}
    by_name = {}
    for name, entry in state["state"].items():
        grown_entry = dict(entry)
        for key in ("exp_avg", "exp_avg_sq"):
            moment = entry.get(key)
            if moment is None or moment.shape == shapes[name]:
                continue
            fill = float(moment.float().mean()) if key == "exp_avg_sq" else 0.0
            grown_entry[key] = _embed(torch.full(shapes[name], fill, dtype=moment.dtype), moment,
                                      new_layout[name][0], old_layout[name][0], (), ())
        by_name[name] = grown_entry
    return dict(state, state=by_name)


def grow_checkpoint(checkpoint: str | os.PathLike[str], out: str | os.PathLike[str],
                    changes: dict[str, Any], seed: int = 0) -> Path:
    """Widen ``checkpoint``'s model by ``changes`` (:data:`GROWABLE` fields) and write it, with
    its grown Adam state and RNG state, as the first checkpoint of run folder ``out`` (same
    step), plus ``out/config.json`` so that ``parvox train --config-file out/config.json
    --resume`` continues it. Returns the written checkpoint folder."""
    from parvox.checkpoint import (
        list_checkpoints,
        load_checkpoint,
        model_from_meta,
        optimizer_state_by_name,
        save_checkpoint,
    )
    from parvox.files import write_json
    from parvox.models.recurrent import upgrade_state_dict

    unknown = sorted(set(changes) - set(GROWABLE))
    if unknown:
        raise ParvoxError(f"grow: {unknown[0]} cannot grow; growable: {', '.join(GROWABLE)}")
    if list_checkpoints(out):
        raise ParvoxError(f"{out}: run folder already has checkpoints; choose another --out")
    ckpt = load_checkpoint(checkpoint)
    old = model_from_meta(ckpt.meta, ckpt.path)
    old.load_state_dict(upgrade_state_dict(old, ckpt.model_state))
    new = grow_model(old, dataclasses.replace(old.config, **changes), seed)
    train = dict(ckpt.meta.get("train", {}))
    overrides = dict(train.get("model_overrides") or {}, **changes)
    train.update(model_overrides=overrides, out=str(out))
    optimizer = None
    if ckpt.optimizer_state is not None:
        optimizer = grow_optimizer_state(optimizer_state_by_name(ckpt.optimizer_state, old),
                                         old, new)
    meta = dict(ckpt.meta, train=train, model=dataclasses.asdict(new.config),  # tuples: lists
                grown_from={"checkpoint": str(ckpt.path), "changes": changes})
    for key in ("sha256", "optimizer", "step"):
        meta.pop(key, None)
    if ckpt.rng_state is not None:
        torch.set_rng_state(ckpt.rng_state)
    written = save_checkpoint(out, ckpt.step, new.state_dict(), optimizer, meta)
    write_json(Path(out) / "config.json", train)
    return written

