"""Apply a per-layer parallel plan to an unmodified single-device model.

A plan (:mod:`parvox.parallel.plans`) gives every parametric module a style; each style applies
itself (``model`` and ``model-overlap`` replace an ``nn.Linear`` by its row shard,
:mod:`parvox.parallel.sharded`), and DistributedDataParallel then averages the gradients of the
replicated (``data``) modules only.

The parallel model keeps the single-device parameter names, so checkpoints hold full, unsharded
tensors by name whatever the number of ranks (:meth:`ParallelModel.full_state_dict`), and the
optimizer state is likewise gathered to its single-process form, keyed by parameter name.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from parvox.errors import ParvoxError
from parvox.models.recurrent import upgrade_state_dict
from parvox.parallel.comm import Comm
from parvox.parallel.plans import MODEL_OVERLAP, STYLES, ApplyContext, get_style

#: When the model-parallel FC shards step: once per global batch (exact) or after every chunk.
FC_UPDATES = ("global", "per-chunk")


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

    def __init__(self, model: nn.Module, styles: dict[str, str], comm: Comm,
                 fc_update: str = "global", plan: str = "") -> None:
        if fc_update not in FC_UPDATES:
            raise ValueError(f"unknown fc_update {fc_update!r}")
        if fc_update == "per-chunk" and MODEL_OVERLAP not in styles.values():
            raise ParvoxError("--fc-update per-chunk needs --parallel owt-overlap (the FC "
                              "stage must take one chunk at a time)")
        self.strategy, self.styles, self.comm, self.module = plan, dict(styles), comm, model
        self.sharded: dict[str, nn.Module] = {}
        self.optimizer: torch.optim.Optimizer | None = None
        if comm.world > 1:
            self._apply_styles(fc_update)
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

    def _apply_styles(self, fc_update: str) -> None:
        """Let every non-replicated style rewrite its module (at K = 1 nothing changes)."""
        chunk_step = self._chunk_step if fc_update == "per-chunk" else None
        ctx = ApplyContext(self.comm, chunk_step)
        for name, style_name in self.styles.items():
            style = get_style(style_name)
            if style.replicated:
                continue
            if not style.accepts(self.module.get_submodule(name)):
                raise ParvoxError(f"style {style_name!r} cannot run {name} "
                                  f"({type(self.module.get_submodule(name)).__name__})")
            style.apply(self.module, name, ctx)
            applied = self.module.get_submodule(name)
            self.sharded.update({f"{name}.{p}": applied for p, _ in applied.named_parameters()})

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
        state = upgrade_state_dict(self.module, state)  # checkpoints from before the gate fusion
        mine = {name: (self._my_rows(t, name) if name in self.sharded else t)
                for name, t in state.items()}
        self.module.load_state_dict(mine)

    def full_optimizer_state(self, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
        """The optimizer's state in single-process form, keyed by parameter name: sharded
        state tensors gathered to full size (collective), ``param_groups`` listing names."""
        state = optimizer.state_dict()
        names = [n for n, _ in self.module.named_parameters()]
        full = {}
        for index, entry in state["state"].items():
            name = names[index]
            full[name] = {k: (self._gather_rows(v) if name in self.sharded and
                              isinstance(v, Tensor) and v.dim() > 0 else v)
                          for k, v in entry.items()}
        groups = [dict(g, params=[names[i] for i in g["params"]]) for g in state["param_groups"]]
        return {"state": full, "param_groups": groups}

    def load_optimizer_state(self, optimizer: torch.optim.Optimizer,
                             state: dict[str, Any]) -> None:
        """Load a full optimizer state keyed by parameter name (:meth:`full_optimizer_state`),
        slicing sharded entries; a name this model lacks is one error line."""
        index = {n: i for i, (n, _) in enumerate(self.module.named_parameters())}
        missing = [n for n in state["state"] if n not in index]
        if missing:
            raise ParvoxError(f"optimizer state of parameters this model lacks: {missing[0]}")
        mine = {}
        for name, entry in state["state"].items():
            mine[index[name]] = {k: (self._my_rows(v, name) if name in self.sharded and
                                     isinstance(v, Tensor) and v.dim() > 0 else v)
                                 for k, v in entry.items()}
        # the optimizer pairs saved ids with its parameters by position: list them in model order
        groups = [dict(g, params=sorted(index[n] for n in g["params"]))
                  for g in state["param_groups"]]
        optimizer.load_state_dict({"state": mine, "param_groups": groups})


def model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def parallelize(model: nn.Module, plan: str | dict[str, str], comm: Comm,
                fc_update: str = "global", **auto: Any) -> ParallelModel:
    """Apply ``plan`` to ``model``: a registered plan name (``auto`` takes the ``work``, ``link``
    and ``compute_s`` keywords of :func:`parvox.parallel.cost.resolve_styles`) or an explicit
    ``{module name: style}``. ``fc_update="per-chunk"`` steps overlapped FC shards per chunk."""
    from parvox.parallel.cost import resolve_styles

    if isinstance(plan, str):
        return ParallelModel(model, resolve_styles(model, plan, **auto), comm, fc_update, plan)
    unknown = sorted(set(plan.values()) - set(STYLES))
    if unknown:
        raise ParvoxError(f"unknown parallel style {unknown[0]!r}; known: {', '.join(STYLES)}")
    return ParallelModel(model, plan, comm, fc_update, "custom")
