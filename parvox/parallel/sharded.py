"""Model-parallel FC layers: Krizhevsky's scheme (a) and the overlapped scheme (b)/(c).

Every rank holds rows ``rank·s .. (rank+1)·s`` (``s = out / K``) of each FC's weight and bias.
The conv layers before them run data-parallel, so each rank has the features of its own ``n``
samples. A forward pass:

1. **gather**: every rank gets the features of all ``K·n`` samples (all-gather);
2. **compute**: each rank applies its weight shard to all ``K·n`` samples;
3. **return**: each rank gets, for its own ``n`` samples, the ``K`` output shards (all-to-all).

Backward mirrors it: all-to-all of the output gradients, local weight gradients over all
``K·n`` samples, reduce-scatter of the input gradients. The GRU/LSTM gates are one fused FC in
the model (``recurrent.fc_gates``), so their input is gathered once and one all-to-all carries
all their outputs, with no call-order contract between layers.

``overlap=True`` (scheme (b)/(c)) takes one rank's chunk at a time: the broadcast of chunk
``j + 1`` and the return of chunk ``j - 1`` run while chunk ``j`` is computed; backward likewise.
By default the weight gradients are summed over the chunks and applied once per global batch
(exact). With a ``chunk_step`` callback (``--fc-update per-chunk``) the FC shards instead take an
optimizer step after each chunk's backward, on that chunk's gradient, and later chunks'
input gradients use the updated weights: Krizhevsky's (128K, 128) variant, not exact by design.
The forward pass of every chunk still uses the weights of the start of the step, because in
R2N2 the recurrent convs and the decoder (data-parallel) follow the FCs, so no chunk's backward
can start before all chunks have gone forward.

Gradient scale: each rank's loss is the mean over its ``n`` samples and the data-parallel layers
average gradients over ranks, i.e. the objective is the mean of the K local losses. The weight
gradient a shard computes sums all K local losses, so it is divided by K (a parameter hook),
which makes every strategy equal one process on the global batch.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

from parvox.parallel.comm import Comm, ExchangeRows, GatherRows, exchange_rows, gather_rows


def _dtensor(name: str):
    """``parvox.parallel.dtensor_rows.<name>``, imported at the first call (DTensor takes about
    a second to import, which only this variant should pay)."""

    def call(x: Tensor, comm: Comm, label: str) -> Tensor:
        from parvox.parallel import dtensor_rows

        return getattr(dtensor_rows, name)(x, comm, label)

    return call


def _in_columns(exchange):
    """``exchange`` (blocks (K·n, s) -> block j from rank j) returning this rank's rows with
    every shard's columns in order, (n, K·s), as DTensor's ``Shard(1)`` -> ``Shard(0)`` does."""

    def call(x: Tensor, comm: Comm, label: str) -> Tensor:
        (out,) = _split_shards(exchange(x, comm, label), comm.world, [x.shape[1]])
        return out

    return call


#: Scheme (a)'s collectives, each a gather ((n, F) per rank -> (K·n, F)) and an exchange
#: (this rank's shard of every row, (K·n, s) -> its own rows' full outputs, (n, K·s)): torch's
#: functional collectives with autograd (``"torch"``), the hand-written autograd functions of
#: :mod:`parvox.parallel.comm` (``"parvox"``) and DTensor redistributions (``"dtensor"``,
#: :mod:`parvox.parallel.dtensor_rows`), kept to test and time one against the others.
COLLECTIVES = {"torch": (gather_rows, _in_columns(exchange_rows)),
               "parvox": (GatherRows.apply, _in_columns(ExchangeRows.apply)),
               "dtensor": (_dtensor("gather_rows"), _dtensor("exchange_rows"))}


class ShardedFC(nn.Module):
    """A shard of an ``nn.Linear``: rows ``rank·s .. (rank+1)·s`` of its ``weight`` and ``bias``.

    Calling it with ``x`` (..., in_features) returns the full (..., out_features) output for the
    local samples, computed by all ranks together (see module docstring). Each call is
    self-contained: one gather of the input, one compute pass, one return of the outputs. The
    recurrent unit's gates are one fused ``nn.Linear``, so they too are one call.

    ``overlap=True`` runs scheme (b)/(c) (one rank's chunk at a time); ``chunk_step`` (with
    ``overlap``) steps the shard after every chunk (``--fc-update per-chunk``).
    """

    def __init__(self, linear: nn.Linear, comm: Comm, label: str, overlap: bool = False,
                 chunk_step=None, collectives: str = "torch") -> None:
        super().__init__()
        self.gather, self.exchange = COLLECTIVES[collectives]
        if linear.out_features % comm.world:
            raise ValueError(f"out_features {linear.out_features} not divisible by "
                             f"{comm.world} ranks")
        if linear.bias is None:
            raise ValueError("a sharded FC needs a bias (every FC of the model has one)")
        if chunk_step is not None and not overlap:
            raise ValueError("a per-chunk update needs the overlapped scheme")
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.shard = linear.out_features // comm.world
        rows = slice(comm.rank * self.shard, (comm.rank + 1) * self.shard)
        self.weight = nn.Parameter(linear.weight.detach()[rows].clone())
        self.bias = nn.Parameter(linear.bias.detach()[rows].clone())
        self.comm, self.label, self.overlap, self.chunk_step = comm, label, overlap, chunk_step
        scale = 1.0 / comm.world
        for p in self.parameters():
            p.register_hook(lambda g, s=scale: None if g is None else g * s)

    def forward(self, x: Tensor) -> Tensor:
        """(..., in_features) local rows -> (..., out_features) local rows."""
        flat = x.reshape(-1, x.shape[-1])
        if self.overlap and self.comm.world > 1:
            (out,) = _ChunkedFC.apply(flat, self.comm, self.label, self.chunk_step,
                                      self.weight, self.bias)
        else:
            gathered = self.gather(flat, self.comm, self.label)  # (K·n, in)
            out = self.exchange(F.linear(gathered, self.weight, self.bias), self.comm,
                                self.label)  # (n, out)
        return out.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return (f"in={self.in_features}, out={self.out_features}, shard={self.shard}, "
                f"overlap={self.overlap}")


def _split_shards(received: Tensor, world: int, shards: list[int]) -> list[Tensor]:
    """(K·n, Σ s_g) with block j = shard j of every member -> per member (n, K·s_g)."""
    n = received.shape[0] // world
    blocks = received.reshape(world, n, -1).split(shards, dim=2)
    return [b.permute(1, 0, 2).reshape(n, world * b.shape[2]) for b in blocks]


class _ChunkedFC(torch.autograd.Function):
    """Scheme (b)/(c): one rank's chunk at a time, communication overlapped with compute.

    Forward: broadcasts of every rank's input chunk are posted at once; chunk j is computed as
    soon as it lands while later ones are in flight, and its output shard is sent back to rank
    j (an asynchronous gather) while chunk j + 1 is computed. Backward: rank j's output
    gradients are scattered to the shards, each shard accumulates its weight gradient chunk by
    chunk (so the result is exact) and reduces the input gradient back to rank j.
    """

    @staticmethod
    def forward(ctx, x: Tensor, comm: Comm, label: str, chunk_step,  # type: ignore[override]
                *params: Tensor) -> tuple[Tensor, ...]:
        weights, biases = params[0::2], params[1::2]
        chunks, waits = _post_broadcasts(x.contiguous(), comm, label)
        shards = [w.shape[0] for w in weights]
        mine: list[Tensor] = []
        pending = []
        for j in range(comm.world):
            waits[j].wait()
            local = torch.cat([F.linear(chunks[j], w, b)
                               for w, b in zip(weights, biases, strict=True)], dim=1)
            if j == comm.rank:
                mine = [torch.empty_like(local) for _ in range(comm.world)]
            comm.record_p2p("gather", label, local.numel() * local.element_size())
            pending.append(dist.gather(local, mine if j == comm.rank else None,
                                       dst=comm.global_rank(j), group=comm.group, async_op=True))
        for work in pending:
            work.wait()
        ctx.save_for_backward(*chunks, *params)
        ctx.comm, ctx.label, ctx.chunk_step = comm, label, chunk_step
        return tuple(_split_shards(torch.cat(mine), comm.world, shards))

    @staticmethod
    def backward(ctx, *grads: Tensor):  # type: ignore[override]
        comm, label = ctx.comm, ctx.label
        saved = ctx.saved_tensors
        chunks, params = saved[:comm.world], saved[comm.world:]
        weights, biases = params[0::2], params[1::2]
        shards = [w.shape[0] for w in weights]
        mine = _shard_blocks([g.contiguous() for g in grads], comm.world, shards)
        received, waits = _post_scatters(mine, comm, label)
        grad_w = [torch.zeros_like(w) for w in weights]
        grad_b = [torch.zeros_like(b) for b in biases]
        results = [torch.empty(0) for _ in range(comm.world)]
        pending = []
        for j in range(comm.world):
            waits[j].wait()
            parts = received[j].split(shards, dim=1)
            grad_x = torch.zeros_like(chunks[j])
            for g, part in enumerate(parts):
                grad_x += part @ weights[g]
            if ctx.chunk_step is not None:  # per-chunk update: this chunk's mean-loss gradient
                ctx.chunk_step([(p, grad) for g, part in enumerate(parts) for p, grad in
                                ((weights[g], part.t() @ chunks[j]),
                                 (biases[g], part.sum(0)))])
            else:
                for g, part in enumerate(parts):
                    grad_w[g] += part.t() @ chunks[j]
                    grad_b[g] += part.sum(0)
            results[j] = grad_x
            comm.record_p2p("reduce", label, grad_x.numel() * grad_x.element_size())
            pending.append(dist.reduce(grad_x, dst=comm.global_rank(j), group=comm.group,
                                       async_op=True))
        for work in pending:
            work.wait()
        if ctx.chunk_step is not None:  # already applied chunk by chunk
            return (results[comm.rank], None, None, None, *[None] * len(params))
        grad_params = [t for pair in zip(grad_w, grad_b, strict=True) for t in pair]
        return (results[comm.rank], None, None, None, *grad_params)


def _post_broadcasts(x: Tensor, comm: Comm, label: str) -> tuple[list[Tensor], list]:
    """Post one asynchronous broadcast per rank's chunk; returns (buffers, works)."""
    chunks, works = [], []
    for j in range(comm.world):
        buf = x if j == comm.rank else torch.empty_like(x)
        comm.record_p2p("broadcast", label, buf.numel() * buf.element_size())
        works.append(dist.broadcast(buf, src=comm.global_rank(j), group=comm.group,
                                    async_op=True))
        chunks.append(buf)
    return chunks, works


def _shard_blocks(grads: list[Tensor], world: int, shards: list[int]) -> list[Tensor]:
    """Per member (n, K·s_g) output gradients -> per shard j the (n, Σ s_g) block for j."""
    per_member = [g.reshape(g.shape[0], world, s) for g, s in zip(grads, shards, strict=True)]
    return [torch.cat([m[:, j] for m in per_member], dim=1).contiguous() for j in range(world)]


def _post_scatters(blocks: list[Tensor], comm: Comm, label: str) -> tuple[list[Tensor], list]:
    """Rank j scatters its output-gradient blocks to the shards; returns (received, works)."""
    received, works = [], []
    for j in range(comm.world):
        buf = torch.empty_like(blocks[0])
        comm.record_p2p("scatter", label, buf.numel() * buf.element_size())
        works.append(dist.scatter(buf, blocks if j == comm.rank else None,
                                  src=comm.global_rank(j), group=comm.group, async_op=True))
        received.append(buf)
    return received, works
