"""Database connections: a pool per process on PostgreSQL, sized from the environment, and a
503 with ``Retry-After`` (not a 500) when no connection can be had.

The last tests start a PostgreSQL server of their own on loopback with room for three
connections, take them all from here, and ask a real daphne for pages: with the pool (its
timeout) and without it (the server's "too many clients"). Skipped where PostgreSQL is not
installed, except in CI.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import OperationalError
from django.test import RequestFactory
from psycopg_pool import PoolTimeout

from heatmap import middleware
from tests import postgres
from tests.processes import Processes, child_env, free_port, python

# --- Sizing from the environment -------------------------------------------------------------

PRINT_DATABASE = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.DATABASES['default'], default=str))"
)


def _database_settings(tmp_path: Path, **variables: str) -> dict:
    env = child_env(tmp_path, drop=("SKILLCHECK_DB_",), **variables)
    done = python(PRINT_DATABASE, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


PG_URL = "postgres://app@127.0.0.1:1/skillcheck"


@pytest.mark.parametrize(
    ("variables", "max_size"),
    [
        ({}, 20),  # 80 connections for 4 processes (2 daphne, 2 runworker)
        ({"SKILLCHECK_DB_PROCESSES": "8"}, 10),
        ({"SKILLCHECK_DB_CONNECTIONS": "190", "SKILLCHECK_DB_PROCESSES": "6"}, 31),
        ({"SKILLCHECK_DB_POOL_SIZE": "7"}, 7),
    ],
    ids=["default", "eight-processes", "bigger-server", "explicit"],
)
def test_postgres_gets_a_pool_sized_from_processes_and_connections(tmp_path, variables, max_size):
    database = _database_settings(tmp_path, DATABASE_URL=PG_URL, **variables)
    pool = database["OPTIONS"]["pool"]
    assert pool["max_size"] == max_size
    assert pool["min_size"] == 2 and pool["timeout"] == 10
    # A pool refuses persistent connections; handed-out connections are checked.
    assert database["CONN_MAX_AGE"] == 0 and database["CONN_HEALTH_CHECKS"] is True


def test_the_pool_can_be_turned_off_and_sqlite_has_none(tmp_path):
    off = _database_settings(tmp_path, DATABASE_URL=PG_URL, SKILLCHECK_DB_POOL="0")
    assert "pool" not in off["OPTIONS"]
    sqlite = _database_settings(tmp_path)
    assert "pool" not in sqlite["OPTIONS"]


# --- Which errors are "busy" -----------------------------------------------------------------


def _wrapped(cause: BaseException) -> OperationalError:
    """``cause`` as Django raises it: its OperationalError, from the driver's."""
    try:
        try:
            raise cause
        except BaseException as exc:
            raise OperationalError(str(exc)) from exc
    except OperationalError as wrapped:
        return wrapped


@pytest.mark.parametrize(
    "cause",
    [
        PoolTimeout("couldn't get a connection after 10.00 sec"),
        psycopg.OperationalError(
            'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
            "FATAL:  sorry, too many clients already"
        ),
        psycopg.OperationalError(
            "FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute"
        ),
        psycopg.OperationalError("FATAL:  the database system is starting up"),
    ],
    ids=["pool-timeout", "too-many-clients", "reserved-slots", "starting-up"],
)
def test_running_out_of_connections_counts_as_busy(cause):
    assert middleware.connections_exhausted(_wrapped(cause))


def test_other_database_errors_are_not_busy():
    refused = psycopg.OperationalError('connection to server at "127.0.0.1" failed: refused')
    assert not middleware.connections_exhausted(_wrapped(refused))
    assert not middleware.connections_exhausted(OperationalError("no such table: heatmap_run"))


class _NoConnection:
    def __init__(self, error: Exception):
        self.error = error

    def ensure_connection(self) -> None:
        raise self.error


def _through_middleware(monkeypatch, path: str, error: Exception):
    monkeypatch.setattr(middleware, "connection", _NoConnection(error))
    busy = middleware.DatabaseBusyMiddleware(lambda request: pytest.fail("the view ran"))
    return busy(RequestFactory().get(path))


def test_a_page_without_a_connection_is_a_503_that_retries(monkeypatch, settings):
    settings.SKILLCHECK_DB_RETRY_AFTER_S = 7
    response = _through_middleware(monkeypatch, "/heatmap/", _wrapped(PoolTimeout("timeout")))
    assert response.status_code == 503
    assert response["Retry-After"] == "7" and response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "Busy (503)" in html and '<meta http-equiv="refresh" content="7">' in html


def test_the_api_without_a_connection_is_a_json_503(monkeypatch):
    response = _through_middleware(
        monkeypatch, "/api/heatmap/models", _wrapped(PoolTimeout("timeout"))
    )
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "no database connection free" in json.loads(response.content)["error"]


def test_a_refused_request_is_logged_as_a_warning_not_an_error(monkeypatch, client, caplog):
    """Load shedding is not a fault: one warning per refused request, no error (which
    AdminEmailHandler would mail)."""
    monkeypatch.setattr(middleware, "connection", _NoConnection(_wrapped(PoolTimeout("t"))))
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = client.get("/api/heatmap/models")
    assert response.status_code == 503
    logged = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "django.request"]
    assert logged == [
        (logging.WARNING, "Service Unavailable (no database connection free): /api/heatmap/models")
    ]


def test_another_connection_error_is_left_to_the_500_handler(monkeypatch):
    with pytest.raises(OperationalError):
        _through_middleware(monkeypatch, "/heatmap/", OperationalError("connection refused"))


def test_a_view_that_runs_out_is_a_503_too():
    busy = middleware.DatabaseBusyMiddleware(lambda request: None)
    request = RequestFactory().get("/heatmap/")
    response = busy.process_exception(request, _wrapped(PoolTimeout("timeout")))
    assert response is not None and response.status_code == 503
    assert busy.process_exception(request, OperationalError("disk full")) is None


# --- A real server with room for three connections ------------------------------------------

ROOM = 3


@pytest.fixture
def tiny_postgres() -> Iterator[postgres.PostgresServer]:
    reason = postgres.unavailable_reason()
    if reason is not None or postgres.bin_dir() is None:
        if postgres.in_ci():
            pytest.fail(f"PostgreSQL is required in CI: {reason}")
        pytest.skip(reason or "PostgreSQL is not installed")
    server = postgres.PostgresServer.start(max_connections=ROOM, reserved=0)
    try:
        server.wait_ready()
        with psycopg.connect(server.url.replace("/skillcheck", "/postgres")) as admin:
            admin.autocommit = True
            admin.execute("CREATE DATABASE skillcheck")
        yield server
    finally:
        server.stop()


def _get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def _fill(url: str, held: list[psycopg.Connection]) -> None:
    while True:
        try:
            held.append(psycopg.connect(url, connect_timeout=5, autocommit=True))
        except psycopg.OperationalError as exc:
            assert "too many clients" in str(exc), exc
            return


@contextlib.contextmanager
def _server_full(url: str) -> Iterator[None]:
    """Every connection the server allows is held here: the free ones are taken, then the
    app's (its pool keeps some) are ended and taken too."""
    held: list[psycopg.Connection] = []
    try:
        _fill(url, held)
        ours = [conn.info.backend_pid for conn in held]
        held[0].execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> ALL(%s)",
            (ours,),
        )
        deadline = time.monotonic() + 10
        while len(held) < ROOM and time.monotonic() < deadline:
            _fill(url, held)
        assert len(held) == ROOM
        yield
    finally:
        for conn in held:
            conn.close()


@pytest.mark.parametrize("pool", ["1", "0"], ids=["pool", "no-pool"])
def test_a_full_postgres_server_answers_503_then_serves_again(tmp_path, tiny_postgres, pool):
    port = free_port()
    env = child_env(
        tmp_path,
        drop=("SKILLCHECK_DB_",),
        DATABASE_URL=tiny_postgres.url,
        SKILLCHECK_DB_POOL=pool,
        SKILLCHECK_DB_POOL_SIZE="2",
        SKILLCHECK_DB_POOL_TIMEOUT_S="0.5",
        SKILLCHECK_DB_RETRY_AFTER_S="3",
    )
    procs = Processes(tmp_path, env)
    try:
        procs.start_daphne("web", port)
        procs.wait_for_port("web", port)
        base = f"http://127.0.0.1:{port}"
        # The sign-in page needs a connection (the middleware takes it) but no table.
        assert _get(f"{base}/accounts/login/")[0] == 200
        with _server_full(tiny_postgres.url):
            asked = time.monotonic()
            status, headers, body = _get(f"{base}/accounts/login/")
            print(f"503 after {time.monotonic() - asked:.2f} s")
            assert status == 503, body
            assert headers["Retry-After"] == "3" and "Busy (503)" in body
            status, headers, body = _get(f"{base}/api/heatmap/models")
            assert status == 503 and headers["Retry-After"] == "3", body
            assert "no database connection free" in json.loads(body)["error"]
        # The pool connects again in the background, backing off after its failures: the
        # server serves within seconds of a connection coming free.
        freed = time.monotonic()
        while _get(f"{base}/accounts/login/")[0] != 200:
            assert time.monotonic() - freed < 20, "no page 20 s after the server had room"
            time.sleep(0.2)
        print(f"served again {time.monotonic() - freed:.2f} s after")
        log = procs.log("web")
        assert "Traceback" not in log, log
    finally:
        procs.stop_all()
