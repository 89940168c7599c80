"""Clean shutdown of the web process, with a real daphne and the fake ``claude``.

SIGTERM or SIGINT to daphne during a run: no new task starts, the run is marked cancelled
within a few seconds, the process exits, and the run can be resumed at once (no heartbeat to
wait for). Before, daphne stopped listening but lived on for minutes while the run crawled on
with a fresh heartbeat, so a restarted server refused to resume it.
"""

from __future__ import annotations

import json
import signal
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import fake_claude_executable
from tests.processes import Processes, child_env, free_port, manage, migrate, run_row, wait_for

DOMAIN = "price-tracking"
TASK_DELAY_S = "1.5"
EXIT_WITHIN_S = 10.0


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def web(tmp_path: Path):
    """A migrated SQLite file and daphne serving the app with slow fake-claude answers."""
    port = free_port()
    env = child_env(
        tmp_path,
        drop=("FAKE_CLAUDE_", "REDIS"),
        SKILLCHECK_CLAUDE_BIN=str(fake_claude_executable(tmp_path / "bin")),
        FAKE_CLAUDE_DELAY_S=TASK_DELAY_S,
        FAKE_CLAUDE_STATE_DIR=str(tmp_path / "fake-state"),
        ANTHROPIC_API_KEY="",
    )
    migrate(env)
    procs = Processes(tmp_path, env)
    procs.start_daphne("web", port)
    try:
        procs.wait_for_port("web", port)
        yield {"procs": procs, "base": f"http://127.0.0.1:{port}", "env": env, "tmp": tmp_path}
    finally:
        procs.stop_all()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_daphne_cancels_its_run_and_exits_and_the_run_resumes_at_once(web, signum):
    base, db = web["base"], web["tmp"] / "db.sqlite3"
    created = _post(
        f"{base}/api/heatmap/run", {"domains": [DOMAIN], "models": ["sonnet"], "concurrency": 2}
    )
    run_id, total = created["run_id"], created["total"]
    assert total >= 4, created
    wait_for(lambda: _get(f"{base}/api/heatmap/run/{run_id}")["done"] >= 1, 20, "a first task")

    took = web["procs"].signal_and_wait("web", signum, within_s=EXIT_WITHIN_S)
    web["procs"].assert_run_handed_back("web", db, run_id, total)
    print(f"{signum.name}: daphne exited {took:.1f} s after the signal")

    quick = {**web["env"], "FAKE_CLAUDE_DELAY_S": "0"}
    manage("run_scored", "--resume", run_id, "--json", env=quick, check=True)
    row = run_row(db, run_id)
    assert (row["status"], row["completed"], row["failed"]) == ("completed", total, 0), row
