"""Clean shutdown of the web process, with a real daphne and the fake ``claude``.

SIGTERM or SIGINT to daphne during a run: no new task starts, the run is marked cancelled
within a few seconds, the process exits, and the run can be resumed at once (no heartbeat to
wait for). Before, daphne stopped listening but lived on for minutes while the run crawled on
with a fresh heartbeat, so a restarted server refused to resume it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from skillcheck.processes import process_alive
from tests.fakes import fake_claude_calls, fake_claude_executable
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


# --- claude children and their folders (issue 21) ------------------------------------------


def _cli_calls(log: Path) -> list[dict[str, Any]]:
    return fake_claude_calls(log)


def _cli_pids(log: Path) -> set[int]:
    """Every fake ``claude`` and the child each started (FAKE_CLAUDE_HANG)."""
    return {pid for c in _cli_calls(log) for pid in (c["pid"], c.get("child_pid")) if pid}


def _workdirs(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.glob("skillcheck-claude-*"))


@pytest.fixture
def hanging(tmp_path: Path):
    """The environment of a server whose ``claude`` calls hang (each with a child of its own),
    logged, with a temp folder of its own; the hung processes are killed after the test."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    log = tmp_path / "cli-calls.jsonl"
    env = child_env(
        tmp_path,
        drop=("FAKE_CLAUDE_", "REDIS"),
        SKILLCHECK_CLAUDE_BIN=str(fake_claude_executable(tmp_path / "bin")),
        FAKE_CLAUDE_HANG="1",
        FAKE_CLAUDE_LOG=str(log),
        SKILLCHECK_SHUTDOWN_GRACE_S="0.5",
        ANTHROPIC_API_KEY="",
        TMPDIR=str(tmp),
    )
    yield {"env": env, "log": log, "tmp": tmp, "db": tmp_path / "db.sqlite3"}
    for pid in _cli_pids(log):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def _daphne_with_a_hanging_run(tmp_path: Path, hanging: dict[str, Any]):
    """daphne serving ``hanging``'s environment, with a run whose two calls hang: (the
    processes, the run id); stopped afterwards."""
    migrate(hanging["env"])
    procs = Processes(tmp_path, hanging["env"])
    port = free_port()
    procs.start_daphne("web", port)
    try:
        procs.wait_for_port("web", port)
        created = _post(
            f"http://127.0.0.1:{port}/api/heatmap/run",
            {"domains": [DOMAIN], "models": ["sonnet"], "concurrency": 2},
        )
        wait_for(lambda: len(_cli_calls(hanging["log"])) >= 2, 20, "claude calls in flight")
        yield procs, created["run_id"]
    finally:
        procs.stop_all()


def test_sigterm_to_daphne_ends_its_claude_children_and_their_folders(tmp_path, hanging):
    """SIGTERM to daphne left each ``claude`` (its own process group) running, for good."""
    with _daphne_with_a_hanging_run(tmp_path, hanging) as (procs, run_id):
        pids = _cli_pids(hanging["log"])
        assert len(pids) >= 4 and all(process_alive(p) for p in pids)
        assert len(_workdirs(hanging["tmp"])) >= 2

        procs.signal_and_wait("web", signal.SIGTERM, within_s=EXIT_WITHIN_S)

        assert [p for p in pids if process_alive(p)] == []
        assert run_row(hanging["db"], run_id)["status"] == "cancelled"
        assert "ended 2 claude process group(s)" in procs.log("web")


def test_the_folders_of_a_killed_server_are_removed_at_the_next_start(tmp_path, hanging):
    """SIGKILL leaves no chance to clean up: the next process that calls ``claude`` removes
    the folders of processes that are gone, and leaves those of live ones."""
    env, log, tmp = hanging["env"], hanging["log"], hanging["tmp"]
    with _daphne_with_a_hanging_run(tmp_path, hanging) as (procs, run_id):
        procs.signal_and_wait("web", signal.SIGKILL, within_s=EXIT_WITHIN_S)
    for pid in _cli_pids(log):
        os.kill(pid, signal.SIGKILL)
    left = _workdirs(tmp)
    assert len(left) >= 2
    (tmp / f"skillcheck-claude-{os.getpid()}-in-use").mkdir()  # a live process's call

    quick = {k: v for k, v in env.items() if k != "FAKE_CLAUDE_HANG"}
    manage("run_scored", "--resume", run_id, "--json", env=quick, check=True)

    assert _workdirs(tmp) == [f"skillcheck-claude-{os.getpid()}-in-use"]
    assert run_row(hanging["db"], run_id)["status"] == "completed"
