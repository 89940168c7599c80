from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests import postgres

PROJECT_DIR = Path(__file__).resolve().parent.parent
CORPUS_DIR = PROJECT_DIR.parent / "shared" / "corpus" / "apify-skills"
EXAMPLE_CATALOG_DIR = PROJECT_DIR / "catalog"


# Property tests get no per-example deadline (200 ms by default) and no "data generation is
# too slow" health check: both time the machine, not the code, and a loaded two-core machine
# (CI, or several test runs at once) can fail them with nothing wrong. Speed goals live in
# benchmarks/. Loaded here, before the test modules build their own @settings on it.
hypothesis_settings.register_profile(
    "skillcheck", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("skillcheck")


def pytest_configure(config: pytest.Config) -> None:
    """SIGINT gets its usual handler when pytest started with it ignored, as a command put in
    the background of a shell script (``cmd &``) does: Python leaves an ignored SIGINT
    ignored, and so would every child it starts, so the tests that stop daphne with SIGINT
    failed, and a command's handler was "restored" to SIG_IGN."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# --- Both databases: SQLite by default, PostgreSQL with --postgres -------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres",
        action="store_true",
        help="run only the tests marked both_databases, on a PostgreSQL server started for "
        "the session (or the one SKILLCHECK_TEST_POSTGRES_URL names)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--postgres"):
        return
    kept = [item for item in items if "both_databases" in item.keywords]
    deselected = [item for item in items if "both_databases" not in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    reason = postgres.unavailable_reason()
    if reason is None or not kept:
        return
    if postgres.in_ci():
        pytest.exit(f"CI=true requires the PostgreSQL run, but {reason}", returncode=1)
    skip = pytest.mark.skip(reason=f"PostgreSQL run skipped: {reason}")
    for item in kept:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest):
    """The URL of the session's PostgreSQL server (an existing one, or one started here)."""
    existing = os.environ.get(postgres.EXISTING_SERVER_ENV)
    if existing:
        yield existing
        return
    server = postgres.PostgresServer.start()
    try:
        server.wait_ready()
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request: pytest.FixtureRequest) -> None:
    """With ``--postgres`` the test database is created on the session's PostgreSQL server.

    On SQLite it is a file, as in use: Django's default in-memory test database shares one
    cache between connections, where a run's writer thread and a reader meet a table lock
    that fails at once ("database table is locked") instead of waiting as WAL does.
    """
    if request.config.getoption("--postgres"):
        postgres.point_django_at(request.getfixturevalue("postgres_url"))
        return
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        folder = request.getfixturevalue("tmp_path_factory").mktemp("sqlite")
        database.setdefault("TEST", {})["NAME"] = str(folder / "test.sqlite3")


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real-world corpus beside the project; a clone on its own skips these tests."""
    if not CORPUS_DIR.is_dir():
        message = f"the real corpus is not at {CORPUS_DIR} (a checkout of ../shared/corpus)"
        if postgres.in_ci():
            pytest.fail(f"CI=true requires the real corpus: {message}")
        pytest.skip(message)
    return CORPUS_DIR


@pytest.fixture(scope="session")
def example_catalog_dir() -> Path:
    return EXAMPLE_CATALOG_DIR


@pytest.fixture
def catalog_dir(example_catalog_dir: Path, tmp_path: Path) -> Path:
    """A copy of the example catalog that a test may edit."""
    target = tmp_path / "catalog"
    shutil.copytree(example_catalog_dir, target)
    return target


@pytest.fixture
def fake_claude_bin(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """The fake ``claude`` (tests/fakes/fake_claude) first on PATH; returns its path."""
    from tests.fakes import install_fake_claude

    return install_fake_claude(tmp_path_factory.mktemp("fake_claude_bin"), monkeypatch)


@pytest.fixture
def fake_haiku_log(fake_claude_bin, settings, tmp_path, monkeypatch, catalog_dir) -> Path:
    """The fake ``claude`` as the haiku auditor over an editable copy of the example catalog;
    returns its call log (one line per call, see ``tests.fakes.fake_claude_count``)."""
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_CLAUDE_LOG", str(log))
    settings.ANTHROPIC_API_KEY = ""
    settings.SKILLCHECK_CLAUDE_BIN = "claude"
    settings.SKILLCHECK_CATALOG = catalog_dir
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    return log


@pytest.fixture
def anthropic_stub():
    """A running Messages API stub on 127.0.0.1 (tests/fakes/anthropic_stub.py)."""
    from tests.fakes.anthropic_stub import AnthropicStub

    with AnthropicStub() as stub:
        yield stub


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Passwords hash with MD5 in the test process (and the live servers forked from it).

    Django's PBKDF2 costs about 0.3 s a hash here, paid by every user created and every
    sign-in; the team-mode tests do dozens. What they test is who may sign in, not the hash.
    """
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


# --- Web app fixtures (views, API, selectors) ---------------------------------------------


@pytest.fixture(autouse=True)
def empty_cache():
    """The overview keeps aggregates in Django's cache; every test starts without them."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def catalog(example_catalog_dir, settings):
    """The bundled example catalog, configured as the app's catalog."""
    from heatmap import selectors

    settings.SKILLCHECK_CATALOG = example_catalog_dir
    return selectors.catalog_current(example_catalog_dir)


@pytest.fixture
def domain_id(catalog) -> str:
    """A domain with a specialist and a generalist, so cells hold several skills."""
    return next(d.id for d in catalog.domains.values() if len(d.skills) > 1)


@pytest.fixture
def scenario(catalog, domain_id):
    """The first scenario of ``domain_id``: its specialist and a generalist answer it."""
    return catalog.domains[domain_id].scenarios[0]


@pytest.fixture
def dispatched(monkeypatch) -> list[str]:
    """Record the runs handed to a worker instead of executing them."""
    calls: list[str] = []
    monkeypatch.setattr("heatmap.worker.run_dispatch", calls.append)
    return calls


class MigrationStep:
    """A migration test module's schema at its ``BEFORE``: ``old`` models to write rows with,
    then ``forward`` to its ``AFTER`` and the models as they are there."""

    def __init__(self, executor, before, after) -> None:
        self.executor, self.after = executor, after
        # One set of old models: related rows must come from the same app registry.
        self.old_apps = executor.loader.project_state(before).apps

    def old(self, model: str):
        return self.old_apps.get_model("heatmap", model)

    def old_task(self, scenario_id: str, **fields: Any):
        """A task row in the old schema (skill ``k``, model ``m``), of the run ``old``."""
        run, _ = self.old("Run").objects.get_or_create(run_id="old")
        return self.old("TaskResult").objects.create(
            run=run, scenario_id=scenario_id, skill="k", model="m", **fields
        )

    def forward(self, model: str):
        self.executor.loader.build_graph()
        self.executor.migrate(self.after)
        return self.executor.loader.project_state(self.after).apps.get_model("heatmap", model)

    def to_newest(self) -> None:
        self.executor.loader.build_graph()
        self.executor.migrate(self.executor.loader.graph.leaf_nodes())


@pytest.fixture
def migration(transactional_db, request):
    """A migration test module's schema at its ``BEFORE``; back at the newest migration after."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(request.module.BEFORE)
    step = MigrationStep(executor, request.module.BEFORE, request.module.AFTER)
    yield step
    step.to_newest()


@pytest.fixture
def warned_catalog_dir(tmp_path_factory: pytest.TempPathFactory, example_catalog_dir) -> Path:
    """The example catalog plus a scenario whose target skill is not in the manifest: the
    catalog skips it with one warning."""
    root = tmp_path_factory.mktemp("warned") / "catalog"
    shutil.copytree(example_catalog_dir, root)
    wf = root / "scenarios" / "wf_scenarios.yaml"
    wf.write_text(
        wf.read_text().rstrip("\n")
        + "\n\n  - id: wf-ghost\n    name: Missing skill\n    target_skill: ghost-skill\n"
        + '    prompt: "Do something."\n'
    )
    return root


GHOST_WARNING = "scenario 'wf-ghost' targets skill 'ghost-skill', which is not in the manifest"
