"""A throwaway PostgreSQL server for the test session (``pytest --postgres``).

The tests marked ``both_databases`` run a second time on PostgreSQL, against a cluster made
for the session: ``initdb`` into a temporary folder, ``pg_ctl start`` on a free loopback port
(no Unix socket, trust authentication, durability off for speed), ``pg_ctl stop`` at the end.
``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres`` system
user (``runuser``). ``SKILLCHECK_TEST_POSTGRES_URL`` points the run at an existing server
instead (its user must be allowed to create the test database).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.processes import free_port

START_TIMEOUT_S = 30.0
EXISTING_SERVER_ENV = "SKILLCHECK_TEST_POSTGRES_URL"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says what to install."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def bin_dir() -> Path | None:
    """Debian keeps the server programs out of PATH, in /usr/lib/postgresql/<version>/bin."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def unavailable_reason() -> str | None:
    """Why ``--postgres`` cannot run here, or None when it can."""
    if os.environ.get(EXISTING_SERVER_ENV):
        return None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (the project's `postgres` extra)"
    if bin_dir() is None:
        return "PostgreSQL is not installed (apt-get install postgresql)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root needs runuser to start PostgreSQL as the postgres user"
    return None


@dataclass
class PostgresServer:
    """One cluster in ``data_dir``, served on ``127.0.0.1:port`` to the superuser ``user``."""

    folder: Path
    port: int
    user: str
    bin: Path

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/skillcheck"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT_S)
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(
                f"{args[0]} failed ({done.returncode}): {done.stdout}{done.stderr}{tail}"
            )

    @classmethod
    def start(cls, *, max_connections: int = 200, reserved: int = 3) -> PostgresServer:
        """A new cluster, started; ``max_connections`` and ``reserved`` (the slots kept for
        superusers, which the test user is) as the server's settings."""
        binaries = bin_dir()
        if binaries is None:
            raise PostgresUnavailable("PostgreSQL is not installed (apt-get install postgresql)")
        # Not under pytest's tmp_path: that folder is private to root, and as root the server
        # runs as the postgres user, who must own the cluster's folder.
        folder = Path(tempfile.mkdtemp(prefix="skillcheck-pg-"))
        user = "postgres" if os.geteuid() == 0 else os.environ.get("USER") or "postgres"
        if os.geteuid() == 0:
            shutil.chown(folder, user=user)
        server = cls(folder=folder, port=free_port(), user=user, bin=binaries)
        server._run(
            *("initdb", "-D", str(server.data_dir), "-U", user, "--auth=trust"),
            *("--encoding=UTF8", "--no-locale", "--no-sync"),
        )
        options = " ".join(
            [
                f"-p {server.port}",
                "-c listen_addresses=127.0.0.1",
                "-c unix_socket_directories=''",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                f"-c max_connections={max_connections}",
                f"-c superuser_reserved_connections={reserved}",
            ]
        )
        server._run(
            *("pg_ctl", "start", "-w", "-t", str(int(START_TIMEOUT_S))),
            *("-D", str(server.data_dir), "-l", str(folder / "server.log"), "-o", options),
        )
        return server

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise PostgresUnavailable(f"PostgreSQL did not listen on port {self.port}")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "stop", "-m", "immediate", "-D", str(self.data_dir))
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def point_django_at(url: str) -> None:
    """Make Django's default database ``url`` (before any test database is set up).

    Settings were read when pytest-django configured Django, so the connection handler's
    cached settings and any connection already made are dropped, and rebuilt on first use.
    """
    import dj_database_url
    from django.conf import settings
    from django.db import connections

    for alias in list(connections.settings):
        if hasattr(connections._connections, alias):
            connections[alias].close()
            del connections[alias]
    settings.DATABASES["default"] = dj_database_url.parse(url, conn_max_age=0)
    connections.__dict__.pop("settings", None)  # a cached_property
