"""The parallel dimensions of a run, read from the launch environment, and its device mesh.

Launched by ``torchrun`` (or ``parvox train --nproc K``, which uses torchrun's machinery), each
rank finds ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` in its environment. Without them the run
is one process (``world == 1``) and no process group is created. The backend is NCCL when CUDA
is available, gloo otherwise. All K ranks form one mesh axis, ``"workers"``: in Krizhevsky's
scheme every worker is both a data-parallel replica (convs) and a model-parallel shard (FCs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from parvox.errors import ParvoxError
from parvox.parallel.comm import Comm
from parvox.parallel.plans import get_plan

#: Name of the single mesh axis.
WORKERS_AXIS = "workers"


@dataclass(frozen=True)
class ParallelDims:
    """Degrees of parallelism of this run and this process's place in it."""

    world: int = 1
    rank: int = 0
    local_rank: int = 0
    strategy: str = "ddp"

    def __post_init__(self) -> None:
        get_plan(self.strategy)  # an unknown plan is one line listing the registered ones
        if not 0 <= self.rank < self.world:
            raise ParvoxError(f"rank {self.rank} outside world of size {self.world}")

    @classmethod
    def from_env(cls, strategy: str) -> ParallelDims:
        """Read ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` (set by torchrun)."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        return cls(world, int(os.environ.get("RANK", "0")),
                   int(os.environ.get("LOCAL_RANK", "0")), strategy)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def backend(self) -> str:
        return "nccl" if torch.cuda.is_available() else "gloo"

    @property
    def device(self) -> torch.device:
        if torch.cuda.is_available():
            return torch.device("cuda", self.local_rank % torch.cuda.device_count())
        return torch.device("cpu")


def init_distributed(dims: ParallelDims) -> Comm:
    """Join the process group and build the mesh; returns the workers axis as a :class:`Comm`."""
    if dims.world == 1:
        return Comm()
    if torch.cuda.is_available():
        torch.cuda.set_device(dims.device)
    if not dist.is_initialized():
        store = attempt_store(dims.world)
        if store is None:
            dist.init_process_group(dims.backend)
        else:
            dist.init_process_group(dims.backend, store=store, rank=dims.rank,
                                    world_size=dims.world)
    from torch.distributed.device_mesh import init_device_mesh

    mesh = init_device_mesh(dims.device.type, (dims.world,), mesh_dim_names=(WORKERS_AXIS,))
    return Comm(rank=dims.rank, world=dims.world, group=mesh.get_group(WORKERS_AXIS))


def attempt_store(world: int) -> dist.Store | None:
    """The launcher's store, with a key prefix private to this restart attempt, or ``None``.

    torchrun (2.4+) shares one TCPStore across the restarts of a worker group
    (``TORCHELASTIC_USE_AGENT_STORE``) but the ranks' default ``env://`` rendezvous adds no
    per-attempt prefix. After a restart, gloo may then read the listening address a dead rank
    of the previous attempt left in the store and fail with "connection refused" (or wait
    forever), depending on which rank publishes first: 1 restart in 4 failed here. Keys under
    ``parvox/attempt-<TORCHELASTIC_RESTART_COUNT>`` cannot be stale. ``None`` when not under
    torchrun's agent store (the default rendezvous then creates a fresh store).
    """
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT")
    if attempt is None or os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return None
    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]),
                          world_size=world, is_master=False)
    return dist.PrefixStore(f"parvox/attempt-{attempt}", store)


def shutdown_distributed() -> None:
    """Leave the process group (if any)."""
    if dist.is_initialized():
        dist.destroy_process_group()
