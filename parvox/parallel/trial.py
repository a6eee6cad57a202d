"""``auto``'s trial: the cost model shortlists, a few timed steps decide.

The cost model (:mod:`parvox.parallel.cost`) predicts each plan's step within about 20 %
(docs/BENCHMARKS.md), but where two plans are predicted closer than that, its ranking is a
coin toss: on 2 shared CPU cores it put ``owt`` 5 % ahead of ``ddp`` at 10 Gbit/s where ``ddp``
measured 7 % faster. So ``auto`` times the assignments predicted within
:data:`~parvox.parallel.cost.TRIAL_MARGIN` of the best for a few real training steps each, on
throwaway copies of the model, taking turns step by step, and keeps the fastest, as cuDNN's
benchmark mode times convolution algorithms before it uses one. Every rank takes the mean over
ranks of each candidate's median step, so all ranks agree on the choice.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from parvox.parallel.comm import Comm


@dataclass(frozen=True)
class TrialRow:
    """One timed candidate: its styles, the cost model's step and the measured one (s)."""

    styles: dict[str, str]
    predicted_s: float
    measured_s: float

    def describe(self) -> str:
        chosen = ", ".join(f"{n}: {s}" for n, s in self.styles.items() if s != "data")
        return (f"{chosen or 'every layer data-parallel'}: predicted {self.predicted_s:.3f} s, "
                f"measured {self.measured_s:.3f} s")


def median_step_s(step: Callable[[], object], steps: int, warmup: int = 1) -> float:
    """Median seconds of ``step()`` over ``steps`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        begin = time.perf_counter()
        step()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def agreed_seconds(seconds: float, comm: Comm) -> float:
    """The mean over ranks of ``seconds`` (a collective: every rank gets the same value)."""
    total = comm.all_reduce_(torch.tensor([seconds], dtype=torch.float64), "metrics")
    return float(total.item()) / comm.world


def run_trial(candidates: list[tuple[dict[str, str], float]],
              make_step: Callable[[dict[str, str]], Callable[[], object]], comm: Comm,
              steps: int, clock: Callable[[], float] = time.perf_counter,
              ) -> tuple[dict[str, str], list[TrialRow]]:
    """Time every candidate ``(styles, predicted step s)`` and return the fastest styles, with
    every row. ``make_step(styles)`` builds a throwaway model under those styles and returns
    one training step of it. After a warm-up step each, the candidates take turns, one step at
    a time in an order rotated every turn, for ``steps`` turns, so that a slow spell of shared
    cores falls on all of them alike; a candidate's time is the mean over ranks of its median
    step. One candidate is returned untimed."""
    if len(candidates) == 1:
        styles, predicted = candidates[0]
        return styles, [TrialRow(styles, predicted, float("nan"))]
    stepping = [make_step(styles) for styles, _ in candidates]
    for step in stepping:
        step()
    times: list[list[float]] = [[] for _ in candidates]
    for turn in range(steps):
        for i in _rotated(len(candidates), turn):
            begin = clock()
            stepping[i]()
            times[i].append(clock() - begin)
    del stepping
    gc.collect()  # the throwaway models hold cycles (hooks); free them before training
    rows = [TrialRow(styles, predicted, agreed_seconds(statistics.median(t), comm))
            for (styles, predicted), t in zip(candidates, times, strict=True)]
    return min(rows, key=lambda row: row.measured_s).styles, rows


def _rotated(n: int, turn: int) -> list[int]:
    """``range(n)`` started at ``turn % n``."""
    first = turn % n
    return list(range(first, n)) + list(range(first))
