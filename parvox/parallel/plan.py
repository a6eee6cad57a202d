"""Apply a per-layer parallel plan to an unmodified single-device model.

A plan maps module names to a style: ``"data"`` (replicated, gradients all-reduced by
DistributedDataParallel) or ``"model"`` (sharded by output rows, see
:mod:`parvox.parallel.sharded`). ``ddp`` makes every layer data-parallel; ``owt`` and
``owt-overlap`` make the FC layers the model names in ``fc_layer_names()`` model-parallel and
the rest data-parallel, as Krizhevsky's "one weird trick" does.

The parallel model keeps the single-device parameter names, so checkpoints hold full, unsharded
tensors by name whatever the number of ranks (:meth:`ParallelModel.full_state_dict`), and the
optimizer state is likewise gathered to its single-process form.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from parvox.errors import ParvoxError
from parvox.parallel.comm import Comm
from parvox.parallel.mesh import STRATEGIES
from parvox.parallel.sharded import ShardedFC, ShardedFCGroup

DATA, MODEL = "data", "model"
#: When the model-parallel FC shards step: once per global batch (exact) or after every chunk.
FC_UPDATES = ("global", "per-chunk")


def layer_plan(model: nn.Module, strategy: str) -> dict[str, str]:
    """Style of every module that owns parameters: ``{"encoder.fc": "model", ...}``."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}")
    fcs = set(model.fc_layer_names()) if strategy != "ddp" else set()
    return {name: (MODEL if name in fcs else DATA)
            for name, module in model.named_modules()
            if any(True for _ in module.parameters(recurse=False))}


def fc_groups(model: nn.Module) -> dict[str, list[str]]:
    """Model-parallel FCs grouped by shared input: FCs under the same parent read the same
    tensor (the recurrent unit's gates); ``{"recurrent": ["recurrent.fc_update", ...]}``."""
    groups: dict[str, list[str]] = {}
    for name in model.fc_layer_names():
        groups.setdefault(name.rsplit(".", 1)[0], []).append(name)
    return groups


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, attr = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, attr, module)


def _counting_allreduce_hook(comm: Comm):
    """A DDP communication hook: average the bucket over ranks, counting its bytes."""

    def hook(state, bucket):  # DDP checks the annotations at run time: leave them out
        buffer = bucket.buffer().div_(comm.world)
        comm.ledger.record("all_reduce", "ddp-gradients",
                           2 * (comm.world - 1) / comm.world * buffer.numel()
                           * buffer.element_size())
        work = dist.all_reduce(buffer, group=comm.group, async_op=True)
        return work.get_future().then(lambda fut: fut.value()[0])

    return hook


class ParallelModel:
    """A model with its plan applied: call it like the model.

    Attributes:
        module: the model with its model-parallel FCs replaced by :class:`ShardedFC`.
        sharded: parameter name -> its ShardedFC, for the sharded parameters.
    """

    def __init__(self, model: nn.Module, strategy: str, comm: Comm,
                 fc_update: str = "global") -> None:
        if fc_update not in FC_UPDATES:
            raise ValueError(f"unknown fc_update {fc_update!r}")
        if fc_update == "per-chunk" and strategy != "owt-overlap":
            raise ParvoxError("--fc-update per-chunk needs --parallel owt-overlap (the FC "
                              "stage must take one chunk at a time)")
        self.strategy, self.comm, self.module = strategy, comm, model
        self.sharded: dict[str, ShardedFC] = {}
        self.groups: list[ShardedFCGroup] = []
        self.optimizer: torch.optim.Optimizer | None = None
        if strategy != "ddp" and comm.world > 1:
            self._shard_fcs(overlap=strategy == "owt-overlap",
                            chunk_step=self._chunk_step if fc_update == "per-chunk" else None)
        self.wrapped: nn.Module = model
        if comm.world > 1:
            self.wrapped = self._wrap_ddp(model)

    def attach_optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        """The optimizer whose steps ``--fc-update per-chunk`` takes after each chunk."""
        self.optimizer = optimizer

    def _chunk_step(self, pairs: list[tuple[Tensor, Tensor]]) -> None:
        """One optimizer step of the given FC shard parameters only (called inside backward):
        the other parameters' gradients are set aside meanwhile, so they are not stepped."""
        assert self.optimizer is not None, "per-chunk FC update needs attach_optimizer()"
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        aside = {p: p.grad for p in params if p.grad is not None}
        for p in aside:
            p.grad = None
        for p, grad in pairs:
            p.grad = grad
        self.optimizer.step()
        for p, _ in pairs:
            p.grad = None
        for p, grad in aside.items():
            p.grad = grad

    def _shard_fcs(self, overlap: bool, chunk_step=None) -> None:
        for label, names in fc_groups(self.module).items():
            members = []
            for name in names:
                member = ShardedFC(self.module.get_submodule(name), self.comm)
                _set_submodule(self.module, name, member)
                members.append(member)
                self.sharded.update({f"{name}.{p}": member for p, _ in member.named_parameters()})
            self.groups.append(ShardedFCGroup(members, self.comm, label, overlap, chunk_step))

    def _wrap_ddp(self, model: nn.Module) -> DistributedDataParallel:
        # oneDNN returns 1x1 conv weight gradients with channels-last strides: for a 1x1 kernel
        # that is the same memory as the bucket's view (only the strides of size-1 dims differ),
        # yet DDP warns in every rank; the warning says nothing here
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
        DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(
            model, list(self.sharded))
        device_ids = [model_device(model)] if model_device(model).type == "cuda" else None
        ddp = DistributedDataParallel(model, device_ids=device_ids, process_group=self.comm.group)
        ddp.register_comm_hook(None, _counting_allreduce_hook(self.comm))
        return ddp

    def __call__(self, images: Tensor) -> Tensor:
        return self.wrapped(images)

    def parameters(self):
        return self.module.parameters()

    def train(self, mode: bool = True) -> ParallelModel:
        self.module.train(mode)
        return self

    # ------------------------------------------------------------------ full state

    def _gather_rows(self, shard: Tensor) -> Tensor:
        if self.comm.world == 1:
            return shard.detach().clone()
        return self.comm.all_gather_rows(shard.detach(), "checkpoint")

    def _my_rows(self, full: Tensor, name: str) -> Tensor:
        rows = self.sharded[name].shard
        return full[self.comm.rank * rows:(self.comm.rank + 1) * rows]

    def full_state_dict(self) -> dict[str, Tensor]:
        """Unsharded parameters and buffers by single-device name (collective: call on all
        ranks)."""
        state = {}
        for name, tensor in self.module.state_dict().items():
            state[name] = self._gather_rows(tensor) if name in self.sharded else tensor.detach()
        return state

    def load_full_state_dict(self, state: dict[str, Tensor]) -> None:
        """Load unsharded tensors (e.g. a checkpoint written at any number of ranks)."""
        mine = {name: (self._my_rows(t, name) if name in self.sharded else t)
                for name, t in state.items()}
        self.module.load_state_dict(mine)

    def full_optimizer_state(self, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
        """The optimizer's ``state_dict`` with sharded state tensors gathered to full size
        (the form a single process would have; collective)."""
        state = optimizer.state_dict()
        names = [n for n, _ in self.module.named_parameters()]
        full = {}
        for index, entry in state["state"].items():
            name = names[index]
            full[index] = {k: (self._gather_rows(v) if name in self.sharded and
                               isinstance(v, Tensor) and v.dim() > 0 else v)
                           for k, v in entry.items()}
        return {"state": full, "param_groups": state["param_groups"]}

    def load_optimizer_state(self, optimizer: torch.optim.Optimizer,
                             state: dict[str, Any]) -> None:
        """Load a full (single-process form) optimizer state, slicing sharded entries."""
        names = [n for n, _ in self.module.named_parameters()]
        mine = {}
        for index, entry in state["state"].items():
            name = names[int(index)]
            mine[int(index)] = {k: (self._my_rows(v, name) if name in self.sharded and
                                    isinstance(v, Tensor) and v.dim() > 0 else v)
                                for k, v in entry.items()}
        optimizer.load_state_dict({"state": mine, "param_groups": state["param_groups"]})


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def parallelize(model: nn.Module, strategy: str, comm: Comm,
                fc_update: str = "global") -> ParallelModel:
    """Apply ``strategy`` (see :data:`parvox.parallel.mesh.STRATEGIES`) to ``model``;
    ``fc_update="per-chunk"`` (with ``owt-overlap``) steps the FC shards after every chunk."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}")
    return ParallelModel(model, strategy, comm, fc_update)
