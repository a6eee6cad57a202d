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
	$(PY) -m ruff check parvox tests bench scripts
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check parvox tests bench scripts

# Benchmarks print markdown tables (docs/BENCHMARKS.md records them with machine and command).
bench: $(STAMP)
	$(PY) bench/data_bench.py --per-class 12 --samples 800
	$(PY) bench/class_prior_iou.py
	$(PY) bench/model_bench.py --configs small --batch 16 --views 3 --threads 2
	$(PY) bench/throughput.py --configs small --nprocs 1,2 --batch 16 --views 3 --steps 10
	$(PY) bench/projection.py --config r2n2-res-gru --per-rank 16 --views 5 --step-time 0.043 --plots docs/results

clean:
	rm -rf demo-out .pytest_cache .ruff_cache
