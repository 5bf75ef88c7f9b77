# The commands a newcomer needs: `make serve` and `make test`.
#   make install     .venv (Python 3.11) with requirements-dev.txt; redone when a requirements file changes
#   make serve       the embedded endpoint: HOST (127.0.0.1), PORT (8642), DATA_DIR (.data)
#   make localstack  LocalStack's Python runtime in .localstack-venv (Python 3.13; skipped when present)
#   make test        install + localstack, then the whole pytest suite (what CI runs)
#   make bench       every runnable bench/*.py (BENCH="bench/a.py bench/b.py" picks some)
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8642
DATA_DIR ?= .data
BENCH ?= $(wildcard bench/*.py)

.PHONY: install serve localstack test bench

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# pip runs only when the venv is new or a requirements file changed (torch==2.13.0 is
# pinned: pip takes the CPU wheel on disk instead of several GB of CUDA).
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(PY) -m chalicelib.server --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

localstack:
	bash infra/localstack/install.sh

test: install localstack
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	@for script in $(BENCH); do \
	  [ -f "$$script" ] || continue; \
	  grep -q '__main__' "$$script" || continue; \
	  echo "== $$script"; $(PY) "$$script" || exit 1; \
	done
