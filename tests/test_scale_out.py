"""Scale-out with real processes: Redis channel layer, daphne, and ``runworker run-worker``.

The claim under test (docs/how-to/scale-out.md): with ``REDIS_URL`` set, the web process only
creates the run and hands it to the named channel ``run-worker``; a separate
``manage.py runworker run-worker`` process executes it and broadcasts its events to the run's
group, which a WebSocket client of the web process receives; the database they share holds
the rest. Needs ``redis-server`` (``.ci/run`` installs it): skipped without it, except in CI.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from websockets.asyncio.client import connect

from tests.fakes import fake_claude_executable
from tests.processes import (
    Processes,
    child_env,
    free_ports,
    manage,
    migrate,
    run_row,
    task_risks,
    wait_for,
)

RUN_TIMEOUT_S = 20.0
# channels_redis waits on Redis in blocking pops of 5 s: consumers must outlive an idle pop.
IDLE_S = 6.0


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """redis-server, a migrated file database and a daphne web process; no worker yet."""
    with _stack(tmp_path) as started:
        yield started


@pytest.fixture
def slow_stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The stack with the fake ``claude`` answering in 1.5 s: runs last long enough to stop."""
    slow = {
        "SKILLCHECK_CLAUDE_BIN": str(fake_claude_executable(tmp_path / "bin")),
        "FAKE_CLAUDE_DELAY_S": "1.5",
        "FAKE_CLAUDE_STATE_DIR": str(tmp_path / "fake-state"),
        "ANTHROPIC_API_KEY": "",
    }
    with _stack(tmp_path, slow) as started:
        yield started


@contextlib.contextmanager
def _stack(tmp_path: Path, extra_env: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
    redis_port, web_port = free_ports(2)
    reports = tmp_path / "reports"
    env = child_env(
        tmp_path,
        drop=("FAKE_CLAUDE_",),
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        **(extra_env or {}),
    )
    procs = Processes(tmp_path, env)
    try:
        procs.start_redis("redis", redis_port)
        # daphne needs the tables only when requests arrive: start it while migrating.
        procs.start_daphne("web", web_port)
        migrate(env)
        procs.wait_for_port("redis", redis_port)
        procs.wait_for_port("web", web_port)
        yield {
            "procs": procs,
            "base": f"http://127.0.0.1:{web_port}",
            "ws": f"ws://127.0.0.1:{web_port}",
            "db": tmp_path / "db.sqlite3",
            "reports": reports,
            "redis": redis.Redis.from_url(env["REDIS_URL"]),
            "env": env,
        }
    finally:
        procs.stop_all()


def _http(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if data:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


async def _events_then_idle(socket_url: str, origin: str, stack: dict[str, Any], checks) -> list:
    """Connect to the run's progress socket, start the worker, collect events to the end.

    Then, while ``checks`` run, stay idle long enough for a blocking pop to time out, and
    make sure the socket still answers (the consumers of both processes must survive idling).
    """
    events = []
    async with connect(socket_url, origin=origin, open_timeout=10) as ws:
        stack["procs"].start_manage("worker", "runworker", "run-worker")
        async with asyncio.timeout(RUN_TIMEOUT_S):
            async for text in ws:
                events.append(json.loads(text))
                if events[-1]["type"] in ("completed", "error"):
                    break
        await asyncio.gather(checks(), asyncio.sleep(IDLE_S))
        await asyncio.wait_for(await ws.ping(), 5)
    return events


def _queued_for_worker(client: redis.Redis) -> int:
    """Messages waiting in Redis on the ``run-worker`` channel (a sorted set per channel)."""
    return sum(client.zcard(key) for key in client.scan_iter(match="*run-worker*"))


async def _finished_summary(base: str, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        _, summary = await asyncio.to_thread(_http, f"{base}/api/heatmap/run/{run_id}")
        if not summary["active"] or time.monotonic() > deadline:
            return summary
        await asyncio.sleep(0.2)


async def test_runworker_executes_the_web_process_run_and_the_socket_sees_its_progress(stack):
    base = stack["base"]
    status, listing = await asyncio.to_thread(_http, f"{base}/api/heatmap/domains")
    assert status == 200
    domains = [d["id"] for d in listing][:2]
    status, created = await asyncio.to_thread(
        _http, f"{base}/api/heatmap/run", {"domains": domains, "models": ["heuristic"]}
    )
    assert status == 201, created
    run_id, total = created["run_id"], created["total"]
    assert total > 0

    # No worker yet: the web process handed the run to Redis instead of executing it.
    assert _queued_for_worker(stack["redis"]) == 1
    await asyncio.sleep(0.5)
    status, pending = await asyncio.to_thread(_http, f"{base}/api/heatmap/run/{run_id}")
    assert (pending["status"], pending["done"]) == ("pending", 0), pending

    async def check_results() -> None:
        summary = await _finished_summary(base, run_id)
        assert summary["status"] == "completed", summary
        assert (summary["done"], summary["failed"]) == (total, 0), summary
        report = json.loads((stack["reports"] / f"scored_run_{run_id}.json").read_text())
        from_report = {
            (r["scenario_id"], r["skill"], r["model"]): r["risk_level"] for r in report["results"]
        }
        assert len(from_report) == total
        assert from_report == task_risks(stack["db"], run_id, errors=False)

    events = await _events_then_idle(
        f"{stack['ws']}/ws/runs/{run_id}/?format=json", base, stack, check_results
    )
    kinds = [e["type"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "completed", kinds
    progress = [e for e in events if e["type"] == "progress"]
    assert progress and progress[-1]["completed"] == total, progress[-3:]
    assert {e["run_id"] for e in events} == {run_id}

    assert _queued_for_worker(stack["redis"]) == 0
    procs = stack["procs"]
    assert procs.process("worker").poll() is None, "the worker died"
    assert "Running worker for channels ['run-worker']" in procs.log("worker")
    for name in ("web", "worker"):
        assert "Traceback" not in procs.log(name), procs.log(name)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_runworker_hands_its_run_back_resumable_at_once(slow_stack, signum):
    """As daphne does (tests/test_shutdown.py): the run ends ``cancelled`` within seconds and
    resumes at once, instead of looking alive until its heartbeat goes stale."""
    base, db, procs = slow_stack["base"], slow_stack["db"], slow_stack["procs"]
    procs.start_manage("worker", "runworker", "run-worker")
    status, created = _http(
        f"{base}/api/heatmap/run",
        {"domains": ["price-tracking"], "models": ["sonnet"], "concurrency": 2},
    )
    assert status == 201, created
    run_id, total = created["run_id"], created["total"]
    assert total >= 4, created
    wait_for(
        lambda: _http(f"{base}/api/heatmap/run/{run_id}")[1]["done"] >= 1,
        RUN_TIMEOUT_S,
        "the worker's first task",
    )

    took = procs.signal_and_wait("worker", signum, within_s=10)
    procs.assert_run_handed_back("worker", db, run_id, total)
    assert _http(f"{base}/api/heatmap/run/{run_id}")[1]["status"] == "cancelled"
    print(f"{signum.name}: runworker exited {took:.1f} s after the signal")

    resumed = manage(
        "run_scored",
        "--resume",
        run_id,
        "--json",
        env={**slow_stack["env"], "FAKE_CLAUDE_DELAY_S": "0"},
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    row = run_row(db, run_id)
    assert (row["status"], row["completed"], row["failed"]) == ("completed", total, 0), row


def test_sigterm_to_runworker_ends_its_claude_children(tmp_path):
    """runworker shuts down as daphne does: its hung ``claude`` calls (their process groups)
    end with it instead of running on, and the run is handed back at once."""
    from skillcheck.processes import process_alive
    from tests.test_shutdown import _cli_calls, _cli_pids

    log = tmp_path / "cli-calls.jsonl"
    hang = {
        "SKILLCHECK_CLAUDE_BIN": str(fake_claude_executable(tmp_path / "bin")),
        "FAKE_CLAUDE_HANG": "1",
        "FAKE_CLAUDE_LOG": str(log),
        "SKILLCHECK_SHUTDOWN_GRACE_S": "0.5",
        "ANTHROPIC_API_KEY": "",
    }
    try:
        with _stack(tmp_path, hang) as stack:
            procs = stack["procs"]
            procs.start_manage("worker", "runworker", "run-worker")
            status, created = _http(
                f"{stack['base']}/api/heatmap/run",
                {"domains": ["price-tracking"], "models": ["sonnet"], "concurrency": 2},
            )
            assert status == 201, created
            wait_for(lambda: len(_cli_calls(log)) >= 2, RUN_TIMEOUT_S, "claude calls in flight")
            pids = _cli_pids(log)

            procs.signal_and_wait("worker", signal.SIGTERM, within_s=10)

            assert [p for p in pids if process_alive(p)] == []
            assert run_row(stack["db"], created["run_id"])["status"] == "cancelled"
    finally:
        for pid in _cli_pids(log):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
