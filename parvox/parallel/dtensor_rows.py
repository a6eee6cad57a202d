"""Scheme (a)'s two collectives as DTensor redistributions (``collectives="dtensor"``).

These are the layouts of torch's ``ColwiseParallel(input_layouts=Shard(0),
output_layouts=Shard(0))`` on an FC whose input is sharded by batch rows, written with
``DTensor.from_local`` / ``redistribute`` / ``to_local`` on the local tensors, so the shards stay
plain parameters (checkpoints, the optimizer and the 1/K gradient hook unchanged):

* **gather**: the (n, F) rows of each rank are ``Shard(0)`` of the (K·n, F) global input;
  redistributed to ``Replicate()`` it is an all-gather. Its gradient on each rank is only that
  rank's share of the true one (each rank multiplied by its own weight shard), so the local
  result is taken with ``grad_placements=[Partial()]``: the backward is then a reduce-scatter.
  Leaving that out (the default ``to_local``) silently drops the reduce-scatter, and the input
  gradient of each rank would miss the other ranks' terms; the float64 parity test fails then.
* **exchange**: the (K·n, s) output of each rank's shard is ``Shard(1)`` of the (K·n, K·s)
  global output; redistributed to ``Shard(0)`` each rank gets the (n, K·s) rows of its own
  samples. On a CPU mesh torch implements that shard-to-shard move as an all-gather followed by
  a chunk (gloo has no all-to-all in DTensor; torch logs "CPU process group does not support
  alltoall yet"): each rank then sends its whole (K·n, s) block to every peer, K times the
  bytes of an all-to-all, forward and backward. The ledger records what is really sent.
"""

from __future__ import annotations

import torch.distributed as dist
from torch import Tensor
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.tensor import DTensor, Partial, Replicate, Shard

from parvox.parallel.comm import Comm, count_backward

_MESHES: dict[tuple[int, str], DeviceMesh] = {}


def mesh_of(comm: Comm, device_type: str) -> DeviceMesh:
    """The 1-D device mesh over ``comm``'s group (one per group and device type)."""
    group = comm.group or dist.group.WORLD
    key = (id(group), device_type)
    if key not in _MESHES:
        _MESHES[key] = DeviceMesh.from_group(group, device_type)
    return _MESHES[key]


def gather_rows(x: Tensor, comm: Comm, label: str) -> Tensor:
    """(n, F) per rank -> (K·n, F): ``Shard(0)`` -> ``Replicate()``; backward reduce-scatter."""
    if comm.world == 1:
        return x
    x = x.contiguous()
    mesh = mesh_of(comm, x.device.type)
    nbytes = x.numel() * x.element_size()
    comm.ledger.record("all_gather", label, (comm.world - 1) * nbytes)
    out = DTensor.from_local(x, mesh, [Shard(0)], run_check=False) \
        .redistribute(mesh, [Replicate()]).to_local(grad_placements=[Partial()])
    return count_backward(out, comm, "reduce_scatter", label, (comm.world - 1) * nbytes)


def exchange_rows(x: Tensor, comm: Comm, label: str) -> Tensor:
    """(K·n, s) of this rank's shard of every row -> (n, K·s), this rank's rows with every
    shard's columns in order: ``Shard(1)`` -> ``Shard(0)``."""
    if comm.world == 1:
        return x
    x = x.contiguous()
    mesh = mesh_of(comm, x.device.type)
    k = comm.world
    nbytes = x.numel() * x.element_size()
    # all-to-all: (K-1)/K of the block; the CPU fallback all-gathers the whole block
    sent = (k - 1) * nbytes if x.device.type == "cpu" else (k - 1) / k * nbytes
    kind = "all_gather" if x.device.type == "cpu" else "all_to_all"
    comm.ledger.record(kind, label, sent)
    out = DTensor.from_local(x, mesh, [Shard(1)], run_check=False) \
        .redistribute(mesh, [Shard(0)]).to_local()  # (n, K·s), columns in global order
    return count_backward(out, comm, kind, label, sent)
