"""Which apps a process installs: commands that serve nothing start without daphne."""

from __future__ import annotations

from tests.processes import child_env, manage


def test_run_scored_starts_without_daphne_twisted_or_the_web_layer(tmp_path):
    importtime = ("-X", "importtime")
    done = manage("run_scored", "--list-models", env=child_env(tmp_path), python_flags=importtime)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "heuristic" in done.stdout
    imported = done.stderr
    assert "| daphne" not in imported and "twisted" not in imported
    # No system checks: they import the URL configuration, views and template tags.
    assert "heatmap.views" not in imported and "heatmap.markdown" not in imported
    # The heuristic's rule patterns compile when it audits, not when the registry is built.
    assert "heuristic_rules" not in imported


def test_runserver_is_still_daphnes_asgi_server(tmp_path):
    done = manage("runserver", "--help", env=child_env(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--noasgi" in done.stdout  # an option of daphne's runserver only
