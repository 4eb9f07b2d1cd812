# jakreg: `make demo` and `make test` set up everything themselves on a fresh machine (Python 3.11 + pip).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types unit fuzz bench docs clean setup browser federated-test federated-demo

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "jakreg needs $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/jakreg demo

lint: $(STAMP)
	$(BIN)/ruff check src tests federated/src federated/tests
	$(BIN)/ruff format --check src tests federated/src federated/tests

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

test: lint types unit federated-test

# The vantage6 algorithm is its own distribution with its own environment (issue 15):
# vantage6-algorithm-tools pins SQLAlchemy 1.4, which conflicts with jakreg's SQLAlchemy 2.
FED_VENV := federated/.venv
FED_STAMP := $(FED_VENV)/.installed

# FED_INSTALL is the algorithm image's install step (federated/Dockerfile, run there from federated/):
# the tests run on the dependencies it resolves; the editable install with the test extras goes on top.
FED_INSTALL := python -m pip install --no-cache-dir ./

$(FED_STAMP): federated/pyproject.toml
	test -x $(FED_VENV)/bin/python || $(PYTHON) -m venv $(FED_VENV)
	cd federated && .venv/bin/$(FED_INSTALL)
	$(FED_VENV)/bin/python -m pip install --quiet -e 'federated[test]'
	touch $(FED_STAMP)

federated-test: $(FED_STAMP)
	$(FED_VENV)/bin/pytest -q federated/tests

# The demo registry split into three vantage6 nodes of two centres each, analysed through vantage6's
# mock client at the default minimum cell count 3, next to jakreg's pooled results on the same
# registry (docs/federated.md). Work files in build/federated-demo, the report in jakreg-federated-demo.
FED_DEMO := build/federated-demo
FED_DB := $(FED_DEMO)/registry.db
# Drug-survival bins of 360 days, courses beyond day 720 censored there: at min cell 3 every node
# then releases its table (finer bins leave cells of 1-2 and the node refuses the whole table).
FED_BIN_DAYS ?= 360
FED_KM_HORIZON ?= 720

federated-demo: $(STAMP) $(FED_STAMP)
	rm -rf $(FED_DEMO) && mkdir -p $(FED_DEMO)
	$(BIN)/jakreg synth --out $(FED_DEMO)/study --patients 300 --centres 6 --seed 15
	$(BIN)/jakreg init --db $(FED_DB)
	$(BIN)/jakreg import $(FED_DEMO)/study --db $(FED_DB) --actor "federated demo"
	$(BIN)/jakreg export --format federated --db $(FED_DB) --out $(FED_DEMO)/node1 --centre SYN-001 --centre SYN-002
	$(BIN)/jakreg export --format federated --db $(FED_DB) --out $(FED_DEMO)/node2 --centre SYN-003 --centre SYN-004
	$(BIN)/jakreg export --format federated --db $(FED_DB) --out $(FED_DEMO)/node3 --centre SYN-005 --centre SYN-006
	$(BIN)/jakreg export --format federated-pooled --db $(FED_DB) --out $(FED_DEMO)/pooled.json --bin-days $(FED_BIN_DAYS)
	$(FED_VENV)/bin/jakreg-federated simulate $(FED_DEMO)/node1 $(FED_DEMO)/node2 $(FED_DEMO)/node3 \
	  --bin-days $(FED_BIN_DAYS) --km-horizon-days $(FED_KM_HORIZON) --pooled $(FED_DEMO)/pooled.json \
	  --out jakreg-federated-demo

fuzz: $(STAMP)
	$(BIN)/pytest -q -m fuzz tests/fuzz

# The benchmarks also need the optional extra `bench` (DuckDB, for the side-by-side comparison).
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/side_by_side.py

docs: $(STAMP)
	$(BIN)/python -m jakreg.docs_cli > docs/cli.md
	$(BIN)/python -m jakreg.export.dictionary > docs/data-dictionary.md

clean:
	rm -rf $(VENV) $(FED_VENV) .mypy_cache .ruff_cache .pytest_cache jakreg-demo build/federated-demo jakreg-federated-demo
