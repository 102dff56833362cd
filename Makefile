# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU wheel of torch; installing it first keeps pip from pulling a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: demo test lint format install install-test system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/tripwire demo

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Tests drive a real PostgreSQL server and headless Chromium: Debian packages, installed here when
# missing and we may (root with apt-get); otherwise those tests skip and say why.
system-deps:
	@if command -v chromium >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium and postgresql (Debian packages) for the tests"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql >/dev/null; } \
	    || echo "notice: installing chromium/postgresql failed; their tests will skip" >&2; \
	else echo "notice: chromium/postgresql missing and not installable here; their tests will skip" >&2; fi

# --max-worker-restart=0: a worker that dies (e.g. OOM-killed) fails the run at once instead of
# leaving pytest-xdist waiting forever for its tests.
test: install-test lint system-deps
	$(BIN)/pytest -n 2 --dist loadgroup --max-worker-restart=0

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info
