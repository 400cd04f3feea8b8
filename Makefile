# War Room: `make run` starts everything on a fresh machine; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test browser bench detect lint format clean nab

# Setup talks on stderr, so `make bench` and `make detect` print nothing but JSON lines on stdout.
$(STAMP): requirements.txt requirements-dev.txt
	@echo "setting up $(VENV) (first run only)" >&2
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) >&2
	@$(PY) -m pip install --quiet --upgrade pip >&2
	@$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt >&2
	@touch $(STAMP)

run: $(STAMP)
	$(PY) cli.py up

test: $(STAMP) browser
	$(PY) -m pytest

# The browser tests drive Debian's chromium + chromium-driver, the report's test reads PDFs with poppler-utils and
# the wall's shows colour emoji (fonts-noto-color-emoji): installed here when missing (as root, with
# apt-get), otherwise `make test` stops at once and names the one command to run.
BROWSER_PKGS := chromium chromium-driver poppler-utils fonts-noto-color-emoji
APT_INSTALL := apt-get install -y --no-install-recommends $(BROWSER_PKGS)
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v pdftoppm >/dev/null \
	  || ! fc-list | grep -q "Noto Color Emoji"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Chromium and ChromeDriver for the browser tests (first run only)" >&2; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    $(APT_INSTALL) >&2 || { apt-get update >&2 && $(APT_INSTALL) >&2; } || exit 1; \
	  else \
	    echo "make test needs Chromium and ChromeDriver; run: sudo $(APT_INSTALL)" >&2; exit 1; \
	  fi; \
	fi

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
