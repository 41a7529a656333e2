# The few commands people type. Each creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: start the app on the bundled sample inventory
run: $(STAMP)
	$(BIN)/streamlit run app.py --client.toolbarMode=viewer

## test: the whole test suite, lint and types included
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

## bench: the benchmarks (about 40 minutes; run nothing else meanwhile); writes BENCHMARKS.md
bench: $(STAMP)
	$(BIN)/python -m benchmarks.vbp2d --engine planner
	$(BIN)/python -m benchmarks.vbp2d --engine ffd
	$(BIN)/python -m benchmarks.vbp2d --engine naive --sizes 25,50
	$(BIN)/python -m benchmarks.inventories
	$(BIN)/python -m benchmarks.cli_runs --first 1 --out benchmarks/results/cli_vbp2d_first.csv
	$(BIN)/python -m benchmarks.cli_runs --sample 8
	$(BIN)/python -m benchmarks.sweep_backends
	$(BIN)/python -m benchmarks.estate
	$(BIN)/python -m benchmarks.report

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
