"""Issue 21 (6): two ``run_scored --resume`` of one run at once, as two real processes.

Before, on SQLite both could run (4 calls for 2 missing tasks, an IntegrityError, the run
ended ``failed``). Now the run is claimed with one conditional UPDATE (status and owner in
its WHERE): on SQLite and PostgreSQL exactly one resume runs, the other is refused with a
clear message and makes no call.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.processes import child_env, manage, manage_popen, migrate

pytestmark = pytest.mark.both_databases

DOMAIN = "competitive-intelligence"
TRIALS = 3
MISSING = 2


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of the children's own: a SQLite file, or (``--postgres``) a new database
    on the session's PostgreSQL server."""
    if not request.config.getoption("--postgres"):
        return f"sqlite:///{tmp_path / 'db.sqlite3'}"
    import psycopg

    server = request.getfixturevalue("postgres_url")
    name = f"claim_{secrets.token_hex(4)}"
    with psycopg.connect(server.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + f"/{name}"


def query(url: str, sql: str, *params: Any) -> list[tuple]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return conn.execute(sql, params).fetchall()
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql.replace("?", "%s"), params).fetchall()


def calls(log: Path) -> int:
    lines = log.read_text().splitlines() if log.exists() else []
    return sum(not json.loads(line).get("help") for line in lines)


@pytest.fixture
def env(tmp_path, fake_claude_bin, corpus_dir, database_url):
    env = child_env(
        tmp_path,
        SKILLCHECK_CATALOG=str(corpus_dir),
        FAKE_CLAUDE_LOG=str(tmp_path / "calls.jsonl"),
        SKILLCHECK_MAX_RETRIES="0",
        ANTHROPIC_API_KEY="",
        DATABASE_URL=database_url,
    )
    if database_url.startswith("sqlite:///"):
        migrate(env)
    else:
        manage("migrate", "--noinput", env=env, check=True)
    return env


def interrupted_run(env: dict[str, str], run_id: str) -> int:
    """A finished run with ``MISSING`` task rows removed and marked interrupted: its total."""
    manage(
        "run_scored",
        *("--models", "haiku", "--domains", DOMAIN, "--run-id", run_id, "--no-cache"),
        env=env,
        check=True,
    )
    url = env["DATABASE_URL"]
    [(total,)] = query(url, "SELECT total FROM heatmap_run WHERE run_id = ?", run_id)
    code = (
        "from heatmap.models import Run, TaskResult; "
        f"run = Run.objects.get(run_id={run_id!r}); "
        f"[t.delete() for t in run.tasks.order_by('-id')[:{MISSING}]]; "
        "Run.objects.filter(pk=run.pk).update(status='interrupted', completed=run.tasks.count())"
    )
    manage("shell", "-c", code, env=env, check=True)
    return total


def test_two_resumes_at_once_run_the_missing_tasks_once(env):
    url, log = env["DATABASE_URL"], Path(env["FAKE_CLAUDE_LOG"])
    slow = {**env, "FAKE_CLAUDE_DELAY_S": "1"}
    for trial in range(TRIALS):
        run_id = f"claim-{trial}"
        total = interrupted_run(env, run_id)
        before = calls(log)

        both = [manage_popen("run_scored", "--resume", run_id, "--json", env=slow) for _ in "ab"]
        outputs = [proc.communicate(timeout=120) for proc in both]
        codes = sorted(proc.returncode for proc in both)

        shown = "\n".join(out + err for out, err in outputs)
        assert codes[0] == 0 and codes[1] != 0, shown
        refused = next(err for (out, err), p in zip(outputs, both, strict=True) if p.returncode)
        # Refused wherever the race found it: running already, resumed already, or still
        # running (the winner had claimed it before the loser looked).
        assert f"run {run_id}" in refused, refused
        assert any(w in refused for w in ("already", "still running", "waiting")), refused
        assert "Traceback" not in shown and "IntegrityError" not in shown, shown
        assert calls(log) - before == MISSING, shown  # the loser made no call
        [(status, completed, failed)] = query(
            url, "SELECT status, completed, failed FROM heatmap_run WHERE run_id = ?", run_id
        )
        assert (status, completed, failed) == ("completed", total, 0), shown
        report = Path(env["SKILLCHECK_REPORTS_DIR"]) / f"scored_run_{run_id}.json"
        assert len(json.loads(report.read_text())["results"]) == total
