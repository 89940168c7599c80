# Two entry points: `make run` (serve / audit with the embedded defaults) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv

.PHONY: run test test-unit test-browser lint format bench clean

$(VENV)/.deps: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q uv
	$(UV) pip install -q --python $(PY) -r pyproject.toml --extra dev --extra redis --extra postgres
	touch $@

run: $(VENV)/.deps
	$(PY) manage.py migrate --noinput
	$(PY) -m daphne -b 127.0.0.1 -p 8000 simsite.asgi:application

test: $(VENV)/.deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -m "not browser" -p no:playwright
	$(PY) -m pytest -m browser

lint: $(VENV)/.deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.deps
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(VENV)/.deps
	$(PY) benchmarks/bench_runs.py

clean:
	rm -rf $(VENV) db.sqlite3
