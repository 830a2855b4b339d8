# Two commands do everything on a fresh machine with Python 3.11:  make run  and  make test.
PYTHON ?= python3.11
UV_VERSION = 0.13.9
TOOLS = .tools
UV = $(TOOLS)/bin/uv
VENV = .venv
BIN = $(VENV)/bin
SYNTH_PATIENTS ?= 500
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

# Debian packages the product and its tests need: Chromium, which prints the review packs' PDFs and runs the browser
# tests (Playwright cannot download its own browser here), pdftotext to read PDFs back, and fonts; and wrk, the load
# generator of the CDS Hooks benchmark.
SYSTEM_PACKAGES = chromium poppler-utils fonts-dejavu-core fonts-liberation wrk

.PHONY: setup run test lint typecheck layers audit-deps test-sqlite test-postgresql bench clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode is compiled once here: this machine sets PYTHONDONTWRITEBYTECODE, so without it every command (and every
# test that runs one) would compile every module it imports again, about a second each time.
$(BIN)/safetynet: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --python $(PYTHON) --quiet --compile-bytecode
	touch $(BIN)/safetynet

$(TOOLS)/system-packages: Makefile
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
	mkdir -p $(TOOLS) && touch $@

setup: $(BIN)/safetynet $(TOOLS)/system-packages
	@$(BIN)/python -m compileall -q src

# The main job on the embedded default (SQLite under ./var/): migrate, seed a synthetic trust once (and run the safety
# net over it as known when its stories end: synth writes in bulk and raises no tasks; compute the indicators for the
# dashboards), load a small national synthetic population for the national dashboard once (var/national.duckdb),
# show caseloads, make demo logins (one per role, new passwords each run) and serve the web app on
# http://127.0.0.1:8000/.
# SERVE=0 stops before serving (for CI-like checks).
SERVE ?= 1
run: setup
	$(BIN)/safetynet db upgrade
	@if [ "$$($(BIN)/safetynet db stats --format json | $(BIN)/python -c 'import json,sys; print(json.load(sys.stdin)["patients"]["rows"])')" = "0" ]; then \
		$(BIN)/safetynet synth --patients $(SYNTH_PATIENTS) --seed 7 && \
		$(BIN)/safetynet tasks reconcile --as-of 2026-10-31 && \
		$(BIN)/safetynet indicators refresh; fi
	@if [ ! -e var/national.duckdb ]; then \
		$(BIN)/safetynet national synth --providers 12 --patients 24000 --period 2026-10 --out var/national-synth \
			--extracts var/national-extracts && \
		$(BIN)/safetynet national ingest var/national-extracts/*; fi
	$(BIN)/safetynet caseload --as-known-at 2026-10-31  # the synthetic stories end on 31 October 2026
	$(BIN)/safetynet accounts demo
	@if [ "$(SERVE)" != "0" ]; then $(BIN)/safetynet serve --host 127.0.0.1 --port 8000; fi

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: setup
	$(BIN)/mypy

layers: setup
	$(BIN)/lint-imports

test-sqlite: setup
	$(BIN)/pytest -n 2 --db sqlite

# Runs where PostgreSQL is reachable; CI sets REQUIRE_POSTGRES=1 so that an unreachable server fails instead.
test-postgresql: setup
	@if $(BIN)/python -c "import sqlalchemy as s; s.create_engine('$(POSTGRES_URL)').connect().close()" 2>/dev/null; then \
		$(BIN)/pytest -n 2 --db postgresql; \
	elif [ -n "$$REQUIRE_POSTGRES" ]; then echo "PostgreSQL is not reachable at $(POSTGRES_URL)"; exit 1; \
	else echo "PostgreSQL not reachable: skipped the PostgreSQL run"; fi

# Known vulnerabilities in every locked dependency (pip-audit against PyPI's advisory data). --strict: a dependency
# that cannot be audited (not on PyPI, or the service unreachable) fails the target instead of being skipped quietly.
# Not part of `make test`: the CI machines reach PyPI only through a mirror without the per-release JSON API and
# cannot reach OSV, so the audit cannot run there (docs/security.md); run it where pypi.org is reachable.
audit-deps: setup
	$(UV) export --frozen --no-hashes --no-emit-project --all-groups --quiet > $(TOOLS)/requirements-audit.txt && \
	$(BIN)/pip-audit --requirement $(TOOLS)/requirements-audit.txt --disable-pip --no-deps --strict --progress-spinner off

test: lint typecheck layers test-sqlite test-postgresql

# Speed and memory figures into docs/benchmarks.md (minutes: synth of 100,000 people).
bench: setup
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) $(TOOLS) var/*.db var/*.db-*
