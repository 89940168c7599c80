"""Real child processes for tests: ``manage.py`` commands, daphne, ``runworker``, redis.

One way to build a ``manage.py`` command line, run it, start long-lived children in their
own process groups with their output in a log file, wait for them, stop them, and read what
they left in their SQLite file.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 15.0
T = TypeVar("T")


def free_ports(count: int) -> list[int]:
    """``count`` different free loopback ports. Each socket stays bound until all are
    chosen: closed at once, the kernel may hand the same port out again."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def redis_server_bin() -> str:
    """The ``redis-server`` executable; the test is skipped without it, except in CI."""
    path = shutil.which("redis-server")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("redis-server is required in CI (.ci/run installs it with apt-get)")
    pytest.skip("redis-server is not installed (apt-get install redis-server); required in CI")


def free_port() -> int:
    return free_ports(1)[0]


def child_env(folder: Path, *, drop: tuple[str, ...] = (), **variables: str) -> dict[str, str]:
    """This process's environment for a child whose database (``folder/db.sqlite3``) and
    reports (``folder/reports``) are its own, with ``variables`` added and the variables
    whose names start with one of ``drop`` left out."""
    env = {k: v for k, v in os.environ.items() if not (drop and k.startswith(drop))}
    return {
        **env,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "SKILLCHECK_REPORTS_DIR": str(folder / "reports"),
        "DJANGO_SETTINGS_MODULE": "simsite.settings",
        "PYTHONUNBUFFERED": "1",
        **variables,
    }


def manage_args(*args: str, python_flags: tuple[str, ...] = ()) -> list[str]:
    """The command line of ``python [FLAGS] manage.py ARGS`` (run from the project folder)."""
    return [sys.executable, *python_flags, "manage.py", *args]


def manage(
    *args: str,
    env: dict[str, str],
    check: bool = False,
    timeout: float = 120,
    python_flags: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py ARGS`` to the end; ``check`` fails the test, with its output, unless 0."""
    done = subprocess.run(
        manage_args(*args, python_flags=python_flags),
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert done.returncode == 0, f"manage.py {' '.join(args)}: {done.stdout}{done.stderr}"
    return done


def python(
    code: str, *, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -c CODE`` from the project folder to the end."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def manage_popen(*args: str, env: dict[str, str], text: bool = True) -> subprocess.Popen:
    """Start ``manage.py ARGS`` with its stdout and stderr in pipes (read them or close them)."""
    return subprocess.Popen(
        manage_args(*args),
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=text,
    )


_migrated_template: Path | None = None


def migrate(env: dict[str, str]) -> None:
    """Give the SQLite file ``env`` names (``DATABASE_URL``) every table.

    It becomes a copy of one file that ``manage.py migrate`` built once for the session: a
    migrate in a child process takes 2 to 9 s here, and each test that starts processes
    needs a fresh database.
    """
    global _migrated_template
    if _migrated_template is None:
        folder = Path(tempfile.mkdtemp(prefix="skillcheck-migrated-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "db.sqlite3"
        at_template = {**env, "DATABASE_URL": f"sqlite:///{template}"}
        manage("migrate", "--noinput", env=at_template, check=True)
        _migrated_template = template
    # The backup API copies a consistent database, whatever its journal (WAL) holds.
    source = sqlite3.connect(_migrated_template)
    copy = sqlite3.connect(sqlite_path(env))
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def sqlite_path(env: dict[str, str]) -> Path:
    return Path(env["DATABASE_URL"].removeprefix("sqlite:///"))


def run_row(db: Path, run_id: str) -> dict[str, Any]:
    """A run's row in a child's SQLite file, and ``task_rows``: how many task rows it has."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM heatmap_run WHERE run_id = ?", (run_id,)).fetchone()
        tasks = conn.execute(
            "SELECT COUNT(*) FROM heatmap_taskresult t JOIN heatmap_run r ON t.run_id = r.id "
            "WHERE r.run_id = ?",
            (run_id,),
        ).fetchone()[0]
    return {**dict(row), "task_rows": tasks}


def task_risks(db: Path, run_id: str, *, errors: bool = True) -> dict[tuple[str, str, str], str]:
    """A run's tasks in a child's SQLite file: (scenario, skill, model) → risk level, in the
    order they were saved.

    ``errors=False`` leaves out the tasks that ended in an error.
    """
    where = "" if errors else " AND t.error = ''"
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT t.scenario_id, t.skill, t.model, t.risk_level FROM heatmap_taskresult t "
            "JOIN heatmap_run r ON t.run_id = r.id WHERE r.run_id = ?" + where + " ORDER BY t.id",
            (run_id,),
        ).fetchall()
    return {(scenario, skill, model): risk for scenario, skill, model, risk in rows}


def wait_for(predicate: Callable[[], T], timeout: float, what: str) -> T:
    """Poll ``predicate`` until it returns something true, which is returned; else fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}")


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

    def start_manage(self, name: str, *args: str) -> subprocess.Popen:
        return self.start(name, *manage_args(*args))

    def start_daphne(self, name: str, port: int) -> subprocess.Popen:
        """The project's ASGI app under daphne on 127.0.0.1:``port``, as ``make run`` serves it."""
        daphne = (sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port))
        return self.start(name, *daphne, "simsite.asgi:application")

    def start_redis(self, name: str, port: int) -> subprocess.Popen:
        """redis-server on 127.0.0.1:``port``, keeping nothing on disk."""
        return self.start(
            name,
            redis_server_bin(),
            *("--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
        )

    def process(self, name: str) -> subprocess.Popen:
        return self.started[name][0]

    def log(self, name: str) -> str:
        return self.started[name][1].read_text(errors="replace")

    def wait_for_port(self, name: str, port: int) -> None:
        proc = self.process(name)
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

    def signal_and_wait(self, name: str, signum: signal.Signals, *, within_s: float) -> float:
        """Send ``signum`` to a started process and wait for its exit: the seconds it took.

        The test fails, showing the process's log, if it is still alive after ``within_s``.
        """
        proc = self.process(name)
        signalled = time.monotonic()
        proc.send_signal(signum)
        try:
            proc.wait(within_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name} still alive {within_s:g} s after {signum.name}:\n{self.log(name)}")
        return time.monotonic() - signalled

    def assert_run_handed_back(self, name: str, db: Path, run_id: str, total: int) -> None:
        """After a shutdown signal: ``name`` stopped its one run part-way, cancelled (so it
        resumes at once), with every task it finished counted, and logged no traceback."""
        row = run_row(db, run_id)
        assert row["status"] == "cancelled", row
        assert 1 <= row["task_rows"] < total and row["completed"] == row["task_rows"], row
        log = self.log(name)
        assert "stopping 1 run(s)" in log and "Traceback" not in log, log

    def stop(self, name: str) -> None:
        proc = self.process(name)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def stop_all(self) -> None:
        """Stop every child, newest first, and print the end of each log (pytest shows it
        when the test fails)."""
        for name in reversed(list(self.started)):
            self.stop(name)
        for name in self.started:
            print(f"--- {name}.log\n{self.log(name)[-3000:]}")
