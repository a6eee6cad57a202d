"""A short fuzzing campaign over every reader that outside input reaches (bench/fuzz_readers.py
runs the long one): each mutated file gives a result or a one-line ParvoxError, in bounded
time."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fuzz_targets import TARGETS, mutated, run_case
from hypothesis import HealthCheck, given, settings

#: Cases per reader in make test (about 1,000 in all).
EXAMPLES = 60


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_reader_survives_mutated_files(name: str) -> None:
    target = TARGETS[name]
    seeds = target.seeds()
    for seed in seeds:  # the corpus itself is valid
        with tempfile.TemporaryDirectory() as folder:
            assert run_case(target, seed, Path(folder)) is None

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(mutated(seeds))
    def case(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as folder:
            finding = run_case(target, data, Path(folder))
        assert finding is None, f"{name}: {finding}"

    case()
