# newsdedup: `make run` and `make test` are the two set-up commands (see README.md).
# Everything lives in .venv inside the checkout; versions come from requirements/*.lock.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
UV_VERSION := 0.13.9

.PHONY: run test lint bench airflow lock clean help

help:
	@echo "make run      install (core) and run the pipeline on the bundled sample inbox"
	@echo "make test     install everything (incl. the airflow extra) and run the whole suite"
	@echo "make lint     ruff"
	@echo "make bench    benchmarks (prints name=value lines)"
	@echo "make airflow  local Airflow with the newsdedup DAGs and dashboard"
	@echo "make lock     re-resolve requirements/*.lock from pyproject.toml"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
	  || { echo "newsdedup needs Python 3.11 or newer (found: $$($(PYTHON) --version))" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)

# uv installs the locked set in seconds instead of minutes; it is itself pinned.
$(UV): $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# warm_up compiles the MinHash kernels into numba's on-disk cache once, at install time;
# --compile-bytecode spares the first runs compiling some 700 modules' source (seconds of CPU)
WARM_UP := $(BIN)/python -c 'import pipeline.dedup.minhash as m; m.warm_up()'

$(VENV)/.core: $(UV) requirements/core.lock pyproject.toml
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements/core.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	$(WARM_UP)
	@touch $@

$(VENV)/.all: $(UV) requirements/all.lock pyproject.toml
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements/all.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	$(WARM_UP)
	@touch $@ $(VENV)/.core

run: $(VENV)/.core
	$(BIN)/newsdedup run

# A local PostgreSQL server when it answers (started if installed), else the embedded one.
test: $(VENV)/.all
	@url=$$(scripts/test-services $(BIN)/python); \
	  export NEWSDEDUP_TEST_DATABASE_URL="$${NEWSDEDUP_TEST_DATABASE_URL:-$$url}"; \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.all
	$(BIN)/ruff check .
	$(BIN)/ruff format --check pipeline dags tests bench

bench: $(VENV)/.all
	$(BIN)/python -m bench.run_all

# make airflow AIRFLOW_ARGS='--unpause --port 8081' (see python -m pipeline.local_airflow -h)
airflow: $(VENV)/.all
	$(BIN)/python -m pipeline.local_airflow $(AIRFLOW_ARGS)

lock: $(UV)
	$(UV) pip compile pyproject.toml --extra fast --extra airflow --extra test --extra bench \
	  --python-version 3.11 -o requirements/all.lock
	$(UV) pip compile pyproject.toml --extra fast --python-version 3.11 -c requirements/all.lock \
	  -o requirements/core.lock

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
