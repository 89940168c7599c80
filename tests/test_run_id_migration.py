"""Migration 0007 gives runs imported before the run id rule a safe id (``a/b`` broke /runs/)."""

from __future__ import annotations

import pytest

from skillcheck.runids import is_valid_run_id

pytestmark = pytest.mark.both_databases

BEFORE = [("heatmap", "0006_run_status_queued")]
AFTER = [("heatmap", "0007_safe_run_ids")]


def test_unsafe_run_ids_get_safe_unique_ids_and_the_runs_page_works(migration, client):
    Run = migration.old("Run")
    for run_id in ["../../x", "a/b", "a-b", "ok-1", "x" * 60 + "/"]:
        Run.objects.create(run_id=run_id, report_path=f"/reports/scored_run_{run_id}.json")

    Run = migration.forward("Run")
    ids = dict(Run.objects.values_list("run_id", "report_path"))
    assert set(ids) == {"x", "a-b", "a-b-2", "ok-1", "x" * 56}
    assert all(is_valid_run_id(run_id) for run_id in ids)
    assert ids["ok-1"] == "/reports/scored_run_ok-1.json" and ids["x"] == ""

    migration.to_newest()
    assert client.get("/runs/").status_code == 200
