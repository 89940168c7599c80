"""Which apps a process installs: commands that serve nothing start without daphne."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def manage(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_scored_starts_without_daphne_twisted_or_the_web_layer(tmp_path):
    done = manage("-X", "importtime", "manage.py", "run_scored", "--list-models", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "heuristic" in done.stdout
    imported = done.stderr
    assert "| daphne" not in imported and "twisted" not in imported
    # No system checks: they import the URL configuration, views and template tags.
    assert "heatmap.views" not in imported and "heatmap.markdown" not in imported
    # The heuristic's rule patterns compile when it audits, not when the registry is built.
    assert "heuristic_rules" not in imported


def test_runserver_is_still_daphnes_asgi_server(tmp_path):
    done = manage("manage.py", "runserver", "--help", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--noasgi" in done.stdout  # an option of daphne's runserver only
