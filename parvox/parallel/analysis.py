"""``parvox plan``: per-layer parameters, FLOPs, activations, style, bytes sent and memory.

Everything comes from the plan registry (:mod:`parvox.parallel.plans`): each layer's style
prices itself for the run's K, global batch and views. FLOPs are 2 x multiply-accumulates of
the forward pass per sample (V views: the encoder and the gates run V times, the recurrent convs
V times, the decoder once). Bytes are what each rank sends per training step under the ring
accounting of :mod:`parvox.parallel.comm`, in float32 unless ``bf16`` (then the model-parallel
activations are bfloat16):

* ``data`` layers: their gradients are all-reduced, ``2 (K-1)/K x 4 P`` bytes;
* ``model`` and ``model-overlap`` FCs, with ``m = n V`` rows per rank (``n = B / K`` samples),
  input width ``F`` and output width ``O``: forward all-gather ``(K-1) m F``, forward
  all-to-all ``(K-1)/K m O``, backward all-to-all ``(K-1)/K m O``, backward reduce-scatter
  ``(K-1) m F`` elements.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import nn

from parvox.parallel.cost import (
    TRIAL_MARGIN,
    TRIAL_MOST,
    Link,
    choose_styles,
    layer_shapes,
    predict,
    resolve_styles,
    style_costs,
)
from parvox.parallel.plans import Workload, get_plan
from parvox.progress import markdown_table


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
    memory_bytes_per_rank: float = 0.0


def plan_costs(model: nn.Module, strategy: str | dict[str, str], nproc: int, batch: int,
               views: int, link: Link | None = None, bf16: bool = False) -> list[LayerCost]:
    """Per-layer costs of a plan (a registered name, ``auto`` with ``link``, or explicit
    styles) at ``nproc`` ranks, global batch ``batch``, ``views`` views."""
    work = Workload(nproc, batch, views, activation_bytes=2 if bf16 else 4)
    styles = strategy if isinstance(strategy, dict) else resolve_styles(
        model, strategy, work, link or Link.from_gbits(10.0))
    shapes = layer_shapes(model, views)
    costs = style_costs(shapes, styles, work)
    return [LayerCost(name, shape.kind, shape.params, 2 * shape.macs, int(shape.out_floats),
                      styles[name], costs[name].bytes_sent, costs[name].memory_bytes)
            for name, shape in shapes.items()]


def is_model_parallel(style: str) -> bool:
    """Whether a style shards its layer (every style but ``data``)."""
    return style != "data"


def plan_report(model: nn.Module, strategy: str, nproc: int, batch: int, views: int,
                link: Link | None = None, bf16: bool = False,
                compute_s: float = 0.0, name: str = "custom") -> dict[str, object]:
    """The JSON of ``parvox plan`` for the model config ``name``: layers, bytes for the plan
    and for ``ddp``, memory per rank and, with a ``link``, the predicted communication seconds
    of a step."""
    layers = plan_costs(model, strategy, nproc, batch, views, link, bf16)
    ddp = plan_costs(model, "ddp", nproc, batch, views, link, bf16)
    report: dict[str, object] = {
        "config": name, "strategy": strategy, "nproc": nproc,
        "batch": batch, "views": views, "layers": [asdict(layer) for layer in layers],
        "params": sum(layer.params for layer in layers),
        "model_parallel_params": sum(x.params for x in layers if is_model_parallel(x.strategy)),
        "flops_per_sample": sum(layer.flops_per_sample for layer in layers),
        "bytes_per_rank_per_step": sum(x.bytes_per_rank_per_step for x in layers),
        "ddp_bytes_per_rank_per_step": sum(x.bytes_per_rank_per_step for x in ddp),
        "memory_bytes_per_rank": sum(x.memory_bytes_per_rank for x in layers)}
    if link is not None:
        work = Workload(nproc, batch, views, activation_bytes=2 if bf16 else 4)
        styles = {x.name: x.strategy for x in layers}
        prediction = predict(style_costs(layer_shapes(model, views), styles, work), link,
                             compute_s)
        report |= {"link": link.describe(), "comm_s": prediction.comm_s,
                   "exposed_comm_s": prediction.exposed_s, "step_s": prediction.step_s,
                   "auto": get_plan(strategy).auto if isinstance(strategy, str) else False}
        if report["auto"]:
            report["reasons"] = choose_styles(model, work, link, compute_s)[1]
    return report


def format_plan(report: dict) -> str:
    """``parvox plan``'s text: the per-layer table, the totals, and for ``auto`` why each FC
    got its style (the predicted step time with each candidate style, the others as chosen)."""
    rows = [(x["name"], x["kind"], x["params"], f"{x['flops_per_sample'] / 1e6:.1f}",
             x["activation_floats"], x["strategy"], f"{x['bytes_per_rank_per_step'] / 1e6:.3f}")
            for x in report["layers"]]
    text = markdown_table(["layer", "kind", "params", "MFLOP/sample", "activation floats",
                           "strategy", "MB sent/rank/step"], rows)
    text += (f"\n\n{report['config']}, {report['strategy']}, K={report['nproc']}, batch "
             f"{report['batch']} x {report['views']} views: {report['params'] / 1e6:.2f}M params "
             f"({report['model_parallel_params'] / 1e6:.2f}M model-parallel), "
             f"{report['flops_per_sample'] / 1e9:.2f} GFLOP/sample forward; bytes per rank per "
             f"step {report['bytes_per_rank_per_step'] / 1e6:.1f} MB vs ddp "
             f"{report['ddp_bytes_per_rank_per_step'] / 1e6:.1f} MB; training memory per rank "
             f"{report['memory_bytes_per_rank'] / 1e6:.1f} MB")
    if "link" in report:
        text += (f"\non a {report['link']} link: {report['comm_s'] * 1e3:.2f} ms of "
                 "communication per step (computation not included)")
    for name, seconds in report.get("reasons", {}).items():
        chosen = next(x["strategy"] for x in report["layers"] if x["name"] == name)
        options = ", ".join(f"{style} {value * 1e3:.2f} ms" for style, value in seconds.items())
        text += f"\nauto: {name} -> {chosen} (predicted communication per step: {options})"
    if report.get("auto"):
        text += (f"\nauto in `parvox train` also measures the step's compute, then times the "
                 f"plans predicted within {TRIAL_MARGIN:.0%} of the best (at most {TRIAL_MOST}) "
                 "for --auto-trial steps each and keeps the fastest")
    return text


__all__ = ["LayerCost", "format_plan", "is_model_parallel", "plan_costs",
           "plan_report"]
