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

$(FED_STAMP): federated/pyproject.toml
	test -x $(FED_VENV)/bin/python || $(PYTHON) -m venv $(FED_VENV)
	$(FED_VENV)/bin/python -m pip install --quiet -e 'federated[test]'
	touch $(FED_STAMP)

federated-test: $(FED_STAMP)
	$(FED_VENV)/bin/pytest -q federated/tests

# The three-node fixture (one extract per centre of a synthetic study) through vantage6's mock
# client, next to jakreg's pooled results; nodes release every count here (min cell 1).
federated-demo: $(FED_STAMP)
	$(FED_VENV)/bin/jakreg-federated simulate federated/tests/data/node1 federated/tests/data/node2 \
	  federated/tests/data/node3 --node-min-cell 1 --pooled federated/tests/data/pooled.json \
	  --out jakreg-federated-demo

fuzz: $(STAMP)
	$(BIN)/pytest -q -m fuzz tests/fuzz

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

docs: $(STAMP)
	$(BIN)/python -m jakreg.docs_cli > docs/cli.md
	$(BIN)/python -m jakreg.export.dictionary > docs/data-dictionary.md

clean:
	rm -rf $(VENV) $(FED_VENV) .mypy_cache .ruff_cache .pytest_cache jakreg-demo
