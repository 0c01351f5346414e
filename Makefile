# Two commands set everything up on a fresh clone:
#   make demo   create .venv, stamp the bundled fixtures into demo-out/, inspect them
#   make test   create .venv if needed, install the system packages the tests use, lint, type-check, test

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.installed

.PHONY: venv demo test lint typecheck system-deps fixtures clean

venv: $(READY)

$(READY): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "aidisclose needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(READY)

demo: $(READY)
	rm -rf demo-out
	$(BIN)/aidisclose stamp fixtures/images/* fixtures/audio/* fixtures/video/* --record fixtures/example-record.toml --output demo-out
	$(BIN)/aidisclose inspect demo-out

system-deps:
	bash scripts/install-system-deps.sh

lint: $(READY)
	$(BIN)/ruff check src tests scripts

typecheck: $(READY)
	$(BIN)/mypy

test: $(READY) system-deps lint typecheck
	$(BIN)/pytest

fixtures: $(READY)
	$(BIN)/python scripts/make_fixtures.py

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache .hypothesis
