# Two commands set everything up on a fresh clone:
#   make demo   create .venv, stamp the bundled fixtures into demo-out/, inspect them
#   make test   create .venv if needed, install the system packages the tests use, lint, type-check, test

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.installed

.PHONY: venv demo test lint typecheck system-deps fixtures fuzz reliability clean

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

# The suite runs on two workers, a test file each (its servers and fixtures start once per file's worker):
# most tests wait on subprocesses, servers and browsers. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2

test: $(READY) system-deps lint typecheck
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

# Longer hunts than CI's: coverage-guided fuzzing (crashing inputs land in tests/regressions/),
# and the README's reliability table.
fuzz: $(READY)
	$(BIN)/python -m pip install --quiet atheris
	$(BIN)/python scripts/fuzz/fuzz_readers.py -max_total_time=$${FUZZ_SECONDS:-600}

reliability: $(READY)
	$(BIN)/python scripts/reliability_report.py

fixtures: $(READY)
	$(BIN)/python scripts/make_fixtures.py

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache .hypothesis
