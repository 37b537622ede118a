# Two commands for a fresh machine with Python 3.11: `make run` (set up + launch on the demo catalog) and
# `make test` (set up + run every test). Everything lives in .venv beside this file.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench screenshots clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: setup
	$(BIN)/stylerec-desktop

test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m ruff check stylerec_desktop tests scripts bench
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

lint: setup
	$(BIN)/python -m ruff check stylerec_desktop tests scripts bench

bench: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/run_all.py

screenshots: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python scripts/screenshots.py --out docs/screenshots

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
