"""Parallel plans as data: styles, plans and their registry.

A **style** says how one parametric module runs on K ranks and what that costs:

* ``data``: replicated; its gradients are averaged by DistributedDataParallel (all-reduce);
* ``model``: Krizhevsky's scheme (a), an ``nn.Linear`` sharded by output rows
  (:class:`~parvox.parallel.sharded.ShardedFC`);
* ``model-overlap``: scheme (b)/(c), the same shards taking one rank's chunk at a time with the
  communication of the next and previous chunks in flight.

A **plan** maps every parametric module of a model to a style: ``ddp`` (every layer ``data``),
``owt`` (the FCs of ``model.fc_layer_names()`` ``model``, the rest ``data``), ``owt-overlap``
and ``auto``, which picks each layer's style from the cost model for the run's K, batch, views
and link (:func:`parvox.parallel.cost.choose_styles`).

The CLI choices, ``parvox plan``, :mod:`parvox.parallel.analysis` and the bench scripts read
:func:`plan_names`; :func:`register_plan` and :func:`register_style` add to them from anywhere,
so a new strategy is one call, in one file.

Every cost is per rank per training step (forward + backward) for a :class:`Workload`, with the
ring accounting of :mod:`parvox.parallel.comm` (the bytes the ledger measures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from parvox.errors import ParvoxError
from parvox.parallel.comm import Comm

DATA, MODEL, MODEL_OVERLAP = "data", "model", "model-overlap"
#: Adam keeps a parameter, its gradient and two moments in float32 per element.
TRAINING_BYTES_PER_PARAM = 4 * 4
#: DistributedDataParallel's default gradient bucket (``bucket_cap_mb=25``).
DDP_BUCKET_BYTES = 25 * 2**20
#: Forward + backward FLOPs over forward FLOPs (input and weight gradients each cost a forward).
TRAIN_FLOP_FACTOR = 3


@dataclass(frozen=True)
class LayerShape:
    """What a cost needs of one parametric module, measured on one sample of ``views`` views.

    ``rows`` counts the FC's input rows per sample (V for the encoder FC and the gates) and
    ``in_width``/``out_width`` its features; for convs they are 0. ``share`` and ``ready`` place
    the layer in the step's compute, in multiply-accumulates: the backward runs the forward's
    calls in reverse, so a layer's gradients are complete once the backward is back at its
    first call (a decoder conv's early, the first encoder conv's at the very end).
    """

    name: str
    kind: str
    params: int
    macs: float  # forward multiply-accumulates per sample
    out_floats: float  # output elements per sample
    rows: float = 0.0
    in_width: int = 0
    out_width: int = 0
    share: float = 0.0  # this layer's fraction of the model's multiply-accumulates
    ready: float = 0.0  # fraction of the backward done when its gradients are complete


@dataclass(frozen=True)
class Workload:
    """One training step: ``nproc`` ranks, global ``batch``, ``views`` views per sample.

    ``activation_bytes`` is the element size of the FC activations the model styles exchange
    (2 under bf16 autocast), ``grad_bytes`` that of the gradients DDP averages (parameters stay
    float32).
    """

    nproc: int
    batch: int
    views: int
    activation_bytes: int = 4
    grad_bytes: int = 4

    @property
    def samples_per_rank(self) -> int:
        return self.batch // self.nproc


@dataclass(frozen=True)
class StyleCost:
    """Per rank per step: bytes sent, messages (each pays the link latency once), FLOPs,
    memory held for training (parameters, gradients, Adam moments), and the part of the
    traffic that can hide behind computation (``overlappable`` bytes).

    Overlappable bytes wait on the link behind the backward from ``ready`` (the fraction of
    the backward done when they can start: DDP's gradients once complete), or with ``within``
    set they hide behind that fraction of the step's compute instead (the overlapped FC chunks:
    the layer's own compute)."""

    bytes_sent: float
    messages: float
    flops: float
    memory_bytes: float
    overlappable: float = 0.0
    ready: float = 0.0
    within: float | None = None


@dataclass(frozen=True)
class ApplyContext:
    """What a style's :meth:`Style.apply` may use: the comm and the per-chunk update hook."""

    comm: Comm
    chunk_step: Callable | None = None


class Style:
    """How one module runs on K ranks. Subclasses set :attr:`name` and override the rest."""

    name: ClassVar[str] = ""
    help: ClassVar[str] = ""
    #: Whether the module's gradients go through DistributedDataParallel.
    replicated: ClassVar[bool] = False

    def accepts(self, module: nn.Module) -> bool:
        """Whether this style can run ``module``."""
        return True

    def apply(self, model: nn.Module, name: str, ctx: ApplyContext) -> None:
        """Rewrite ``model.<name>`` for this style (in place; default: leave it)."""

    def cost(self, layer: LayerShape, work: Workload) -> StyleCost:
        raise NotImplementedError


def _compute(layer: LayerShape, work: Workload) -> float:
    return TRAIN_FLOP_FACTOR * 2 * layer.macs * work.samples_per_rank


class Replicated(Style):
    """Every rank holds the whole module; DDP all-reduces its gradients."""

    name, help, replicated = DATA, "replicated, gradients all-reduced (DDP)", True

    def cost(self, layer: LayerShape, work: Workload) -> StyleCost:
        k = work.nproc
        grad = layer.params * work.grad_bytes
        sent = 2 * (k - 1) / k * grad if k > 1 else 0.0
        messages = 2 * (k - 1) * grad / DDP_BUCKET_BYTES  # a ring all-reduce per bucket
        return StyleCost(sent, messages, _compute(layer, work),
                         layer.params * TRAINING_BYTES_PER_PARAM, overlappable=sent,
                         ready=layer.ready)


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, attr = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, attr, module)


class RowSharded(Style):
    """An ``nn.Linear`` sharded by output rows over the K ranks (Krizhevsky's scheme (a))."""

    name, help = MODEL, "FC sharded by output rows: all-gather inputs, all-to-all outputs"
    overlap: ClassVar[bool] = False

    def accepts(self, module: nn.Module) -> bool:
        return isinstance(module, nn.Linear) and module.bias is not None

    def apply(self, model: nn.Module, name: str, ctx: ApplyContext) -> None:
        from parvox.parallel.sharded import ShardedFC

        linear = model.get_submodule(name)
        if linear.out_features % ctx.comm.world:
            raise ParvoxError(f"{name}: {linear.out_features} output features do not split "
                              f"over {ctx.comm.world} ranks; use another --parallel plan")
        chunk_step = ctx.chunk_step if self.overlap else None
        _set_submodule(model, name, ShardedFC(linear, ctx.comm, name, self.overlap, chunk_step))

    def activation_bytes(self, layer: LayerShape, work: Workload) -> float:
        """Forward all-gather ``(K-1) m F`` + all-to-all ``(K-1)/K m O``, the same again
        backward (reduce-scatter, all-to-all), ``m`` the rows of this rank's samples."""
        k = work.nproc
        rows = layer.rows * work.samples_per_rank
        return 2 * (k - 1) * rows * (layer.in_width + layer.out_width / k) \
            * work.activation_bytes

    def cost(self, layer: LayerShape, work: Workload) -> StyleCost:
        k = work.nproc
        sent = self.activation_bytes(layer, work) if k > 1 else 0.0
        return StyleCost(sent, 4 * (k - 1), _compute(layer, work),
                         layer.params / k * TRAINING_BYTES_PER_PARAM)


class RowShardedOverlap(RowSharded):
    """Scheme (b)/(c): the same shards, one rank's chunk at a time, the next chunk's broadcast
    and the previous chunk's return in flight while a chunk is computed."""

    name, help = MODEL_OVERLAP, "FC sharded by rows, chunk by chunk with communication overlapped"
    overlap = True

    def cost(self, layer: LayerShape, work: Workload) -> StyleCost:
        base = super().cost(layer, work)
        k = work.nproc
        # K broadcasts + K gathers forward, K scatters + K reduces backward; everything but the
        # first chunk's broadcast and the last chunk's return can hide behind a chunk's compute,
        # that is behind this layer's own forward and backward
        hidden = base.bytes_sent * (k - 1) / k if k > 1 else 0.0
        return StyleCost(base.bytes_sent, 4 * k if k > 1 else 0, base.flops, base.memory_bytes,
                         overlappable=hidden, within=layer.share)


@dataclass(frozen=True)
class Plan:
    """A named plan: ``assign(model)`` gives every parametric module's style name.

    ``auto`` plans have no fixed assignment: :func:`parvox.parallel.cost.choose_styles` picks
    each layer's style for the run (``assign`` then gives the candidates' default).
    """

    name: str
    help: str
    assign: Callable[[nn.Module], dict[str, str]]
    auto: bool = False


STYLES: dict[str, Style] = {}
PLANS: dict[str, Plan] = {}


def register_style(style: Style) -> Style:
    """Add ``style`` to the registry under ``style.name`` (replacing a same-named one)."""
    STYLES[style.name] = style
    return style


def register_plan(plan: Plan) -> Plan:
    """Add ``plan`` to the registry (replacing a same-named one): the CLI, ``parvox plan`` and
    the benches list it from then on."""
    PLANS[plan.name] = plan
    return plan


def plan_names() -> list[str]:
    """Registered plan names, in registration order."""
    return list(PLANS)


def get_plan(name: str) -> Plan:
    """The registered plan ``name``; an unknown name is one line listing the others."""
    if name not in PLANS:
        raise ParvoxError(f"unknown --parallel {name!r}; choose among {', '.join(PLANS)}")
    return PLANS[name]


def get_style(name: str) -> Style:
    if name not in STYLES:
        raise ParvoxError(f"unknown parallel style {name!r}; known: {', '.join(STYLES)}")
    return STYLES[name]


def parametric_modules(model: nn.Module) -> list[str]:
    """Names of the modules that own parameters (the units a plan assigns)."""
    return [name for name, module in model.named_modules()
            if any(True for _ in module.parameters(recurse=False))]


def fc_plan(fc_style: str) -> Callable[[nn.Module], dict[str, str]]:
    """An assignment: ``fc_style`` for ``model.fc_layer_names()``, ``data`` for the rest."""

    def assign(model: nn.Module) -> dict[str, str]:
        fcs = set(model.fc_layer_names())
        return {name: (fc_style if name in fcs else DATA) for name in parametric_modules(model)}

    return assign


for _style in (Replicated(), RowSharded(), RowShardedOverlap()):
    register_style(_style)
register_plan(Plan("ddp", "every layer data-parallel (DDP)", fc_plan(DATA)))
register_plan(Plan("owt", "Krizhevsky's scheme (a): FCs model-parallel, convs data-parallel",
                   fc_plan(MODEL)))
register_plan(Plan("owt-overlap", "scheme (b)/(c): FC shards chunk by chunk, overlapped",
                   fc_plan(MODEL_OVERLAP)))
register_plan(Plan("auto", "each layer's style chosen by the cost model for K, batch, views "
                   "and the measured (or given) link", fc_plan(MODEL), auto=True))
