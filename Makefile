# Two entry points: `make run` (serve the app on the embedded defaults) and `make test`.
# `make docs` builds the docs site into site/, `make docs-serve` serves it.
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# `make run PORT=8001` when 8000 is taken.
PORT ?= 8000
# `make docs-serve DOCS_PORT=8002` when 8001 is taken.
DOCS_PORT ?= 8001
# Bytecode is compiled at install time: where PYTHONDONTWRITEBYTECODE=1 is set, Python would
# otherwise compile every module again at every start (benchmarks/bench_startup.py).
INSTALL := $(UV) pip install -q --compile-bytecode --python $(PY) -r pyproject.toml

.PHONY: run test lint typecheck format bench docs docs-serve clean

$(UV):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q uv

# What the app needs to run; a marker per set, so each installs once and again only when
# pyproject.toml changes.
$(VENV)/.deps: pyproject.toml | $(UV)
	$(INSTALL)
	touch $@

# Tests, linters, the docs and the scale-out extras (Redis channel layer, PostgreSQL driver),
# which the tests exercise; `make run` does not need them.
$(VENV)/.deps-dev: pyproject.toml | $(UV)
	$(INSTALL) --extra dev --extra redis --extra postgres --extra docs
	touch $@

# MkDocs with the Material theme, for `make docs` alone.
$(VENV)/.deps-docs: pyproject.toml | $(UV)
	$(INSTALL) --extra docs
	touch $@

# Strict: a broken link or anchor, or a page missing from the nav, fails the build. The
# variable hides Material's notice about MkDocs 2.0, which says nothing about these docs.
MKDOCS := NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs

run: $(VENV)/.deps
	$(PY) -m compileall -q simsite heatmap skillcheck sim_core.py
	$(PY) manage.py migrate --noinput
	$(PY) -m daphne -b 127.0.0.1 -p $(PORT) simsite.asgi:application

test: lint
	$(MKDOCS) build --strict --quiet
	$(PY) -m pytest -m "not browser" -p no:playwright
	# The persistence, import, selector and web tests again, on a PostgreSQL server the
	# tests start themselves (skipped without PostgreSQL, except under CI=true).
	$(PY) -m pytest --postgres -p no:playwright
	# Browser tests run in their own pytest process: Playwright's event loop and the
	# live server's file database do not mix with the unit tests (see tests/browser/).
	$(PY) -m pytest -m browser

lint: $(VENV)/.deps-dev typecheck
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	# The import contracts in pyproject.toml: layers, the engine free of Django, no cycles.
	$(VENV)/bin/lint-imports

# mypy with django-stubs over the app and the engine (settings in pyproject.toml).
typecheck: $(VENV)/.deps-dev
	$(PY) -m mypy

format: $(VENV)/.deps-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(VENV)/.deps
	$(PY) benchmarks/bench_runs.py
	$(PY) benchmarks/bench_views.py
	$(PY) benchmarks/bench_api.py --cost
	$(PY) benchmarks/bench_startup.py
	$(PY) benchmarks/bench_lint.py

docs: $(VENV)/.deps-docs
	$(MKDOCS) build --strict

docs-serve: $(VENV)/.deps-docs
	$(MKDOCS) serve --strict --dev-addr 127.0.0.1:$(DOCS_PORT)

clean:
	rm -rf $(VENV) db.sqlite3 site
