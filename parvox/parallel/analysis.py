"""``parvox plan``: per-layer parameters, FLOPs, activations, strategy and bytes sent.

FLOPs are 2 x multiply-accumulates of the forward pass per sample (V views: the encoder and the
gates run V times, the recurrent convs V times, the decoder once). Bytes are what each rank
sends per training step under the ring accounting of :mod:`parvox.parallel.comm`, in float32:

* data-parallel layers: their gradients are all-reduced, ``2 (K-1)/K x 4 P`` bytes;
* model-parallel FC groups (FCs reading the same input), with ``m = n V`` rows per rank
  (``n = B / K`` samples), input width ``F`` and total output width ``O``: forward all-gather
  ``(K-1) m F``, forward all-to-all ``(K-1)/K m O``, backward all-to-all ``(K-1)/K m O``,
  backward reduce-scatter ``(K-1) m F`` floats.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from parvox.parallel.plan import DATA, MODEL, fc_groups, layer_plan

#: Bytes per float32 element.
FLOAT_BYTES = 4
_PARAMETRIC = (nn.Conv2d, nn.Conv3d, nn.ConvTranspose3d, nn.Linear)


@dataclass
class LayerCost:
    """One parametric layer of the plan."""

    name: str
    kind: str
    params: int
    flops_per_sample: float
    activation_floats: int
    strategy: str
    bytes_per_rank_per_step: float = 0.0


def _macs(module: nn.Module, inputs: torch.Tensor, output: torch.Tensor) -> float:
    """Multiply-accumulates of one call (whole batch)."""
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    if isinstance(module, nn.ConvTranspose3d):
        kernel = torch.tensor(module.kernel_size).prod().item()
        return inputs.numel() * module.out_channels * kernel / module.groups
    kernel = torch.tensor(module.kernel_size).prod().item()
    return output.numel() * module.in_channels / module.groups * kernel


def profile_layers(model: nn.Module, views: int) -> dict[str, dict[str, float]]:
    """Per parametric module: MACs, output floats, rows (calls x batch) for 1 sample x V views,
    and input width, measured with forward hooks on a zero input."""
    stats: dict[str, dict[str, float]] = {}
    handles = []
    for name, module in model.named_modules():
        if isinstance(module, _PARAMETRIC):
            def hook(mod, args, out, name=name):
                entry = stats.setdefault(name, {"macs": 0.0, "out": 0.0, "rows": 0.0,
                                                "in_width": 0.0})
                entry["macs"] += _macs(mod, args[0], out)
                entry["out"] += out.numel()
                if isinstance(mod, nn.Linear):
                    entry["rows"] += out.numel() // mod.out_features
                    entry["in_width"] = mod.in_features
            handles.append(module.register_forward_hook(hook))
    size = model.config.image_size
    try:
        with torch.no_grad():
            model(torch.zeros(1, views, 3, size, size))
    finally:
        for handle in handles:
            handle.remove()
    return stats


def plan_costs(model: nn.Module, strategy: str, nproc: int, batch: int,
               views: int) -> list[LayerCost]:
    """Per-layer costs of ``strategy`` at ``nproc`` ranks, global batch ``batch``, ``views``."""
    styles = layer_plan(model, strategy)
    stats = profile_layers(model, views)
    k, rows_per_rank = nproc, batch // nproc
    layers = []
    for name, module in model.named_modules():
        if name not in stats:
            continue
        params = sum(p.numel() for p in module.parameters(recurse=False))
        style = styles.get(name, DATA)
        sent = 2 * (k - 1) / k * FLOAT_BYTES * params if style == DATA else 0.0
        layers.append(LayerCost(name, type(module).__name__, params, 2 * stats[name]["macs"],
                                int(stats[name]["out"]), style, sent))
    if strategy != "ddp" and k > 1:
        _add_fc_group_bytes(model, layers, stats, k, rows_per_rank)
    return layers


def _add_fc_group_bytes(model: nn.Module, layers: list[LayerCost],
                        stats: dict[str, dict[str, float]], k: int, samples: int) -> None:
    """Activation traffic of each model-parallel group, charged to its first FC's row (the
    all-gather of the input) and split by output width among members (the all-to-alls)."""
    by_name = {layer.name: layer for layer in layers}
    for names in fc_groups(model).values():
        width = stats[names[0]]["in_width"]
        rows = stats[names[0]]["rows"] * samples  # rows per rank: n samples x V views
        by_name[names[0]].bytes_per_rank_per_step += 2 * (k - 1) * rows * width * FLOAT_BYTES
        for name in names:
            out = model.get_submodule(name).out_features
            by_name[name].bytes_per_rank_per_step += 2 * (k - 1) / k * rows * out * FLOAT_BYTES


def plan_report(model: nn.Module, strategy: str, nproc: int, batch: int,
                views: int) -> dict[str, object]:
    """The JSON of ``parvox plan``: layers, bytes for the plan and for ``ddp``."""
    layers = plan_costs(model, strategy, nproc, batch, views)
    ddp = plan_costs(model, "ddp", nproc, batch, views)
    return {"config": model.config.name if hasattr(model.config, "name") else None,
            "strategy": strategy, "nproc": nproc, "batch": batch, "views": views,
            "layers": [asdict(layer) for layer in layers],
            "params": sum(layer.params for layer in layers),
            "model_parallel_params": sum(x.params for x in layers if x.strategy == MODEL),
            "flops_per_sample": sum(layer.flops_per_sample for layer in layers),
            "bytes_per_rank_per_step": sum(x.bytes_per_rank_per_step for x in layers),
            "ddp_bytes_per_rank_per_step": sum(x.bytes_per_rank_per_step for x in ddp)}
