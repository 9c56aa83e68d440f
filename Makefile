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
	@# The page tests drive Debian's Chromium (Playwright uses this binary; it never downloads a browser).
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the page tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	} || { echo "error: could not install Debian's chromium (needed by the page tests): run 'apt-get install chromium' as root" >&2; exit 1; }

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck:
	$(VENV)/bin/mypy

unit:
	$(VENV)/bin/pytest

test: lint typecheck unit
