"""The plan registry, the cost model and ``auto``, and in-process 2-rank checks of every style.

The 2-rank checks spawn two gloo ranks from the test itself (no launcher, no data loader) and
compare, in float64, each rank's outputs, per-step losses, input gradients and weight gradients
with one process on the same global batch: a missing 1/K gradient scale, a wrong shard order or
a dropped reduce-scatter fails them at once, in seconds. The subprocess runs of
``test_parallel.py`` stay as the end-to-end proof.

This file also registers a plan of its own (:data:`MIXED`) and trains with it: a new strategy
needs no edit anywhere else.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from parvox.data.builder import build_dataset, procedural_jobs
from parvox.models import create_model, voxel_loss
from parvox.parallel.analysis import plan_costs
from parvox.parallel.comm import Comm
from parvox.parallel.cost import (
    Link,
    choose_styles,
    layer_shapes,
    overlap_cost,
    predict,
    predict_step,
    resolve_styles,
)
from parvox.parallel.plan import parallelize
from parvox.parallel.plans import (
    DATA,
    MODEL,
    MODEL_OVERLAP,
    ApplyContext,
    Plan,
    RowSharded,
    StyleCost,
    Workload,
    fc_plan,
    parametric_modules,
    plan_names,
    register_plan,
    register_style,
)

WORLD, BATCH, VIEWS, STEPS = 2, 4, 2, 2


def _mixed(model: torch.nn.Module) -> dict[str, str]:
    """The encoder FC chunked and overlapped, the gates sharded plainly, the rest replicated."""
    styles = dict.fromkeys(parametric_modules(model), DATA)
    return styles | {"encoder.fc": MODEL_OVERLAP, "recurrent.fc_gates": MODEL}


MIXED = register_plan(Plan("test-mixed", "test plan: encoder FC overlapped, gates sharded",
                           _mixed))


class HandWrittenRows(RowSharded):
    """Scheme (a) on parvox's own autograd collectives instead of torch's functional ones: a
    style registered here, so the implementations are checked against one another."""

    name, help = "test-model-parvox", "scheme (a) with the hand-written autograd collectives"
    collectives = "parvox"

    def apply(self, model: torch.nn.Module, name: str, ctx: ApplyContext) -> None:
        from parvox.parallel.plans import _set_submodule
        from parvox.parallel.sharded import ShardedFC

        linear = model.get_submodule(name)
        _set_submodule(model, name, ShardedFC(linear, ctx.comm, name,
                                              collectives=self.collectives))


class DTensorRows(HandWrittenRows):
    """Scheme (a) as DTensor redistributions (ColwiseParallel's Shard(0) layouts)."""

    name, help = "test-model-dtensor", "scheme (a) with DTensor redistributions"
    collectives = "dtensor"


register_style(HandWrittenRows())
register_style(DTensorRows())
HANDWRITTEN = register_plan(Plan("test-owt-parvox", "owt on hand-written collectives",
                                 fc_plan(HandWrittenRows.name)))
DTENSOR = register_plan(Plan("test-owt-dtensor", "owt on DTensor redistributions",
                             fc_plan(DTensorRows.name)))
PLANS = ["ddp", "owt", "owt-overlap", "auto", MIXED.name, HANDWRITTEN.name, DTENSOR.name]


# ------------------------------------------------------------------ registry and cost model


def test_registered_plan_is_offered_everywhere() -> None:
    from parvox.cli import build_parser

    assert MIXED.name in plan_names()
    parser = build_parser()
    args = parser.parse_args(["plan", "--config", "tiny", "--parallel", MIXED.name])
    assert args.parallel == MIXED.name
    styles = resolve_styles(create_model("tiny"), MIXED.name)
    assert styles["encoder.fc"] == MODEL_OVERLAP and styles["recurrent.fc_gates"] == MODEL


def test_auto_follows_the_link_and_the_batch() -> None:
    """Model-parallel FCs send activations (grow with the batch), data-parallel ones send
    gradients (fixed): on a slow link auto shards the gate FCs at small batches and replicates
    them once the batch passes the crossover."""
    with torch.device("meta"):
        model = create_model("r2n2-res-gru")
    link = Link.from_gbits(1.0)
    small, _ = choose_styles(model, Workload(2, 8, 5), link)
    large, _ = choose_styles(model, Workload(2, 4096, 5), link)
    assert small["recurrent.fc_gates"] == MODEL and large["recurrent.fc_gates"] == DATA
    assert all(style == DATA for name, style in small.items() if "conv" in name)
    one, _ = choose_styles(model, Workload(1, 8, 5), link)
    assert set(one.values()) == {DATA}


def test_auto_is_never_predicted_slower_than_ddp_or_owt() -> None:
    for gbits in (1.0, 10.0, 100.0):
        for batch in (8, 64, 512):
            link = Link.from_gbits(gbits, 50e-6)
            times = {plan: predict_step("small", plan, 2, batch, 3, link, compute_s=0.5)
                     for plan in ("ddp", "owt", "auto")}
            assert times["auto"] <= min(times["ddp"], times["owt"]) + 1e-12, (gbits, batch)


def test_hidden_traffic_costs_what_it_takes_from_the_compute() -> None:
    """10 MB behind 0.2 s of backward on a 1 GB/s link: hidden, but at 2 ns per byte it still
    takes 20 ms from the compute; traffic that cannot overlap is all exposed."""
    hideable = {"fc": StyleCost(10e6, 0, 0.0, 0.0, overlappable=10e6)}
    free, costly = Link(1e9, 0.0), Link(1e9, 0.0, cpu_per_byte=2e-9)
    assert predict(hideable, free, 0.3).step_s == pytest.approx(0.3)
    assert predict(hideable, costly, 0.3).step_s == pytest.approx(0.3 + 0.02)
    exposed = {"fc": StyleCost(10e6, 0, 0.0, 0.0)}
    assert predict(exposed, costly, 0.3).step_s == pytest.approx(0.3 + 0.01)
    # more traffic than backward: 0.2 s hidden (200 MB at 1 GB/s), the rest exposed
    big = {"fc": StyleCost(300e6, 0, 0.0, 0.0, overlappable=300e6)}
    assert predict(big, costly, 0.3).step_s == pytest.approx(0.3 + 0.1 + 200e6 * 2e-9)


def test_gradients_hide_only_behind_the_backward_left_once_they_are_ready() -> None:
    """On a 1 GB/s link behind 0.6 s of backward (compute 0.9 s): 0.3 s of gradients ready at
    the start hide; ready at 0.8 only 0.12 s of them hide; two ready at 0.5 queue one after the
    other (0.3 s left: 0.2 + 0.1 hide, 0.1 exposed); overlapped chunks hide only behind their
    own layer's compute (10 % of the step: 0.09 s)."""
    link, compute = Link(1e9, 0.0), 0.9

    def step(*costs: StyleCost) -> float:
        return predict({f"l{i}": c for i, c in enumerate(costs)}, link, compute).step_s

    assert step(StyleCost(3e8, 0, 0, 0, overlappable=3e8)) == pytest.approx(0.9)
    assert step(StyleCost(3e8, 0, 0, 0, overlappable=3e8, ready=0.8)) \
        == pytest.approx(0.9 + 0.3 - 0.12)
    pair = [StyleCost(2e8, 0, 0, 0, overlappable=2e8, ready=0.5)] * 2
    assert step(*pair) == pytest.approx(0.9 + 0.1)
    assert step(StyleCost(2e8, 0, 0, 0, overlappable=2e8, within=0.1)) \
        == pytest.approx(0.9 + 0.2 - 0.09)


def test_layers_are_placed_in_the_step_by_their_calls() -> None:
    """``share`` sums to 1 over the layers; the first encoder conv's gradients are complete
    only at the end of the backward, the last decoder conv's first; the gates run after the
    encoder FC (every view), so their gradients are complete before its."""
    shapes = layer_shapes(create_model("tiny"), 3)
    assert sum(s.share for s in shapes.values()) == pytest.approx(1.0)
    names = list(shapes)
    assert shapes[names[0]].ready == 1.0
    assert shapes[names[-1]].ready == min(s.ready for s in shapes.values()) > 0
    assert shapes["recurrent.fc_gates"].ready < shapes["encoder.fc"].ready < 1.0
    assert shapes["encoder.fc"].share < 0.05  # an FC is little compute


def test_style_bytes_are_the_ring_formulas() -> None:
    """The registry's bytes for one FC, by hand: data = 2 (K-1)/K 4 P; model = 2 (K-1) m F +
    2 (K-1)/K m O floats, m = n V rows per rank."""
    model = create_model("tiny")
    k, batch, views = 4, 8, 3
    fc = model.recurrent.fc_gates
    params = fc.weight.numel() + fc.bias.numel()
    rows = batch // k * views
    want_model = 4 * (2 * (k - 1) * rows * fc.in_features
                      + 2 * (k - 1) / k * rows * fc.out_features)
    for plan, want in (("ddp", 2 * (k - 1) / k * 4 * params), ("owt", want_model)):
        layers = {x.name: x for x in plan_costs(model, plan, k, batch, views)}
        assert layers["recurrent.fc_gates"].bytes_per_rank_per_step == pytest.approx(want)


# ------------------------------------------------------------------ in-process 2-rank checks


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    images = torch.rand(BATCH, VIEWS, 3, 32, 32, generator=generator, dtype=torch.float64)
    target = torch.rand(BATCH, 32, 32, 32, generator=generator) < 0.3
    return images, target


def _run(model: torch.nn.Module, images: torch.Tensor, target: torch.Tensor,
         step_model=None) -> dict[str, list]:
    """STEPS Adam steps; per step the outputs, loss, input gradient and parameter gradients."""
    module = getattr(step_model, "module", model)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    record: dict[str, list] = {"out": [], "loss": [], "grad_in": [], "grads": []}
    call = step_model if step_model is not None else model
    for _ in range(STEPS):
        optimizer.zero_grad()
        x = images.clone().requires_grad_(True)
        out = call(x)
        loss = voxel_loss(out, target)
        loss.backward()
        record["out"].append(out.detach())
        record["loss"].append(loss.detach())
        record["grad_in"].append(x.grad.detach())
        record["grads"].append({n: p.grad.detach().clone()
                                for n, p in module.named_parameters()})
        optimizer.step()
    return record


def _rank_main(rank: int, plans: list[str], store_file: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    store = dist.FileStore(store_file, WORLD)
    dist.init_process_group("gloo", store=store, rank=rank, world_size=WORLD)
    comm = Comm(rank, WORLD, dist.group.WORLD)
    images, target = _batch()
    rows = slice(rank * BATCH // WORLD, (rank + 1) * BATCH // WORLD)
    results = {}
    for plan in plans:
        torch.manual_seed(3)
        model = create_model("tiny").double()
        parallel = parallelize(model, plan, comm, work=Workload(WORLD, BATCH, VIEWS),
                               link=Link.from_gbits(1.0))
        record = _run(model, images[rows], target[rows], parallel)
        record["grads"] = [{n: (parallel._gather_rows(g) if n in parallel.sharded else g)
                            for n, g in grads.items()} for grads in record["grads"]]
        for index, loss in enumerate(record["loss"]):  # the global loss: mean of local ones
            record["loss"][index] = comm.all_reduce_(loss.clone(), "metrics") / WORLD
        results[plan] = record | {"styles": parallel.styles}
    results["overlap_cost"] = overlap_cost(comm, 1e9, rounds=1, target_s=0.1)
    torch.save(results, Path(out_dir) / f"rank{rank}.pt")
    dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[dict]]:
    """Every plan of :data:`PLANS` on 2 spawned ranks, and one process on the global batch."""
    work = tmp_path_factory.mktemp("ranks")
    mp.start_processes(_rank_main, args=(PLANS, str(work / "store"), str(work)), nprocs=WORLD,
                       start_method="spawn")
    ranks = [torch.load(work / f"rank{r}.pt") for r in range(WORLD)]
    torch.manual_seed(3)
    single = _run(create_model("tiny").double(), *_batch())
    return single, ranks


def _close(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm().clamp(min=1e-30))


@pytest.mark.multiproc
@pytest.mark.parametrize("plan", PLANS)
def test_two_ranks_equal_one_process(two_ranks: tuple[dict, list[dict]], plan: str) -> None:
    single, ranks = two_ranks
    n = BATCH // WORLD
    for step in range(STEPS):
        out = torch.cat([r[plan]["out"][step] for r in ranks])
        assert _close(out, single["out"][step]) < 1e-10, f"outputs, step {step}"
        # each rank's loss is the mean over its n samples; the objective is their mean
        grad_in = torch.cat([r[plan]["grad_in"][step] for r in ranks]) / WORLD
        assert _close(grad_in, single["grad_in"][step]) < 1e-10, f"input gradient, step {step}"
        for r in ranks:
            assert abs(float(r[plan]["loss"][step] - single["loss"][step])) < 1e-12
            for name, grad in single["grads"][step].items():
                assert _close(r[plan]["grads"][step][name], grad) < 1e-10, (name, step)
    assert all(r[plan]["out"][0].shape[0] == n for r in ranks)
    if plan != "ddp":  # the FCs really were sharded
        assert any(style != DATA for style in ranks[0][plan]["styles"].values())


@pytest.mark.multiproc
def test_overlap_cost_is_one_agreed_non_negative_number(two_ranks: tuple[dict, list[dict]]) -> None:
    costs = [r["overlap_cost"] for r in two_ranks[1]]
    assert costs[0] == costs[1] and 0.0 <= costs[0] < 1e-6  # under 1 µs of compute per byte


# ------------------------------------------------------------------ training with the new plan


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plandata")
    build_dataset(root, procedural_jobs(3, ["chair", "car"]), seed=4, show_progress=False)
    return root


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train_rank(rank: int, plan: str, data: str, out: str, port: int) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(WORLD), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    _train(plan, data, out)


def _train(plan: str, data: str, out: str) -> None:
    from parvox.train import TrainConfig, train

    train(TrainConfig(config="tiny", data=data, out=out, steps=3, batch=4, views=(1, 2),
                      threads=1, seed=5, lr=1e-3, checkpoint_every=3, workers=0,
                      dtype="float64", parallel=plan), show_progress=False)


@pytest.mark.multiproc
def test_training_with_a_plan_registered_here(data: Path, tmp_path: Path) -> None:
    from parvox.checkpoint import load_checkpoint

    _train("ddp", str(data), str(tmp_path / "one"))
    mp.start_processes(_train_rank, args=(MIXED.name, str(data), str(tmp_path / "mixed"),
                                          _free_port()), nprocs=WORLD, start_method="spawn")
    one, mixed = load_checkpoint(tmp_path / "one"), load_checkpoint(tmp_path / "mixed")
    assert mixed.meta["styles"]["encoder.fc"] == MODEL_OVERLAP
    for name, value in one.model_state.items():
        assert _close(mixed.model_state[name], value) < 1e-10, name
