"""3D convolutional recurrent units of 3D-R2N2 on a G×G×G grid of C hidden channels.

Each gate's pre-activation is an FC projection of the view feature ``x`` (F -> C·G³, reshaped
to (C, G, G, G)) plus ``conv_<gate>(h)`` (3×3×3, padding 1, no bias: the FC's per-voxel bias
covers it), as 3D-R2N2's ``FCConv3DLayer``. The FC projections do not depend on the state, so
the gates' FCs are fused into one ``nn.Linear`` (``fc_gates``, F -> n_gates·C·G³, gate ``g``'s
rows at block ``g``) and all V views of all gates are projected in one matmul before the
recurrence runs over V. Checkpoints written before the fusion (one ``fc_<gate>`` per gate) load
unchanged: :func:`fuse_legacy_gates` concatenates their rows.

GRU (Choy et al. 2016, Eq. 5-7, with ``u`` weighting the new candidate)::

    u  = σ(fc_update(x) + conv_update(h))
    r  = σ(fc_reset(x)  + conv_reset(h))
    h' = (1 - u) ⊙ h + u ⊙ tanh(fc_hidden(x) + conv_hidden(r ⊙ h))

LSTM (Eq. 2-4)::

    i, f, o = σ(fc_input(x) + conv_input(h)), σ(fc_forget(x) + ...), σ(fc_output(x) + ...)
    c' = f ⊙ c + i ⊙ tanh(fc_cell(x) + conv_cell(h));   h' = o ⊙ tanh(c')

The state starts at zeros.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from parvox.models.config import ModelConfig
from parvox.models.layers import conv, linear

#: A recurrent state: ``(h,)`` for the GRU, ``(h, c)`` for the LSTM, each (B, C, G, G, G).
State = tuple[Tensor, ...]


class Recurrent3d(nn.Module):
    """Base class: one fused FC for all gates in :attr:`GATES` + one 3×3×3 conv per gate.

    Attributes ``fc_gates`` (``nn.Linear``, F -> len(GATES)·C·G³) and ``conv_<gate>``
    (``nn.Conv3d``) are stable names for a parallel plan (see :meth:`fc_layer_names`).

    Shapes: forward (B, V, F) -> (B, C, G, G, G).
    """

    GATES: ClassVar[tuple[str, ...]] = ()
    #: Number of tensors in the state.
    STATE_SIZE: ClassVar[int] = 1

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.channels = config.hidden_channels
        self.grid = config.grid_size
        self.fc_gates = linear(config.fc_dim, len(self.GATES) * config.gate_features,
                               activated=False)
        for gate in self.GATES:
            setattr(self, f"conv_{gate}", conv(3, self.channels, self.channels, 3,
                                               activated=False, bias=False))
        self._register_load_state_dict_pre_hook(self._load_legacy_gates)

    @classmethod
    def fc_layer_names(cls) -> list[str]:
        """Attribute names of the FC layers: ``["fc_gates"]``."""
        return ["fc_gates"]

    def gate_conv(self, gate: str) -> nn.Conv3d:
        """The 3×3×3 hidden-state conv of ``gate``."""
        return getattr(self, f"conv_{gate}")

    def project(self, features: Tensor) -> tuple[Tensor, ...]:
        """Every gate's FC on every view, one matmul: (B, V, F) -> per gate (B, V, C, G, G, G)."""
        batch, views = features.shape[:2]
        fused = self.fc_gates(features.reshape(batch * views, -1))
        shape = (batch, views, self.channels, self.grid, self.grid, self.grid)
        return tuple(g.reshape(shape) for g in fused.chunk(len(self.GATES), dim=1))

    def _load_legacy_gates(self, state: dict[str, Tensor], prefix: str, *args: object) -> None:
        fuse_legacy_gates(state, prefix, self.GATES)

    def initial_state(self, like: Tensor) -> State:
        """Zero state for the batch of ``like`` (B, ...): STATE_SIZE × (B, C, G, G, G)."""
        shape = (like.shape[0], self.channels, self.grid, self.grid, self.grid)
        return tuple(like.new_zeros(shape) for _ in range(self.STATE_SIZE))

    def step(self, inputs: tuple[Tensor, ...], state: State) -> State:
        """One view: gate inputs (per gate (B, C, G, G, G)) and state -> new state."""
        raise NotImplementedError

    def forward(self, features: Tensor, state: State | None = None) -> Tensor:
        """Run over the views in order: (B, V, F) -> final hidden state (B, C, G, G, G)."""
        projected = self.project(features)
        if state is None:
            state = self.initial_state(features)
        for view in range(features.shape[1]):
            state = self.step(tuple(p[:, view] for p in projected), state)
        return state[0]


class ConvGRU3d(Recurrent3d):
    """3D convolutional GRU (3D-R2N2's GRU); gates ``update``, ``reset``, ``hidden``."""

    GATES: ClassVar[tuple[str, ...]] = ("update", "reset", "hidden")
    STATE_SIZE: ClassVar[int] = 1

    def step(self, inputs: tuple[Tensor, ...], state: State) -> State:
        """(x_u, x_r, x_h) each (B, C, G, G, G), state (h,) -> (h',)."""
        x_update, x_reset, x_hidden = inputs
        (h,) = state
        update = torch.sigmoid(x_update + self.conv_update(h))
        reset = torch.sigmoid(x_reset + self.conv_reset(h))
        candidate = torch.tanh(x_hidden + self.conv_hidden(reset * h))
        return ((1 - update) * h + update * candidate,)


class ConvLSTM3d(Recurrent3d):
    """3D convolutional LSTM (3D-R2N2's LSTM); gates ``input``, ``forget``, ``output``, ``cell``."""

    GATES: ClassVar[tuple[str, ...]] = ("input", "forget", "output", "cell")
    STATE_SIZE: ClassVar[int] = 2

    def step(self, inputs: tuple[Tensor, ...], state: State) -> State:
        """(x_i, x_f, x_o, x_c) each (B, C, G, G, G), state (h, c) -> (h', c')."""
        x_input, x_forget, x_output, x_cell = inputs
        h, c = state
        input_gate = torch.sigmoid(x_input + self.conv_input(h))
        forget = torch.sigmoid(x_forget + self.conv_forget(h))
        output = torch.sigmoid(x_output + self.conv_output(h))
        cell = forget * c + input_gate * torch.tanh(x_cell + self.conv_cell(h))
        return (output * torch.tanh(cell), cell)


def legacy_gate_names(prefix: str, gates: tuple[str, ...]) -> dict[str, list[str]]:
    """Fused parameter name -> the per-gate names it replaced (checkpoints before the fusion):
    ``{"recurrent.fc_gates.weight": ["recurrent.fc_update.weight", ...], ...}``."""
    return {f"{prefix}fc_gates.{kind}": [f"{prefix}fc_{gate}.{kind}" for gate in gates]
            for kind in ("weight", "bias")}


def fuse_legacy_gates(state: dict[str, Tensor], prefix: str, gates: tuple[str, ...]) -> None:
    """In place: replace per-gate ``fc_<gate>`` tensors of ``state`` by their fused rows
    (gate order of ``gates``); a state without them is left as it is."""
    for fused, parts in legacy_gate_names(prefix, gates).items():
        if fused not in state and all(p in state for p in parts):
            state[fused] = torch.cat([state.pop(p) for p in parts], dim=0)


def upgrade_state_dict(model: nn.Module, state: dict[str, Tensor]) -> dict[str, Tensor]:
    """A copy of ``state`` with every recurrent unit's per-gate FCs fused (checkpoints written
    before the fusion); a current state comes back unchanged."""
    state = dict(state)
    for name, module in model.named_modules():
        if isinstance(module, Recurrent3d):
            fuse_legacy_gates(state, f"{name}." if name else "", module.GATES)
    return state


def legacy_parameter_names(model: nn.Module) -> list[str]:
    """``model``'s parameter names in the order a model from before the gate fusion listed
    them (per gate: ``fc_<gate>.weight``, ``fc_<gate>.bias``, ``conv_<gate>.weight``), for
    optimizer states keyed by that order."""
    names: list[str] = []
    units = {f"{n}." if n else "": m for n, m in model.named_modules()
             if isinstance(m, Recurrent3d)}
    for name, _ in model.named_parameters():
        unit_prefix = name.removesuffix("fc_gates.weight")
        if unit_prefix != name and unit_prefix in units:
            for gate in units[unit_prefix].GATES:
                names += [f"{unit_prefix}fc_{gate}.{k}" for k in ("weight", "bias")]
                names.append(f"{unit_prefix}conv_{gate}.weight")
        elif not _replaced_by_fusion(name, units):
            names.append(name)
    return names


def _replaced_by_fusion(name: str, units: dict[str, Recurrent3d]) -> bool:
    for prefix, unit in units.items():
        own = name[len(prefix):] if name.startswith(prefix) else None
        if own == "fc_gates.bias" or own in {f"conv_{g}.weight" for g in unit.GATES}:
            return True
    return False


RECURRENT_UNITS: dict[str, type[Recurrent3d]] = {"gru": ConvGRU3d, "lstm": ConvLSTM3d}


def make_recurrent(config: ModelConfig) -> Recurrent3d:
    """The recurrent unit named by ``config.recurrent``."""
    return RECURRENT_UNITS[config.recurrent](config)
