"""Scale-out with real processes: Redis channel layer, daphne, and ``runworker run-worker``.

The claim under test (README "Scaling out"): with ``REDIS_URL`` set, the web process only
creates the run and hands it to the named channel ``run-worker``; a separate
``manage.py runworker run-worker`` process executes it and broadcasts its events to the run's
group, which a WebSocket client of the web process receives; the database they share holds
the rest. Needs ``redis-server`` (``.ci/run`` installs it): skipped without it, except in CI.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from websockets.asyncio.client import connect

PROJECT_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 15.0
RUN_TIMEOUT_S = 20.0
# channels_redis waits on Redis in blocking pops of 5 s: consumers must outlive an idle pop.
IDLE_S = 6.0


def _redis_server() -> str:
    path = shutil.which("redis-server")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("redis-server is required in CI (.ci/run installs it with apt-get)")
    pytest.skip("redis-server is not installed (apt-get install redis-server); required in CI")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Child processes in their own process groups, each logging to a file; all stopped."""

    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder = folder
        self.env = env
        self.started: dict[str, tuple[subprocess.Popen, Path]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                args,
                cwd=PROJECT_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started[name] = (proc, log)
        return proc

    def log(self, name: str) -> str:
        return self.started[name][1].read_text(errors="replace")

    def wait_for_port(self, name: str, port: int) -> None:
        proc = self.started[name][0]
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}:\n{self.log(name)}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"{name} did not listen on port {port}:\n{self.log(name)}")

    def stop(self, name: str) -> None:
        proc = self.started[name][0]
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def stop_all(self) -> None:
        for name in reversed(list(self.started)):
            self.stop(name)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """redis-server, a migrated file database and a daphne web process; no worker yet."""
    redis_bin = _redis_server()
    redis_port, web_port = _free_port(), _free_port()
    reports = tmp_path / "reports"
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SKILLCHECK_REPORTS_DIR": str(reports),
        "DJANGO_SETTINGS_MODULE": "simsite.settings",
        "PYTHONUNBUFFERED": "1",
    }
    procs = Processes(tmp_path, env)
    try:
        procs.start(
            "redis",
            redis_bin,
            *("--port", str(redis_port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(tmp_path)),
        )
        # daphne needs the tables only when requests arrive: start it while migrating.
        procs.start(
            "web",
            *(sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(web_port)),
            "simsite.asgi:application",
        )
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        procs.wait_for_port("redis", redis_port)
        procs.wait_for_port("web", web_port)
        yield {
            "procs": procs,
            "base": f"http://127.0.0.1:{web_port}",
            "ws": f"ws://127.0.0.1:{web_port}",
            "db": tmp_path / "db.sqlite3",
            "reports": reports,
            "redis": redis.Redis.from_url(env["REDIS_URL"]),
        }
    finally:
        procs.stop_all()
        for name in procs.started:  # shown by pytest when the test fails
            print(f"--- {name}.log\n{procs.log(name)[-3000:]}")


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


def _start_worker(procs: Processes) -> None:
    procs.start("worker", sys.executable, "manage.py", "runworker", "run-worker")


async def _events_then_idle(socket_url: str, origin: str, stack: dict[str, Any], checks) -> list:
    """Connect to the run's progress socket, start the worker, collect events to the end.

    Then, while ``checks`` run, stay idle long enough for a blocking pop to time out, and
    make sure the socket still answers (the consumers of both processes must survive idling).
    """
    events = []
    async with connect(socket_url, origin=origin, open_timeout=10) as ws:
        _start_worker(stack["procs"])
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


def _db_tasks(db: Path, run_id: str) -> dict[tuple[str, str, str], str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT t.scenario_id, t.skill, t.model, t.risk_level FROM heatmap_taskresult t "
            "JOIN heatmap_run r ON t.run_id = r.id WHERE r.run_id = ? AND t.error = ''",
            (run_id,),
        ).fetchall()
    return {(scenario, skill, model): risk for scenario, skill, model, risk in rows}


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
    domains = [d["id"] for d in listing["domains"]][:2]
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
        assert from_report == _db_tasks(stack["db"], run_id)

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
    assert procs.started["worker"][0].poll() is None, "the worker died"
    assert "Running worker for channels ['run-worker']" in procs.log("worker")
    for name in ("web", "worker"):
        assert "Traceback" not in procs.log(name), procs.log(name)
