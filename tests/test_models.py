"""Tests of the R2N2 networks: parameter counts, shapes, recurrence semantics, independence."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import parvox.models as models_pkg
from parvox.errors import ParvoxError
from parvox.models import (
    R2N2,
    ModelConfig,
    available_models,
    create_model,
    model_config,
    occupancy,
    voxel_loss,
)
from parvox.models.encoder import Encoder
from parvox.models.layers import Upsample3d, unpool3d
from parvox.models.recurrent import ConvGRU3d, ConvLSTM3d

#: 3D-R2N2 sizes (Choy et al. 2016, ``res_gru_net.py``): 127 input pooled 6 times with the
#: padded 2×2 pool, 127 -> 64 -> 33 -> 17 -> 9 -> 5 -> 3, so the FC sees 256·3·3 features.
R2N2_FLAT = 256 * 3 * 3
GATE_FEATURES = 128 * 4 * 4 * 4  # 8192


def conv2d(cin: int, cout: int, k: int) -> int:
    return cin * cout * k * k + cout


def conv3d(cin: int, cout: int, k: int, bias: bool = True) -> int:
    return cin * cout * k**3 + (cout if bias else 0)


def linear(fin: int, fout: int) -> int:
    return fin * fout + fout


def deconv(c: int) -> int:
    """ConvTranspose3d(c, c, kernel_size=2, stride=2) with bias."""
    return c * c * 8 + c


#: Gate FCs of the 3D-R2N2 GRU: 3 × (1024·8192 + 8192) = 25,190,400.
GRU_FC = 3 * linear(1024, GATE_FEATURES)
#: Encoder FC: 2304 -> 1024.
ENCODER_FC = linear(R2N2_FLAT, 1024)
#: 3×3×3 hidden-state convs of the GRU gates (no bias: the FC bias is per voxel).
GRU_CONV = 3 * conv3d(128, 128, 3, bias=False)

SHALLOW_ENCODER = (conv2d(3, 96, 7) + conv2d(96, 128, 3) + conv2d(128, 256, 3)
                   + 3 * conv2d(256, 256, 3))
RESIDUAL_ENCODER = (
    conv2d(3, 96, 7) + conv2d(96, 96, 3)  # stage 1: two convs, no shortcut
    + conv2d(96, 128, 3) + conv2d(128, 128, 3) + conv2d(96, 128, 1)  # 1×1 shortcut
    + conv2d(128, 256, 3) + conv2d(256, 256, 3) + conv2d(128, 256, 1)
    + 3 * (2 * conv2d(256, 256, 3))  # identity shortcuts
)
SHALLOW_DECODER = (3 * deconv(128) + 2 * conv3d(128, 128, 3) + conv3d(128, 64, 3)
                   + conv3d(64, 32, 3) + conv3d(32, 2, 3))
RESIDUAL_DECODER = (
    3 * deconv(128)
    + 2 * (2 * conv3d(128, 128, 3))  # 8³ and 16³ stages, identity shortcuts
    + conv3d(128, 64, 3) + conv3d(64, 64, 3) + conv3d(128, 64, 1)  # 32³, 1×1 shortcut
    + conv3d(64, 32, 3) + conv3d(32, 32, 3) + conv3d(64, 32, 1)
    + conv3d(32, 2, 3)
)
#: r2n2-res-gru: 36,295,106 parameters (the Theano original has 35,968,706: it has no
#: transposed convs (-393,600), one bias per channel instead of per voxel in the gate FCs
#: (-24,192), an extra 1×1 shortcut in encoder stage 5 (+65,792) and a 3×3×3 shortcut in the
#: last decoder stage (+25,600)).
RES_GRU_TOTAL = RESIDUAL_ENCODER + ENCODER_FC + GRU_FC + GRU_CONV + RESIDUAL_DECODER
GRU_TOTAL = SHALLOW_ENCODER + ENCODER_FC + GRU_FC + GRU_CONV + SHALLOW_DECODER


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def fc_params(model: R2N2) -> int:
    return sum(n_params(model.get_submodule(name)) for name in model.fc_layer_names())


def seeded(name: str, seed: int = 0, **overrides: object) -> R2N2:
    torch.manual_seed(seed)
    return create_model(name, **overrides)


def images(batch: int, views: int, size: int = 32, seed: int = 1) -> Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, views, 3, size, size, generator=generator)


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny ops: one intra-op thread (restored afterwards) avoids oversubscribing a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def res_gru() -> R2N2:
    return seeded("r2n2-res-gru")


@pytest.fixture(scope="module")
def tiny() -> R2N2:
    return seeded("tiny").eval()


# --------------------------------------------------------------------------- the source rule


def distributed_uses(source: str) -> list[str]:
    """Imports of torch.distributed (any form) and ``torch.distributed`` attribute uses."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("torch.distributed")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names]
            found += [n for n in names if n.startswith("torch.distributed")]
        elif isinstance(node, ast.Attribute) and node.attr == "distributed":
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            code = node.value.strip()
            if code.startswith("torch.distributed") and " " not in code:  # import_module(...)
                found.append(code)
    return found


def test_models_never_import_torch_distributed() -> None:
    sources = sorted(Path(models_pkg.__file__).parent.rglob("*.py"))
    assert {p.name for p in sources} >= {"__init__.py", "r2n2.py", "recurrent.py", "encoder.py"}
    assert distributed_uses("import torch.distributed as dist") == ["torch.distributed"]
    assert distributed_uses("from torch import distributed") == ["torch.distributed"]
    assert distributed_uses("import torch\ntorch.distributed.barrier()") == ["torch.distributed"]
    offenders = {p.name: distributed_uses(p.read_text()) for p in sources}
    assert {name: uses for name, uses in offenders.items() if uses} == {}


# --------------------------------------------------------------------------- parameter counts


def test_res_gru_parameter_counts(res_gru: R2N2) -> None:
    assert GRU_FC == 25_190_400
    assert RES_GRU_TOTAL == 36_295_106
    assert n_params(res_gru) == RES_GRU_TOTAL
    assert 35e6 <= n_params(res_gru) <= 37e6
    assert fc_params(res_gru) == GRU_FC + ENCODER_FC == 27_550_720
    gates = res_gru.recurrent
    assert sum(n_params(gates.get_submodule(n)) for n in gates.fc_layer_names()) == GRU_FC
    assert n_params(res_gru.encoder) == RESIDUAL_ENCODER + ENCODER_FC
    assert n_params(res_gru.decoder) == RESIDUAL_DECODER


def test_gru_and_lstm_parameter_counts() -> None:
    with torch.device("meta"):  # shapes only: no memory, no initialisation cost
        gru, lstm = create_model("r2n2-gru"), create_model("r2n2-res-lstm")
    assert n_params(gru) == GRU_TOTAL == 32_625_058
    assert fc_params(gru) == GRU_FC + ENCODER_FC
    lstm_gates = 4 * (linear(1024, GATE_FEATURES) + conv3d(128, 128, 3, bias=False))
    assert n_params(lstm) == RES_GRU_TOTAL - GRU_FC - GRU_CONV + lstm_gates == 45_134_274


def test_fc_layers_are_plain_linears_with_stable_names(res_gru: R2N2) -> None:
    assert res_gru.fc_layer_names() == ["encoder.fc", "recurrent.fc_gates"]
    shapes = [(1024, R2N2_FLAT), (3 * GATE_FEATURES, 1024)]
    for name, shape in zip(res_gru.fc_layer_names(), shapes, strict=True):
        layer = res_gru.get_submodule(name)
        assert type(layer) is nn.Linear and layer.bias is not None
        assert tuple(layer.weight.shape) == shape
    assert ConvLSTM3d.fc_layer_names() == ["fc_gates"]
    others = [m for n, m in res_gru.named_modules() if n not in res_gru.fc_layer_names()]
    assert not any(isinstance(m, nn.Linear) for m in others)


def test_registry() -> None:
    names = available_models()
    assert {"r2n2-gru", "r2n2-res-gru", "r2n2-res-lstm", "small", "tiny"} <= set(names)
    assert model_config("small").image_size == 64
    assert model_config("small", image_size=96).image_size == 96
    with pytest.raises(ParvoxError, match="unknown model"):
        create_model("r2n2-nope")
    with pytest.raises(ParvoxError, match="unknown model option"):
        model_config("tiny", colour=True)
    with pytest.raises(ParvoxError, match="voxel_size"):
        model_config("tiny", voxel_size=24)
    with pytest.raises(ParvoxError, match="recurrent"):
        ModelConfig(recurrent="rnn")
    assert 10_000 <= n_params(seeded("tiny")) <= 100_000


def test_small_structure() -> None:
    small = seeded("small")
    gates = 3 * linear(512, 64 * 4**3)
    flat = 128 * 2 * 2  # 64 -> 33 -> 17 -> 9 -> 5 -> 3 -> 2
    assert fc_params(small) == linear(flat, 512) + gates == 6_566_400
    assert all(type(small.get_submodule(n)) is nn.Linear for n in small.fc_layer_names())
    with torch.no_grad():
        assert small(images(1, 2, size=64)).shape == (1, 2, 32, 32, 32)


def test_initialisation_is_deterministic() -> None:
    a, b = seeded("tiny", seed=3).state_dict(), seeded("tiny", seed=3).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = seeded("tiny", seed=4).state_dict()
    assert not torch.equal(a["encoder.fc.weight"], c["encoder.fc.weight"])


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("views", [1, 2, 5])
def test_output_shapes_for_any_view_count(tiny: R2N2, views: int) -> None:
    with torch.no_grad():
        logits = tiny(images(2, views))
        probability = tiny.predict_occupancy(images(2, views))
    assert logits.shape == (2, 2, 32, 32, 32)
    assert probability.shape == (2, 32, 32, 32)
    assert torch.isfinite(logits).all()
    assert torch.allclose(probability, torch.softmax(logits, 1)[:, 1])


def test_res_gru_shapes(res_gru: R2N2) -> None:
    with torch.no_grad():
        logits = res_gru(images(1, 2, size=127))
    assert logits.shape == (1, 2, 32, 32, 32)
    with pytest.raises(ValueError, match="127"):
        res_gru(images(1, 2, size=64))


def test_image_size_override_and_flat_size() -> None:
    for size in (31, 32, 33, 96):
        config = model_config("tiny", image_size=size)
        trunk = Encoder(config).features(torch.zeros(1, 3, size, size))
        assert trunk.shape[1:] == (16, config.feature_map_size, config.feature_map_size)
    model = seeded("tiny", image_size=48)
    with torch.no_grad():
        assert model(images(1, 2, size=48)).shape == (1, 2, 32, 32, 32)


def test_upsampling_shapes_and_unpool_values() -> None:
    x = torch.rand(2, 6, 4, 4, 4)
    assert Upsample3d(6, "transpose")(x).shape == (2, 6, 8, 8, 8)
    assert isinstance(Upsample3d(6).deconv, nn.ConvTranspose3d)
    up = unpool3d(x)
    assert up.shape == (2, 6, 8, 8, 8)
    assert torch.equal(up[:, :, ::2, ::2, ::2], x)
    rest = torch.ones_like(up, dtype=torch.bool)
    rest[:, :, ::2, ::2, ::2] = False
    assert not up[rest].any()  # zeros everywhere else (exact, not a float sum)
    last = unpool3d(x.contiguous(memory_format=torch.channels_last_3d))
    assert torch.equal(last, up) and last.is_contiguous(memory_format=torch.channels_last_3d)


def test_channels_last_is_only_a_layout() -> None:
    x = images(2, 3)
    with torch.no_grad():
        fast, plain = seeded("tiny")(x), seeded("tiny", channels_last=False)(x)
    assert torch.allclose(fast, plain, atol=1e-5)


# --------------------------------------------------------------------------- training


def test_tiny_backward_reaches_every_parameter() -> None:
    model = seeded("tiny").train()
    target = torch.randint(0, 2, (2, 32, 32, 32)).float()  # the dataset's float voxels
    loss = voxel_loss(model(images(2, 3)), target)
    loss.backward()
    assert torch.isfinite(loss)
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert missing == []
    zero = [n for n, p in model.named_parameters() if not p.grad.abs().sum() > 0]
    assert zero == []


def test_loss_is_voxel_cross_entropy() -> None:
    logits = torch.randn(2, 2, 32, 32, 32)
    target = torch.randint(0, 2, (2, 32, 32, 32))
    p = occupancy(logits)
    manual = -torch.where(target == 1, p, 1 - p).log().mean()
    assert torch.allclose(voxel_loss(logits, target), manual, atol=1e-5)
    assert torch.equal(voxel_loss(logits, target), F.cross_entropy(logits, target))


# --------------------------------------------------------------------------- recurrence


def gate(gru: ConvGRU3d, name: str, x: Tensor, h: Tensor) -> Tensor:
    """Hand-written gate pre-activation: FC(x) reshaped to the grid + conv(h)."""
    index, rows = gru.GATES.index(name), gru.fc_gates.out_features // len(gru.GATES)
    block = slice(index * rows, (index + 1) * rows)  # gate g's rows: block g of fc_gates
    conv = getattr(gru, f"conv_{name}")
    projected = F.linear(x, gru.fc_gates.weight[block], gru.fc_gates.bias[block]).reshape(h.shape)
    return projected + F.conv3d(h, conv.weight, padding=1)


def test_gru_matches_hand_computed_steps(tiny: R2N2) -> None:
    x = images(2, 2)
    gru = tiny.recurrent
    assert isinstance(gru, ConvGRU3d)
    with torch.no_grad():
        features = tiny.encode(x)
        h = torch.zeros(2, 8, 4, 4, 4)
        for view in range(2):
            f = features[:, view]
            u = torch.sigmoid(gate(gru, "update", f, h))
            r = torch.sigmoid(gate(gru, "reset", f, h))
            candidate = torch.tanh(gate(gru, "hidden", f, r * h))
            h = (1 - u) * h + u * candidate
            if view == 0:
                assert torch.allclose(tiny(x[:, :1]), tiny.decode(h), atol=1e-5)
        assert torch.allclose(tiny.aggregate(features), h, atol=1e-6)
        assert torch.allclose(tiny(x), tiny.decode(h), atol=1e-5)


def test_lstm_matches_hand_computed_step() -> None:
    model = seeded("tiny", recurrent="lstm").eval()
    lstm = model.recurrent
    assert isinstance(lstm, ConvLSTM3d)
    x = images(2, 1)
    with torch.no_grad():
        f = model.encode(x)[:, 0]
        zero = torch.zeros(2, 8, 4, 4, 4)
        i, g, o = (torch.sigmoid(gate(lstm, n, f, zero)) for n in ("input", "forget", "output"))
        cell = g * zero + i * torch.tanh(gate(lstm, "cell", f, zero))
        assert torch.allclose(model(x), model.decode(o * torch.tanh(cell)), atol=1e-5)


def test_closed_update_gate_keeps_the_zero_state() -> None:
    model = seeded("tiny").eval()
    with torch.no_grad():
        update = slice(0, model.recurrent.fc_gates.out_features // 3)  # GATES[0] == "update"
        model.recurrent.fc_gates.weight[update] = 0.0
        model.recurrent.fc_gates.bias[update] = -1e4
        out = model(images(2, 4))
        empty = model.decode(torch.zeros(2, 8, 4, 4, 4))
    assert torch.allclose(out, empty.expand_as(out), atol=1e-6)


def test_view_order_matters(tiny: R2N2) -> None:
    x = images(2, 3)
    with torch.no_grad():
        forward, backward = tiny(x), tiny(x.flip(1))
    assert torch.isfinite(forward).all() and torch.isfinite(backward).all()
    assert not torch.allclose(forward, backward, atol=1e-6)


def test_samples_are_independent(tiny: R2N2) -> None:
    x = images(2, 3)
    with torch.no_grad():
        together = tiny(x)
        alone = torch.cat([tiny(x[:1]), tiny(x[1:])])
    assert torch.allclose(together, alone, atol=1e-5)
    assert not torch.allclose(together[0], together[1], atol=1e-6)


# --------------------------------------------------------------------------- fused gates


def legacy_state(model: R2N2) -> dict[str, Tensor]:
    """The state dict a checkpoint written before the gate fusion holds: one FC per gate."""
    state = dict(model.state_dict())
    gates = model.recurrent.GATES
    for kind in ("weight", "bias"):
        fused = state.pop(f"recurrent.fc_gates.{kind}")
        for gate, rows in zip(gates, fused.chunk(len(gates)), strict=True):
            state[f"recurrent.fc_{gate}.{kind}"] = rows.clone()
    return state


@pytest.mark.parametrize("name", ["tiny", "r2n2-res-lstm"])
def test_checkpoints_from_before_the_gate_fusion_load(name: str) -> None:
    overrides = {} if name == "tiny" else {"image_size": 32, "fc_dim": 16, "hidden_channels": 4,
                                           "encoder_widths": (4,) * 6, "decoder_widths": (4,) * 4}
    torch.manual_seed(1)
    source = create_model(name, **overrides).eval()
    legacy = legacy_state(source)
    assert "recurrent.fc_gates.weight" not in legacy
    target = create_model(name, **overrides).eval()
    target.load_state_dict(legacy)  # strict: every legacy key is consumed
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
    x = images(2, 3, size=source.config.image_size)
    with torch.no_grad():
        assert torch.equal(source(x), target(x))


def test_fused_gates_are_one_matmul_per_call(tiny: R2N2) -> None:
    calls = []
    handle = tiny.recurrent.fc_gates.register_forward_hook(lambda m, a, o: calls.append(o.shape))
    with torch.no_grad():
        tiny(images(2, 3))
    handle.remove()
    assert calls == [torch.Size([6, 3 * tiny.config.gate_features])]
