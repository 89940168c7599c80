"""A live ASGI server (daphne, in a child process) and system Chromium for browser tests.

pytest-django's ``live_server`` is WSGI, where WebSockets and in-process runs never happen,
so the app runs under ``daphne.testing.DaphneProcess`` against a file-based test database
the child process can open. Runs use the fake ``claude`` with a delay, so cells fill slowly
enough to watch.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FAKE_DELAY_S = "1.2"
POLL_S = 1


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).is_file() or "not browser" in (config.option.markexpr or ""):
        return
    message = f"no Chromium at {CHROMIUM}: apt-get install -y chromium (browser tests)"
    if not any("browser" in item.keywords for item in items):
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.exit(f"CI=true requires the browser tests, but {message}", returncode=1)
    marker = pytest.mark.skip(reason=message)
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(marker)


@pytest.fixture(scope="session", autouse=True)
def allow_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API keeps an event loop running in the main thread; the ORM calls
    the tests make to arrange data would otherwise raise SynchronousOnlyOperation."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory) -> None:
    """A test database on disk: the server child process must see the same data."""
    from django.conf import settings

    path = tmp_path_factory.mktemp("browser-db") / "test.sqlite3"
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture(scope="session")
def fake_claude_path(tmp_path_factory) -> Path:
    from tests.fakes import fake_claude_executable

    return fake_claude_executable(tmp_path_factory.mktemp("fake-claude-bin"))


@contextmanager
def daphne_server(django_db_blocker, *, team: bool = False) -> Iterator[str]:
    """daphne serving the project's ASGI app (static files too) in a forked child process.

    The child inherits the settings of the moment it is forked: ``team=True`` forks it while
    they require a login (team mode), and puts them back for this process right after.
    """
    from channels.testing.live import make_application, set_database_connection
    from daphne.testing import DaphneProcess
    from django.conf import settings
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connections

    local = settings.SKILLCHECK_REQUIRE_LOGIN
    settings.SKILLCHECK_REQUIRE_LOGIN = team
    try:
        with django_db_blocker.unblock():
            # A SQLite connection must not cross a fork: the child would share its locks and
            # WAL index with the parent's and could keep reading an old snapshot.
            connections.close_all()
            server = DaphneProcess(
                "127.0.0.1",
                partial(make_application, static_wrapper=ASGIStaticFilesHandler),
                setup=set_database_connection,
            )
            server.start()
    finally:
        settings.SKILLCHECK_REQUIRE_LOGIN = local
    mode = "team-mode" if team else "local-mode"
    try:
        if not server.ready.wait(timeout=20):
            pytest.fail(f"the {mode} daphne test server did not start")
        yield f"http://127.0.0.1:{server.port.value}"
    finally:
        server.terminate()
        server.join(10)


@pytest.fixture(scope="session")
def start_daphne(django_db_blocker):
    """``start_daphne(team=...)``: a context manager serving the app in a child, its URL."""
    return partial(daphne_server, django_db_blocker)


@pytest.fixture(scope="session")
def live_asgi_server(django_db_setup, start_daphne, fake_claude_path) -> Iterator[str]:
    """The app in local mode (no login) under daphne, runs answered by the slow fake claude."""
    from django.conf import settings

    saved_env = dict(os.environ)
    os.environ["FAKE_CLAUDE_DELAY_S"] = FAKE_DELAY_S
    os.environ["FAKE_CLAUDE_STATE_DIR"] = str(fake_claude_path.parent / "state")
    os.environ.pop("ANTHROPIC_API_KEY", None)
    # The child is forked from here, so it inherits these settings.
    settings.SKILLCHECK_CLAUDE_BIN = str(fake_claude_path)
    settings.ANTHROPIC_API_KEY = ""
    settings.HEATMAP_POLL_S = POLL_S
    settings.DEBUG = False
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    try:
        with start_daphne() as url:
            yield url
    finally:
        os.environ.clear()
        os.environ.update(saved_env)


@pytest.fixture
def live_url(live_asgi_server, transactional_db) -> str:
    return live_asgi_server


@pytest.fixture(autouse=True)
def no_content_security_policy_violations(request) -> Iterator[None]:
    """Every browser test also checks the Content-Security-Policy: whatever the pages do
    (htmx swaps, the WebSocket, the cell detail), Chromium refuses nothing."""
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield
    assert refused == [], "Chromium refused what the Content-Security-Policy forbids"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


SCREENSHOTS = ARTIFACTS / "screenshots"


@pytest.fixture
def screenshots() -> Path:
    """Where the layout tests put a picture of each page at each width (CI lists it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_terminal_summary(terminalreporter) -> None:
    """List the screenshots at the end of the session, so a CI log shows what was taken."""
    if not SCREENSHOTS.is_dir():
        return
    files = sorted(SCREENSHOTS.rglob("*.png"))
    terminalreporter.write_sep("-", f"screenshots in {SCREENSHOTS} ({len(files)})")
    for path in files:
        terminalreporter.write_line(f"{path.stat().st_size:>9}  {path.relative_to(SCREENSHOTS)}")
