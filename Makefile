# War Room: `make run` starts everything on a fresh machine; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench detect lint format clean nab

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) cli.py up

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	@$(PY) cli.py bench

detect: $(STAMP)
	@test -n "$(CSV)" || (echo "usage: make detect CSV=path/to/series.csv" >&2; exit 2)
	@$(PY) cli.py detect "$(CSV)"

nab: $(STAMP)
	$(PY) scripts/score_nab.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .

clean:
	rm -rf var/
