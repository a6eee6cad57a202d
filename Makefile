# make demo  — bootstrap .venv if missing, then run the main job on the embedded procedural dataset
# make test  — bootstrap .venv if missing, then the test suite (this is what .ci/run calls)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.bootstrapped

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh

demo: $(STAMP)
	$(PY) -m parvox demo

test: $(STAMP)
	$(PY) -m ruff check parvox tests bench
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check parvox tests bench

bench: $(STAMP)
	$(PY) bench/data_bench.py

clean:
	rm -rf demo-out .pytest_cache .ruff_cache
