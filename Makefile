# Two entry points, each doing its own set-up on a fresh machine:
#   make demo   runs the connector on embedded defaults
#   make test   runs ruff, mypy and pytest (what CI runs)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench browser install clean

demo: install browser
	$(BIN)/tps-connector demo

test: install browser lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

bench: install browser
	for b in bench/*_bench.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Playwright's own download first; where that is unreachable, Debian's Chromium.
browser: install
	bash scripts/install-browser.sh $(BIN)/python

clean:
	rm -rf $(VENV) .connector .mypy_cache .ruff_cache .pytest_cache .hypothesis
