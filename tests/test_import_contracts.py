"""The import contracts in pyproject.toml hold, and each fails the check when broken on purpose.

``lint-imports`` runs over a copy of the project's packages with the project's configuration,
so a line added to a module here changes nothing in the working tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
PACKAGES = ("heatmap", "skillcheck", "accounts", "simsite")
CONTRACTS = {
    "layers": "Layers: callers > services > selectors > models > engine",
    "accounts": "Team-mode accounts: callers > services > models",
    "engine": "The engine is free of Django and the apps",
    "apps": "Settings > the two apps, independent > engine",
    "acyclic": "No import cycle in any package",
}


@pytest.fixture(scope="module")
def lint_imports() -> str:
    path = Path(sys.executable).with_name("lint-imports")
    found = str(path) if path.exists() else shutil.which("lint-imports")
    assert found, "lint-imports is not installed (the dev extra has import-linter)"
    return found


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the packages and pyproject.toml (the contracts)."""
    for package in PACKAGES:
        shutil.copytree(
            PROJECT_DIR / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(PROJECT_DIR / "pyproject.toml", tmp_path)
    return tmp_path


def check(lint_imports: str, folder: Path) -> tuple[int, dict[str, str]]:
    """The exit status, and each contract's verdict ("KEPT" or "BROKEN") by its id."""
    done = subprocess.run(
        [lint_imports, "--no-cache"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        # Wide enough that no contract's name is wrapped in the report.
        env={**os.environ, "COLUMNS": "200"},
    )
    output = " ".join(done.stdout.split())
    verdicts = {
        key: word
        for key, name in CONTRACTS.items()
        for word in ("KEPT", "BROKEN")
        if f"{name} {word}" in output
    }
    assert set(verdicts) == set(CONTRACTS), done.stdout + done.stderr
    return done.returncode, verdicts


def add_line(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}\n")


def test_the_contracts_hold(lint_imports, project):
    status, verdicts = check(lint_imports, project)
    assert status == 0 and set(verdicts.values()) == {"KEPT"}, verdicts


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # A circle: results imports vocabulary (Result) already.
        ("skillcheck/vocabulary.py", "from skillcheck import results", {"acyclic"}),
        # A service calling the worker directly, instead of through the dispatch setting:
        # against the layers, and a circle too (the worker calls services).
        ("heatmap/services/start.py", "from heatmap import worker", {"layers", "acyclic"}),
        # A selector that writes through a service.
        ("heatmap/selectors/runs.py", "from heatmap.services import cancel", {"layers", "acyclic"}),
        # The engine reaching for Django.
        ("skillcheck/results.py", "from django.conf import settings", {"engine"}),
        # The team-mode app reaching into the heatmap app.
        ("accounts/models.py", "from heatmap.models import Run", {"apps"}),
        # A model that calls the services that write it.
        ("accounts/models.py", "from accounts import services", {"accounts", "acyclic"}),
    ],
)
def test_a_contract_broken_on_purpose_fails_the_check(lint_imports, project, module, line, broken):
    add_line(project / module, line)
    status, verdicts = check(lint_imports, project)
    assert status != 0
    assert {key for key, word in verdicts.items() if word == "BROKEN"} == broken, verdicts
