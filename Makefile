# The two commands a newcomer needs: `make serve` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install serve localstack test bench

$(PY):
	$(PYTHON) -m venv $(VENV)

install: $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt

serve: install
	$(PY) -m chalicelib.server --port $${PORT:-8642} --data-dir $${PERSONALIZE_DATA_DIR:-.data}

localstack:
	bash infra/localstack/install.sh

test: install localstack
	$(PY) -m pytest

bench: install
	for script in bench/*.py; do case $$script in */datasets.py|*/serving_setup.py) ;; \
	  *) echo "== $$script"; $(PY) $$script || exit 1;; esac; done
