# make demo  — bootstrap .venv if missing, then run the main job on the embedded procedural dataset
# make test  — bootstrap .venv if missing, then the test suite (this is what .ci/run calls)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.bootstrapped

.PHONY: demo test lint bench fuzz clean

$(STAMP): pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh

demo: $(STAMP)
	$(PY) -m parvox demo

# the tests that start no processes of their own run on both cores (pytest-xdist), then those
# marked multiproc (rank groups, launchers) one at a time, so that their ranks have the cores
test: $(STAMP)
	$(PY) -m ruff check parvox tests bench scripts
	$(PY) -m pytest -q -m "not multiproc" -n 2 --durations=5
	$(PY) -m pytest -q -m multiproc --durations=5

lint: $(STAMP)
	$(PY) -m ruff check parvox tests bench scripts

# make bench — bench/report.py runs every script of bench/ (~15-25 min on the 2-core machine) and
# writes docs/BENCHMARKS.md and docs/results/*.png from scratch; to check the machinery in
# ~3 min without touching docs/: .venv/bin/python bench/report.py --quick --out /tmp/bench/BENCHMARKS.md
bench: $(STAMP)
	$(PY) bench/report.py

# make fuzz — bench/fuzz_readers.py: 10,400 mutated files through every reader of outside input
fuzz: $(STAMP)
	$(PY) bench/fuzz_readers.py --cases-per-reader 800

clean:
	rm -rf demo-out .pytest_cache .ruff_cache
