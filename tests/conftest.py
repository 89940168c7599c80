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
