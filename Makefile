# The two commands a fresh machine needs: `make setup`, then `make test`.
PYTHON ?= python3
VENV := .venv
FLINK_VENV := streaming/.venv

.PHONY: setup test lint typecheck unit

setup:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	$(PYTHON) -m venv $(FLINK_VENV)
	$(FLINK_VENV)/bin/pip install --quiet -r streaming/requirements.txt
	# The local OpenSearch node the search tests start (Maven, pinned SHA-256; skipped when present).
	$(VENV)/bin/python -m tools.local.opensearch_node fetch

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck:
	$(VENV)/bin/mypy

unit:
	$(VENV)/bin/pytest

test: lint typecheck unit
