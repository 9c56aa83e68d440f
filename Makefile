# The two commands a fresh machine needs: `make setup`, then `make test`.
PYTHON ?= python3
VENV := .venv
FLINK_VENV := streaming/.venv

WEB := clients/web

.PHONY: setup setup-web setup-browser setup-postgres test lint typecheck unit

setup: setup-web setup-browser setup-postgres
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	$(PYTHON) -m venv $(FLINK_VENV)
	$(FLINK_VENV)/bin/pip install --quiet -r streaming/requirements.txt
	# The local OpenSearch node the search tests start (Maven, pinned SHA-256; skipped when present).
	$(VENV)/bin/python -m tools.local.opensearch_node fetch

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

# PostgreSQL from Debian, for the CDC drift check's tests (each test session starts a throwaway server).
# Installed only when its binaries are missing; Debian's default cluster is not created.
setup-postgres:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; else \
		echo "make setup: installing PostgreSQL (Debian package postgresql)"; \
		mkdir -p /etc/postgresql-common && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold --no-install-recommends postgresql >/dev/null; } \
		|| { echo "make setup: could not install PostgreSQL; install the Debian package postgresql (apt-get install postgresql)" >&2; exit 1; }; \
	fi

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck:
	$(VENV)/bin/mypy

# Two worker processes, whole test files per worker (module-level synth caches stay in one process).
unit:
	$(VENV)/bin/pytest -n 2 --dist loadfile

test: lint typecheck unit
