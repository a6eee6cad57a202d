"""``auto``'s shortlist and timed trial (parvox.parallel.cost.shortlist, parvox.parallel.trial)."""

from __future__ import annotations

import math
import time

import pytest
import torch

from parvox.models import create_model
from parvox.parallel.comm import Comm
from parvox.parallel.cost import Link, rank_styles, shortlist
from parvox.parallel.plans import PLANS, Workload
from parvox.parallel.trial import median_step_s, run_trial


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    with torch.device("meta"):
        return create_model("r2n2-res-gru")


def test_shortlist_holds_what_the_model_cannot_tell_apart(model: torch.nn.Module) -> None:
    work, link = Workload(2, 8, 5), Link.from_gbits(10.0, 150e-6)
    ranked = rank_styles(model, work, link, compute_s=2.0)
    assert [t for _, t in ranked] == sorted(t for _, t in ranked)
    best = ranked[0][1]
    short = shortlist(model, work, link, compute_s=2.0, margin=0.2, most=3)
    assert short[0] == ranked[0]
    assert 1 < len(short) <= 3
    assert all(t <= best * 1.2 for _, t in short)
    assert len({tuple(sorted(s.items())) for s, _ in short}) == len(short)
    # the fixed plans come before other mixes: ddp and owt are both well within 20 % here
    assigned = [s for s, _ in short]
    assert PLANS["ddp"].assign(model) in assigned and PLANS["owt"].assign(model) in assigned
    # with no margin only ties with the best remain; a plan outside the margin never enters
    assert all(t == best for _, t in shortlist(model, work, link, 2.0, margin=0.0, most=9))
    slow = Link.from_gbits(0.1)
    ranked_slow = rank_styles(model, work, slow, compute_s=2.0)
    worst = ranked_slow[-1]
    assert worst[1] > ranked_slow[0][1] * 1.2
    assert worst not in shortlist(model, work, slow, 2.0, margin=0.2, most=99)


def test_trial_keeps_the_fastest_measured_plan_not_the_predicted_one() -> None:
    """Steps cost what ``cost`` says on a fake clock; a slow spell (``slow``) hits whichever
    step runs second in a turn, so only alternating the order keeps the ranking right."""
    a, b, c = {"fc": "model"}, {"fc": "data"}, {"fc": "model-overlap"}
    cost = {"model": 2.0, "data": 1.5, "model-overlap": 1.7}
    now, calls = [0.0], []
    built: list[str] = []

    def make_step(styles: dict[str, str]):
        built.append(styles["fc"])

        def step() -> None:
            calls.append(styles["fc"])
            slow = 1.0 if len(calls) > 3 and len(calls) % 3 == 2 else 0.0
            now[0] += cost[styles["fc"]] + slow

        return step

    chosen, rows = run_trial([(a, 1.0), (b, 1.1), (c, 1.15)], make_step, Comm(), steps=3,
                             clock=lambda: now[0])
    assert chosen == b and built == ["model", "data", "model-overlap"]
    # one warm-up each, then three turns, each starting one candidate later
    assert calls == ["model", "data", "model-overlap"] + ["model", "data", "model-overlap",
                                                           "data", "model-overlap", "model",
                                                           "model-overlap", "model", "data"]
    assert [r.predicted_s for r in rows] == [1.0, 1.1, 1.15]
    assert [r.measured_s for r in rows] == pytest.approx([2.0, 1.5, 1.7])
    assert "fc: model-overlap: predicted 1.150 s, measured 1.700 s" in rows[2].describe()
    # one candidate: nothing to decide, nothing built or timed
    chosen, rows = run_trial([(a, 1.0)], make_step, Comm(), steps=3)
    assert chosen == a and len(built) == 3 and math.isnan(rows[0].measured_s)


def test_median_step_times_after_the_warm_up() -> None:
    sleeps = iter([0.3, 0.0, 0.01, 0.3])  # the first is the warm-up
    calls: list[float] = []

    def step() -> None:
        calls.append(next(sleeps))
        time.sleep(calls[-1])

    seconds = median_step_s(step, steps=3, warmup=1)
    # the median of the timed three is 0.01 s; with the warm-up timed, or a mean, it is > 0.1 s
    assert len(calls) == 4 and 0.01 <= seconds < 0.1
