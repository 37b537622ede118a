# Two commands for a fresh machine with Python 3.11: `make run` (set up + launch on the demo catalog) and
# `make test` (set up + run every test). Everything lives in .venv beside this file.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test faults lint bench screenshots clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: setup
	$(BIN)/stylerec-desktop

# pytest on every core (pytest-xdist; whole test files per worker, so module fixtures are built once), with mypy
# running beside it at low priority, on the CPU the tests leave idle (its report printed after pytest's). Any of
# ruff, mypy and pytest failing fails the target.
# PYTEST_WORKERS=0 runs the tests in this one process. A worker that crashes is not replaced (pytest-xdist 3.8
# with --dist loadfile can wait forever for a replacement): the run ends, naming the test it crashed in. A test
# still running after 10 minutes has every thread's traceback printed and its worker ended.
PYTEST_WORKERS ?= auto
PYTEST_GUARDS := --max-worker-restart=0 -o faulthandler_timeout=600 -o faulthandler_exit_on_timeout=true

test: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m ruff check stylerec_desktop tests scripts bench
	@echo "mypy (in the background) and pytest -n $(PYTEST_WORKERS)"; \
	types_log=$$(mktemp); \
	nice -n 15 $(BIN)/python -m mypy > "$$types_log" 2>&1 & types_pid=$$!; \
	trap 'kill $$types_pid 2>/dev/null; rm -f "$$types_log"' INT TERM; \
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder \
		$(PYTEST_GUARDS); \
	tests=$$?; wait $$types_pid; types=$$?; \
	echo "mypy:"; cat "$$types_log"; rm -f "$$types_log"; \
	test $$tests -eq 0 && test $$types -eq 0

# The fault suite at its nightly size (about 17,000 fuzzed inputs, 100 kill -9 trials, concurrent writers, full
# disks; `make test` runs a fast part of it) and a table of cases and failures. Needs root for the small-disk runs.
faults: setup
	STYLEREC_FAULTS=full QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider tests/faults

lint: setup
	$(BIN)/python -m ruff check stylerec_desktop tests scripts bench
	$(BIN)/python -m mypy

bench: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/run_all.py

# The layout pictures need an indexed catalog: the demo, built and indexed once into build/demo.
screenshots: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python scripts/screenshots.py --out docs/screenshots
	test -d build/demo || ($(BIN)/stylerec --catalog build/demo demo && $(BIN)/stylerec --catalog build/demo index)
	QT_QPA_PLATFORM=offscreen $(BIN)/python scripts/layout_screenshots.py --catalog build/demo --out docs/screenshots
	QT_QPA_PLATFORM=offscreen QT_SCALE_FACTOR=2 $(BIN)/python scripts/layout_screenshots.py --catalog build/demo \
		--out docs/screenshots --sizes 1280x720

# The installable app (packaging/README.md): a self-contained folder in dist/StyleRec and
# dist/StyleRec-<version>-linux-x86_64.tar.gz + .sha256, from its own build environment (build/package-venv, CPU
# PyTorch). Refuses uncommitted changes unless ALLOW_DIRTY=1. package-test runs the bundle's self-test in a clean
# environment (no .venv, HOME a temporary folder).
.PHONY: package package-test icons
package:
	PYTHON=$(PYTHON) packaging/linux/build.sh

package-test:
	packaging/linux/test_bundle.sh

# The app icon's PNGs from resources/icons/stylerec-desktop.svg, and a light/dark preview sheet to look at.
icons: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python scripts/render_icons.py --preview build/icon-preview.png

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
