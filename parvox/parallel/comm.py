"""Collectives with byte accounting, and the autograd functions of the model-parallel FCs.

Bytes are counted per rank as the ring algorithms move them (the usual convention, and the one
the plan's analytical numbers use), from the sizes of the tensors really passed:

=============== ================================================ =========================
collective      what each rank sends                             for a local tensor of n B
=============== ================================================ =========================
all-reduce      reduce-scatter then all-gather                   2 (K - 1) / K · n
all-gather      its chunk to K - 1 peers (ring)                  (K - 1) · n
reduce-scatter  K - 1 of its K chunks                            (K - 1) / K · n
all-to-all      K - 1 of its K chunks                            (K - 1) / K · n
broadcast       pipelined ring: each rank forwards the message   (K - 1) / K · n (average)
gather/scatter  non-roots send their chunk / root sends K - 1    (K - 1) / K · K·chunk / K
reduce          reverse of broadcast                             (K - 1) / K · n (average)
=============== ================================================ =========================
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
import torch.distributed._functional_collectives as funcol
from torch import Tensor

#: Flat-tensor collectives: ``*_single`` from torch 2.13 on, ``*_tensor`` before.
_ALL_GATHER = getattr(dist, "all_gather_single", None) or dist.all_gather_into_tensor
_REDUCE_SCATTER = getattr(dist, "reduce_scatter_single", None) or dist.reduce_scatter_tensor
#: The differentiable all-gather: ``*_single_autograd`` from torch 2.13 on, ``*_tensor_*`` before.
_ALL_GATHER_AUTOGRAD = (getattr(funcol, "all_gather_single_autograd", None)
                        or funcol.all_gather_tensor_autograd)


def training_bytes(by_label: dict[str, float]) -> float:
    """Bytes of a step's training traffic: everything but the "metrics" label (the loss and
    the stop/NaN flags the ranks agree on, a few bytes)."""
    return sum(v for k, v in by_label.items() if k != "metrics")


@dataclass
class CommLedger:
    """Bytes sent by this rank, per step, by collective kind and by layer label."""

    by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    by_label: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: int = 0

    def record(self, kind: str, label: str, nbytes: float) -> None:
        self.by_kind[kind] += nbytes
        self.by_label[label] += nbytes
        self.calls += 1

    def reset(self) -> dict[str, float]:
        """Return this step's bytes by label and start counting the next step."""
        snapshot = dict(self.by_label)
        self.by_kind.clear()
        self.by_label.clear()
        self.calls = 0
        return snapshot


@dataclass
class Comm:
    """A process group with counted collectives (``world == 1``: everything is the identity)."""

    rank: int = 0
    world: int = 1
    group: dist.ProcessGroup | None = None
    ledger: CommLedger = field(default_factory=CommLedger)

    def _nbytes(self, t: Tensor) -> int:
        return t.numel() * t.element_size()

    def all_reduce_(self, t: Tensor, label: str) -> Tensor:
        """In-place sum over ranks."""
        if self.world > 1:
            self.ledger.record("all_reduce", label,
                               2 * (self.world - 1) / self.world * self._nbytes(t))
            dist.all_reduce(t, group=self.group)
        return t

    def all_gather_rows(self, x: Tensor, label: str) -> Tensor:
        """(n, ...) on every rank -> (K·n, ...), rank j's rows at block j."""
        if self.world == 1:
            return x
        x = x.contiguous()
        out = x.new_empty((self.world * x.shape[0], *x.shape[1:]))
        self.ledger.record("all_gather", label, (self.world - 1) * self._nbytes(x))
        _ALL_GATHER(out, x, group=self.group)
        return out

    def reduce_scatter_rows(self, x: Tensor, label: str) -> Tensor:
        """(K·n, ...) on every rank -> (n, ...): the sum over ranks of block ``rank``."""
        if self.world == 1:
            return x
        x = x.contiguous()
        out = x.new_empty((x.shape[0] // self.world, *x.shape[1:]))
        self.ledger.record("reduce_scatter", label,
                           (self.world - 1) / self.world * self._nbytes(x))
        _REDUCE_SCATTER(out, x, group=self.group)
        return out

    def all_to_all_rows(self, x: Tensor, label: str) -> Tensor:
        """(K·n, ...) -> (K·n, ...): block j goes to rank j; block j of the result came from
        rank j."""
        if self.world == 1:
            return x
        x = x.contiguous()
        out = torch.empty_like(x)
        self.ledger.record("all_to_all", label, (self.world - 1) / self.world * self._nbytes(x))
        dist.all_to_all_single(out, x, group=self.group)
        return out

    def record_p2p(self, kind: str, label: str, nbytes: float) -> None:
        """Account a broadcast/gather/scatter/reduce of ``nbytes`` (see the module table)."""
        self.ledger.record(kind, label, (self.world - 1) / self.world * nbytes)

    def global_rank(self, group_rank: int) -> int:
        """Global rank of ``group_rank`` in this comm's group (for src/dst arguments)."""
        if self.group is None:
            return group_rank
        return dist.get_global_rank(self.group, group_rank)


class GatherRows(torch.autograd.Function):
    """Forward: all-gather rows (n, F) -> (K·n, F). Backward: reduce-scatter (sum) back."""

    @staticmethod
    def forward(ctx, x: Tensor, comm: Comm, label: str) -> Tensor:  # type: ignore[override]
        ctx.comm, ctx.label = comm, label
        return comm.all_gather_rows(x, label)

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        return ctx.comm.reduce_scatter_rows(grad, ctx.label), None, None


class ExchangeRows(torch.autograd.Function):
    """Forward and backward: all-to-all of row blocks (block j <-> rank j)."""

    @staticmethod
    def forward(ctx, x: Tensor, comm: Comm, label: str) -> Tensor:  # type: ignore[override]
        ctx.comm, ctx.label = comm, label
        return comm.all_to_all_rows(x, label)

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        return ctx.comm.all_to_all_rows(grad, ctx.label), None, None


def gather_rows(x: Tensor, comm: Comm, label: str) -> Tensor:
    """(n, F) per rank -> (K·n, F), differentiable (backward: reduce-scatter, summing), with
    torch's functional collectives; both directions are counted in the ledger."""
    if comm.world == 1:
        return x
    x = x.contiguous()
    nbytes = x.numel() * x.element_size()
    comm.ledger.record("all_gather", label, (comm.world - 1) * nbytes)
    out = _ALL_GATHER_AUTOGRAD(x, gather_dim=0, group=comm.group)
    return count_backward(out, comm, "reduce_scatter", label, (comm.world - 1) * nbytes)


def exchange_rows(x: Tensor, comm: Comm, label: str) -> Tensor:
    """(K·n, O) -> (K·n, O), block j to rank j (all-to-all both ways), differentiable, with
    torch's functional collectives; both directions are counted in the ledger."""
    if comm.world == 1:
        return x
    x = x.contiguous()
    nbytes = (comm.world - 1) / comm.world * x.numel() * x.element_size()
    comm.ledger.record("all_to_all", label, nbytes)
    out = funcol.all_to_all_single_autograd(x, None, None, group=comm.group)
    return count_backward(out, comm, "all_to_all", label, nbytes)


def count_backward(out: Tensor, comm: Comm, kind: str, label: str, nbytes: float) -> Tensor:
    """Record ``nbytes`` of ``kind`` when the gradient of ``out`` arrives (the backward
    collective then runs)."""
    if out.requires_grad:
        out.register_hook(lambda grad: comm.ledger.record(kind, label, nbytes))
    return out
