# The two commands a fresh machine needs: `make setup`, then `make test`.
PYTHON ?= python3
VENV := .venv
FLINK_VENV := streaming/.venv

WEB := clients/web

.PHONY: setup setup-web setup-browser test lint typecheck unit

setup: setup-web setup-browser
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	$(PYTHON) -m venv $(FLINK_VENV)
	$(FLINK_VENV)/bin/pip install --quiet -r streaming/requirements.txt

# The web tracker's build and test tools, exactly as its package-lock.json pins them.
setup-web:
	@command -v npm >/dev/null || { echo "make setup: npm is missing; the web tracker (clients/web) needs Node 20 and npm" >&2; exit 1; }
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error

# Debian's Chromium for the page tests (Playwright drives /usr/bin/chromium; it never downloads a browser).
setup-browser:
	@command -v chromium >/dev/null || { \
		echo "make setup: installing Debian's chromium for the page tests" && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	} || { echo "make setup: could not install Debian's chromium (needs root and apt); the page tests need /usr/bin/chromium" >&2; exit 1; }

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck:
	$(VENV)/bin/mypy

unit:
	$(VENV)/bin/pytest

test: lint typecheck unit
