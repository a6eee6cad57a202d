"""The cost model: per-layer shapes, a link, predicted step times, and ``--parallel auto``.

A step's time on K ranks is predicted as ``compute + exposed communication``:

* ``compute`` is the step without any communication, measured (one rank's share of the batch
  in one process) or left out when only the choice between styles matters;
* each layer's traffic takes ``bytes / bandwidth + messages x latency`` on the link
  (:class:`Link`), with the styles' bytes and messages of :mod:`parvox.parallel.plans`;
* traffic that can run behind computation hides behind the compute it overlaps; the rest is
  exposed. DDP's gradients queue on the link once the backward (two thirds of ``compute``,
  :data:`~parvox.parallel.plans.TRAIN_FLOP_FACTOR`) has completed them, one transfer at a time,
  so the FC gradients, complete only when the backward is back in the encoder, have little
  compute left to hide behind; the overlapped FC chunks hide behind their own layer's compute;
* on gloo the hidden traffic still takes ``Link.cpu_per_byte`` of compute per byte.

``auto`` (:func:`choose_styles`) prices every assignment of the accepted styles to the layers
that have a choice (the FCs) and keeps the fastest. The link is probed at the start of a run
(:func:`probe_link`) or given by flags.
"""

from __future__ import annotations

import itertools
import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn

from parvox.parallel.comm import Comm
from parvox.parallel.plans import (
    PLANS,
    STYLES,
    TRAIN_FLOP_FACTOR,
    LayerShape,
    StyleCost,
    Workload,
    get_plan,
    parametric_modules,
)

#: Bits per byte, for link speeds given in Gbit/s.
BITS = 8
#: Probe sizes: a 4-byte all-reduce for latency, a 16 MiB one for bandwidth.
PROBE_SMALL, PROBE_LARGE = 1, 4 * 2**20
#: Most joint assignments of the layers with a choice that ``auto`` prices.
MAX_CANDIDATES = 4096
#: ``auto``'s trial: the cost model's accuracy target (issue 13: each plan's step within 20 %,
#: met on every link measured in docs/BENCHMARKS.md), so assignments predicted within it of
#: the best are timed rather than trusted; at most this many of them.
TRIAL_MARGIN, TRIAL_MOST = 0.20, 3
_PARAMETRIC = (nn.Conv2d, nn.Conv3d, nn.ConvTranspose3d, nn.Linear)


@dataclass(frozen=True)
class Link:
    """A link between ranks: ``bandwidth`` in bytes/s per rank, one-way ``latency`` in s, and
    ``cpu_per_byte``: seconds of computation that each byte sent behind compute still takes
    from the rank (its copies and socket work run on the cores the compute uses; 0 where the
    communication has cores or engines of its own)."""

    bandwidth: float
    latency: float = 0.0
    cpu_per_byte: float = 0.0

    @classmethod
    def from_gbits(cls, gbits: float, latency_s: float = 0.0) -> Link:
        return cls(gbits * 1e9 / BITS, latency_s)

    def seconds(self, nbytes: float, messages: float) -> float:
        """Time to send ``nbytes`` in ``messages`` messages."""
        return nbytes / self.bandwidth + messages * self.latency

    def describe(self) -> str:
        text = f"{self.bandwidth * BITS / 1e9:.3g} Gbit/s, {self.latency * 1e6:.0f} µs"
        if self.cpu_per_byte:
            text += f", {self.cpu_per_byte * 1e9:.2g} ns of compute per byte overlapped"
        return text


def _macs(module: nn.Module, inputs: torch.Tensor, output: torch.Tensor) -> float:
    """Multiply-accumulates of one call (whole batch)."""
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    kernel = torch.tensor(module.kernel_size).prod().item()
    if isinstance(module, nn.ConvTranspose3d):
        return inputs.numel() * module.out_channels * kernel / module.groups
    return output.numel() * module.in_channels / module.groups * kernel


def layer_shapes(model: nn.Module, views: int) -> dict[str, LayerShape]:
    """Every parametric layer's :class:`LayerShape` for one sample of ``views`` views,
    measured with forward hooks on a zero input run by a shape-only (meta device) twin of the
    model: nothing is computed, whatever the model's size, device and dtype."""
    twin = _meta_twin(model)
    stats: dict[str, dict[str, float]] = {}
    calls: list[tuple[str, float]] = []
    handles = []
    for name, module in twin.named_modules():
        if isinstance(module, _PARAMETRIC):
            handles.append(module.register_forward_hook(_recorder(stats, calls, name)))
    size = model.config.image_size
    param = next(twin.parameters())
    try:
        with torch.no_grad():
            twin(torch.zeros(1, views, 3, size, size, device=param.device, dtype=param.dtype))
    finally:
        for handle in handles:
            handle.remove()
    total = sum(macs for _, macs in calls) or 1.0
    ready = _ready(calls, total)
    shapes = {}
    for name in parametric_modules(model):
        module, entry = model.get_submodule(name), stats.get(name, {})
        linear = isinstance(module, nn.Linear)
        shapes[name] = LayerShape(
            name, type(module).__name__, sum(p.numel() for p in module.parameters(False)),
            entry.get("macs", 0.0), entry.get("out", 0.0), entry.get("rows", 0.0),
            module.in_features if linear else 0, module.out_features if linear else 0,
            share=entry.get("macs", 0.0) / total, ready=ready.get(name, 1.0))
    return shapes


def _ready(calls: list[tuple[str, float]], total: float) -> dict[str, float]:
    """Per layer, the fraction of the backward's multiply-accumulates (``total`` of them) done
    when its gradients are complete: the backward runs ``calls`` (forward order) in reverse and
    completes a layer's gradients at its first call."""
    ready, after = {}, total
    for name, macs in calls:
        ready.setdefault(name, after / total)
        after -= macs
    return ready


def _meta_twin(model: nn.Module) -> nn.Module:
    """The same architecture on the meta device (a model built from a ``config``), else the
    model itself."""
    config = getattr(model, "config", None)
    try:
        with torch.device("meta"):
            return type(model)(config)
    except TypeError:
        return model


def _recorder(stats: dict[str, dict[str, float]], calls: list[tuple[str, float]], name: str):
    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        entry = stats.setdefault(name, {"macs": 0.0, "out": 0.0, "rows": 0.0})
        macs = _macs(module, args[0], out)
        entry["macs"] += macs
        calls.append((name, macs))
        entry["out"] += out.numel()
        if isinstance(module, nn.Linear):
            entry["rows"] += out.numel() // module.out_features

    return hook


def style_costs(shapes: dict[str, LayerShape], styles: dict[str, str],
                work: Workload) -> dict[str, StyleCost]:
    """Each layer's cost under its style."""
    return {name: STYLES[styles[name]].cost(shape, work) for name, shape in shapes.items()}


@dataclass(frozen=True)
class Prediction:
    """A predicted step: compute, total communication, the part of it exposed, and the sum."""

    compute_s: float
    comm_s: float
    exposed_s: float

    @property
    def step_s(self) -> float:
        return self.compute_s + self.exposed_s


def predict(costs: dict[str, StyleCost], link: Link, compute_s: float) -> Prediction:
    """Step time of a plan's costs on ``link`` with ``compute_s`` of computation. Overlappable
    traffic hides behind the compute it can overlap (:class:`~parvox.parallel.plans.StyleCost`:
    its own layer's, or the backward's from when it is ready), and what hides is not free but
    costs ``link.cpu_per_byte`` per byte."""
    comm = sum(link.seconds(c.bytes_sent, c.messages) for c in costs.values())
    own = [c for c in costs.values() if c.overlappable and c.within is not None]
    queued = [c for c in costs.values() if c.overlappable and c.within is None]
    hidden = sum(min(c.overlappable / link.bandwidth, c.within * compute_s) for c in own)
    backward = compute_s * (TRAIN_FLOP_FACTOR - 1) / TRAIN_FLOP_FACTOR
    hidden += hidden_behind_backward(queued, link, backward)
    stolen = hidden * link.bandwidth * link.cpu_per_byte
    return Prediction(compute_s, comm, comm - hidden + stolen)


def hidden_behind_backward(costs: list[StyleCost], link: Link, backward_s: float) -> float:
    """Seconds of ``costs``' overlappable traffic that run during a backward of ``backward_s``:
    each cost's bytes join the link's queue at ``ready x backward_s`` and the link sends one
    transfer at a time, in the order they became ready (as DDP's buckets go); what is still
    queued when the backward ends is exposed."""
    end = total = 0.0
    for cost in sorted(costs, key=lambda c: c.ready):
        seconds = cost.overlappable / link.bandwidth
        end = max(end, cost.ready * backward_s) + seconds
        total += seconds
    return total - max(0.0, end - backward_s)


def resolve_styles(model: nn.Module, plan: str, work: Workload | None = None,
                   link: Link | None = None, compute_s: float = 0.0) -> dict[str, str]:
    """The style of every parametric module under ``plan`` (``auto`` needs ``work`` and
    ``link``, and picks with :func:`choose_styles`)."""
    chosen = get_plan(plan)
    if chosen.auto:
        if work is None or link is None:
            raise ValueError(f"plan {plan!r} needs the workload and the link")
        return choose_styles(model, work, link, compute_s)[0]
    return chosen.assign(model)


def choose_styles(model: nn.Module, work: Workload, link: Link,
                  compute_s: float = 0.0) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    """``auto``: the assignment of least predicted step time.

    Layers that accept one style (the convs: ``data``) keep it; the others (the FCs) try every
    accepted style, jointly, since overlap credit is shared: at most a few thousand candidate
    plans, each priced by :func:`predict`. On a tie the first registered style wins (``data``).
    Returns the styles and, per layer with a choice, each of its styles' predicted step time
    with the other layers as chosen (the "why" of ``parvox plan --parallel auto``).
    """
    shapes = layer_shapes(model, work.views)
    options = _options(model, shapes)
    styles = _ranked(shapes, options, work, link, compute_s)[0][0]
    if work.nproc == 1:
        return styles, {}

    def step(candidate: dict[str, str]) -> float:
        return predict(style_costs(shapes, candidate, work), link, compute_s).step_s

    return styles, {name: {s: step(styles | {name: s}) for s in names}
                    for name, names in options.items() if len(names) > 1}


def _options(model: nn.Module, shapes: dict[str, LayerShape]) -> dict[str, list[str]]:
    """Each layer's accepted style names, in registration order."""
    return {name: [s.name for s in STYLES.values() if s.accepts(model.get_submodule(name))]
            for name in shapes}


def rank_styles(model: nn.Module, work: Workload, link: Link,
                compute_s: float = 0.0) -> list[tuple[dict[str, str], float]]:
    """Every joint assignment of the layers with a choice (at most :data:`MAX_CANDIDATES`),
    with its predicted step time, fastest first (a stable sort: on a tie the first registered
    style, ``data``, comes first). With one rank, only the all-``data`` plan."""
    shapes = layer_shapes(model, work.views)
    return _ranked(shapes, _options(model, shapes), work, link, compute_s)


def _ranked(shapes: dict[str, LayerShape], options: dict[str, list[str]], work: Workload,
            link: Link, compute_s: float) -> list[tuple[dict[str, str], float]]:
    """:func:`rank_styles` on the layers' shapes and accepted styles."""
    if work.nproc == 1:
        return [({name: "data" for name in shapes}, compute_s)]
    fixed = {name: names[0] for name, names in options.items() if len(names) == 1}
    free = [name for name, names in options.items() if len(names) > 1]
    ranked = []
    for combo in itertools.islice(itertools.product(*(options[n] for n in free)),
                                  MAX_CANDIDATES):
        chosen = fixed | dict(zip(free, combo, strict=True))
        styles = {name: chosen[name] for name in shapes}
        ranked.append((styles, predict(style_costs(shapes, styles, work), link,
                                       compute_s).step_s))
    return sorted(ranked, key=lambda pair: pair[1])


def shortlist(model: nn.Module, work: Workload, link: Link, compute_s: float,
              margin: float = TRIAL_MARGIN, most: int = TRIAL_MOST
              ) -> list[tuple[dict[str, str], float]]:
    """The assignments that the cost model cannot tell apart from its best: those predicted
    within ``margin`` of the fastest, at most ``most``. The best comes first, then the
    registered fixed plans' assignments (``ddp``, ``owt``, ...: the alternatives most unlike
    each other), then the rest by predicted time. ``compute_s`` should be the measured step
    compute, else every plan's relative gap looks larger than it is."""
    ranked = rank_styles(model, work, link, compute_s)
    limit = ranked[0][1] * (1 + margin)
    fixed = [plan.assign(model) for plan in PLANS.values() if not plan.auto]
    order = [ranked[0]] + [pair for pair in ranked if pair[0] in fixed] + ranked
    chosen: list[tuple[dict[str, str], float]] = []
    for pair in order:
        if pair[1] <= limit and pair not in chosen and len(chosen) < most:
            chosen.append(pair)
    return chosen


def predict_step(config: str, plan: str, nproc: int, batch: int, views: int, link: Link,
                 compute_s: float, bf16: bool = False) -> float:
    """Predicted seconds per step of ``plan`` for model ``config`` (shapes only: the model is
    built on the meta device)."""
    from parvox.models import create_model

    with torch.device("meta"):
        model = create_model(config)
    work = Workload(nproc, batch, views, activation_bytes=2 if bf16 else 4)
    styles = resolve_styles(model, plan, work, link, compute_s)
    costs = style_costs(layer_shapes(model, views), styles, work)
    return predict(costs, link, compute_s).step_s


def probe_link(comm: Comm, repeats: int = 5) -> Link:
    """Measure the link between the ranks with all-reduces (collective: every rank calls it
    and gets the same answer): latency from a 4-byte one, bandwidth from a 16 MiB one, and on
    gloo the compute it takes from the ranks (:func:`overlap_cost`)."""
    if comm.world == 1:
        return Link(float("inf"), 0.0)
    small, large = torch.zeros(PROBE_SMALL), torch.zeros(PROBE_LARGE)
    lat = _median_seconds(comm, small, repeats * 4)
    big = _median_seconds(comm, large, repeats)
    sent = 2 * (comm.world - 1) / comm.world * large.numel() * large.element_size()
    # a ring all-reduce is 2 (K - 1) sequential steps, each paying the latency once
    steps = 2 * (comm.world - 1)
    latency = lat / steps
    bandwidth = sent / max(big - steps * latency, 1e-9)
    agreed = torch.tensor([bandwidth, latency], dtype=torch.float64)
    torch.distributed.broadcast(agreed, src=comm.global_rank(0), group=comm.group)
    bandwidth, latency = float(agreed[0]), float(agreed[1])
    return Link(bandwidth, latency, cpu_per_byte=overlap_cost(comm, bandwidth))  # same on all


def overlap_cost(comm: Comm, bandwidth: float, rounds: int = 3,
                 target_s: float = 0.3) -> float:
    """Seconds of computation lost per byte sent while computing (collective; 0 off gloo,
    whose collectives run on the CPU: NCCL's run on the GPU, beside the CPU's work).

    Every rank times a compute loop (``target_s`` of 256² matrix products on its threads)
    alone, and again with a 16 MiB all-reduce in flight, as a training step's backward runs
    with DDP's buckets in flight: the slowdown over the bytes sent meanwhile (all of them, or
    what ``bandwidth`` bytes/s moves in the loop's time). Where the collective's copies and
    socket work find no free core (gloo with every core computing) this is what the "hidden"
    traffic costs; the mean over ranks, medians over ``rounds``.
    """
    if comm.world == 1 or torch.distributed.get_backend(comm.group) != "gloo":
        return 0.0
    tensor = torch.zeros(PROBE_LARGE)
    sent = 2 * (comm.world - 1) / comm.world * tensor.numel() * tensor.element_size()
    a = torch.randn(256, 256)
    n = max(1, round(target_s / max(_matmuls(a, 8) / 8, 1e-6)))
    alone, shared = [], []
    for _ in range(rounds):
        torch.distributed.barrier(group=comm.group)
        alone.append(_matmuls(a, n))
        torch.distributed.barrier(group=comm.group)
        work = torch.distributed.all_reduce(tensor, group=comm.group, async_op=True)
        shared.append(_matmuls(a, n))
        work.wait()
    during = min(sent, bandwidth * statistics.median(shared))
    lost = max(0.0, statistics.median(shared) - statistics.median(alone)) / during
    mean = torch.tensor([lost], dtype=torch.float64)
    torch.distributed.all_reduce(mean, group=comm.group)
    return float(mean) / comm.world


def _matmuls(a: torch.Tensor, n: int) -> float:
    begin = time.perf_counter()
    for _ in range(n):
        torch.mm(a, a)
    return time.perf_counter() - begin


def _median_seconds(comm: Comm, tensor: torch.Tensor, repeats: int) -> float:
    times = []
    torch.distributed.barrier(group=comm.group)
    for _ in range(repeats + 1):
        begin = time.perf_counter()
        torch.distributed.all_reduce(tensor, group=comm.group)
        times.append(time.perf_counter() - begin)
    return statistics.median(times[1:])  # the first one sets up the connections
