from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
CORPUS_DIR = PROJECT_DIR.parent / "shared" / "corpus" / "apify-skills"
EXAMPLE_CATALOG_DIR = PROJECT_DIR / "catalog"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS_DIR.is_dir():
        pytest.fail(f"the real corpus is expected at {CORPUS_DIR}")
    return CORPUS_DIR


@pytest.fixture(scope="session")
def example_catalog_dir() -> Path:
    return EXAMPLE_CATALOG_DIR


@pytest.fixture
def fake_claude_bin(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """The fake ``claude`` (tests/fakes/fake_claude) first on PATH; returns its path."""
    from tests.fakes import install_fake_claude

    return install_fake_claude(tmp_path_factory.mktemp("fake_claude_bin"), monkeypatch)


@pytest.fixture
def anthropic_stub():
    """A running Messages API stub on 127.0.0.1 (tests/fakes/anthropic_stub.py)."""
    from tests.fakes.anthropic_stub import AnthropicStub

    with AnthropicStub() as stub:
        yield stub


# --- Web app fixtures (views, API, selectors) ---------------------------------------------


@pytest.fixture
def empty_cache():
    """The overview keeps aggregates in Django's cache; each web test starts without them."""
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
def dispatched(monkeypatch) -> list[str]:
    """Record the runs handed to a worker instead of executing them."""
    calls: list[str] = []
    monkeypatch.setattr("heatmap.worker.run_dispatch", calls.append)
    return calls
