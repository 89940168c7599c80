# Two entry points: `make run` (serve the app on the embedded defaults) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# `make run PORT=8011` when 8000 is taken.
PORT ?= 8000

.PHONY: run test lint typecheck format bench clean

$(VENV)/.deps: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q uv
	# --compile-bytecode: uv skips it by default, and without it every start of run_scored
	# compiles the SDK and Django again (a second more before the first request).
	$(UV) pip install -q --compile-bytecode --python $(PY) -r pyproject.toml --extra dev --extra redis --extra postgres
	touch $@

run: $(VENV)/.deps
	$(PY) manage.py migrate --noinput
	$(PY) -m daphne -b 127.0.0.1 -p $(PORT) simsite.asgi:application

test: lint
	$(PY) -m pytest -m "not browser" -p no:playwright
	# The persistence, import, selector and web tests again, on a PostgreSQL server the
	# tests start themselves (skipped without PostgreSQL, except under CI=true).
	$(PY) -m pytest --postgres -p no:playwright
	# Browser tests run in their own pytest process: Playwright's event loop and the
	# live server's file database do not mix with the unit tests (see tests/browser/).
	$(PY) -m pytest -m browser

lint: $(VENV)/.deps typecheck
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# mypy with django-stubs over the app and the engine (settings in pyproject.toml).
typecheck: $(VENV)/.deps
	$(PY) -m mypy

format: $(VENV)/.deps
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(VENV)/.deps
	$(PY) benchmarks/bench_runs.py
	$(PY) benchmarks/bench_views.py
	$(PY) benchmarks/bench_api.py --cost

clean:
	rm -rf $(VENV) db.sqlite3
