"""A real ``manage.py run_scored`` process, killed with SIGKILL or stopped with SIGTERM.

The child uses a file-based SQLite database and the fake ``claude`` (slowed down), so the
test can look at the database and the JSON exactly as a user would after a crash.
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.fakes import fake_claude_calls
from tests.processes import (
    child_env,
    manage,
    manage_popen,
    migrate,
    run_row,
    sqlite_path,
    task_risks,
)

DOMAINS = "competitive-intelligence"


# The fake claude (on PATH, slowed down) answers every model; a task fails at once; a run
# that stops beating is stale after a second.
RUN_SETTINGS = {
    "SKILLCHECK_HEARTBEAT_STALE_S": "1",
    "SKILLCHECK_MAX_RETRIES": "0",
    "ANTHROPIC_API_KEY": "",
    "FAKE_CLAUDE_DELAY_S": "0.4",
}


@pytest.fixture
def run_env(tmp_path, fake_claude_bin, corpus_dir):
    """The environment of the ``run_scored`` children, with a migrated database."""
    calls_log = str(tmp_path / "calls.jsonl")
    env = child_env(
        tmp_path, SKILLCHECK_CATALOG=str(corpus_dir), FAKE_CLAUDE_LOG=calls_log, **RUN_SETTINGS
    )
    migrate(env)
    return env


def calls(env) -> int:
    """Audit calls of the fake CLI (not its ``--help``, read once per run for isolation)."""
    return len(fake_claude_calls(Path(env["FAKE_CLAUDE_LOG"])))


def start_run(env, run_id: str, *, models: str, concurrency: int) -> subprocess.Popen:
    """``run_scored`` over DOMAINS in a child process, its output in pipes."""
    return manage_popen(
        "run_scored",
        *("--models", models, "--domains", DOMAINS, "--concurrency", str(concurrency)),
        *("--run-id", run_id),
        env=env,
    )


def kill9(proc: subprocess.Popen) -> None:
    """SIGKILL, as a crash does: the run's process writes nothing more."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    proc.stderr.close()


def wait_for_rows(env, run_id: str, count: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        try:
            if len(task_risks(sqlite_path(env), run_id)) >= count:
                return
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    pytest.fail(f"fewer than {count} tasks finished in time")


def json_rows(env, run_id: str) -> dict[tuple[str, str, str], str]:
    path = Path(env["SKILLCHECK_REPORTS_DIR"]) / f"scored_run_{run_id}.json"
    data = json.loads(path.read_text())  # must be valid JSON, whatever the moment of the kill
    assert data["result_count"] == len(data["results"])
    return {(r["scenario_id"], r["skill"], r["model"]): r["risk_level"] for r in data["results"]}


def test_sigkill_leaves_valid_json_and_db_that_agree_and_resume_finishes(run_env):
    env = run_env
    proc = start_run(env, "crash", models="haiku,sonnet", concurrency=3)
    wait_for_rows(env, "crash", 5, proc)
    time.sleep(0.3)
    kill9(proc)

    in_db = task_risks(sqlite_path(env), "crash")
    in_json = json_rows(env, "crash")
    total = run_row(sqlite_path(env), "crash")["total"]
    assert 5 <= len(in_db) < total
    # The JSON is the database as it was at one moment: the tasks committed first, in the
    # order they were committed, with the same risk levels. How many tasks it lags at the
    # kill depends on that moment (it is rewritten after each commit, or at most ~1 s later
    # once writes are throttled: test_reports), so no count is asserted here; a resume
    # rewrites it from the database, so nothing the database holds is lost (below).
    assert list(in_json.items()) == list(in_db.items())[: len(in_json)]

    # No wait for the heartbeat: on this host the killed owner is seen gone at once.
    marked = manage(
        "shell",
        "-c",
        "from heatmap.services.liveness import run_mark_stale_interrupted as m; print(m())",
        env=env,
        check=True,
    )
    assert marked.stdout.split()[-1] == "1"
    assert run_row(sqlite_path(env), "crash")["status"] == "interrupted"

    calls_before_resume = calls(env)
    resumed = manage("run_scored", "--resume", "crash", "--json", env=env, check=True)
    summary = json.loads(resumed.stdout)
    assert summary["status"] == "completed" and summary["completed"] == total
    assert summary["failed"] == 0
    final_db, final_json = task_risks(sqlite_path(env), "crash"), json_rows(env, "crash")
    assert len(final_db) == total and final_json == final_db
    assert in_db.items() <= final_json.items()  # every task finished before the kill is kept
    # Every task exactly once: the resume called only what the database did not hold.
    assert calls(env) - calls_before_resume == total - len(in_db)
    row = run_row(sqlite_path(env), "crash")
    assert row["completed"] == total and row["status"] == "completed"


def test_sigterm_cancels_cleanly_and_prints_the_resume_command(run_env):
    env = run_env
    proc = start_run(env, "term", models="haiku", concurrency=2)
    wait_for_rows(env, "term", 2, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "python manage.py run_scored --resume term" in out
    assert out.splitlines()[0].startswith("Run term: ")
    row = run_row(sqlite_path(env), "term")
    assert row["status"] == "cancelled" and row["completed"] < row["total"]
    assert json_rows(env, "term") == task_risks(sqlite_path(env), "term")


def test_resume_right_after_sigkill_needs_no_wait_for_the_heartbeat(run_env):
    """On the run's own host its dead process is seen at once; a live one still refuses."""
    # Slow tasks, so the run is still going when the first resume is refused.
    env = {**run_env, "SKILLCHECK_HEARTBEAT_STALE_S": "600", "FAKE_CLAUDE_DELAY_S": "3"}
    proc = start_run(env, "k9", models="haiku", concurrency=2)
    wait_for_rows(env, "k9", 1, proc)
    row = run_row(sqlite_path(env), "k9")
    assert (row["owner_host"], row["owner_pid"]) == (socket.gethostname(), proc.pid)
    refused = manage("run_scored", "--resume", "k9", env=env, check=False)
    assert refused.returncode == 2
    assert f"still running (process {proc.pid} on this host)" in refused.stderr

    kill9(proc)
    assert run_row(sqlite_path(env), "k9")["status"] == "running"  # nobody has looked yet

    quick = {**env, "FAKE_CLAUDE_DELAY_S": "0.05"}
    resumed = manage("run_scored", "--resume", "k9", "--json", env=quick, check=True)
    summary = json.loads(resumed.stdout)
    assert summary["status"] == "completed" and summary["completed"] == summary["total"]
    assert run_row(sqlite_path(env), "k9")["owner_pid"] not in (None, proc.pid)
