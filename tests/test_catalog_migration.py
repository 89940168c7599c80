"""Migration 0012 gives every existing run (and its tasks) a catalog: one per catalog folder,
named after it, and an "imported" one per report folder for runs that never said theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.both_databases

BEFORE = [("heatmap", "0011_taskresult_errored")]
AFTER = [("heatmap", "0012_catalogs")]


def test_runs_and_tasks_are_assigned_the_catalog_of_their_folder(migration):
    Run, TaskResult = migration.old("Run"), migration.old("TaskResult")
    now = timezone.now()

    def run(run_id, age_days, **fields):
        return Run.objects.create(
            run_id=run_id, created_at=now - timedelta(days=age_days), **fields
        )

    bundled_old = run("b1", 3, catalog_path="/srv/a/catalog", catalog_fingerprint="old")
    bundled_new = run("b2", 1, catalog_path="/srv/a/catalog", catalog_fingerprint="new")
    same_name = run("c1", 2, catalog_path="/home/x/catalog", catalog_fingerprint="other")
    corpus = run("k1", 2, catalog_path="/work/shared/corpus/apify-skills")
    imported = run("i1", 5, report_path="/data/old-audits/scored_run_i1.json")
    run("i2", 4, report_path="/data/old-audits/scored_run_i2.json")
    bare = run("i3", 4)
    tasks = {
        r.run_id: TaskResult.objects.create(run=r, scenario_id="s", skill="k", model="m")
        for r in (bundled_old, bundled_new, same_name, corpus, imported, bare)
    }

    Catalog = migration.forward("Catalog")
    catalogs = {c.name: c for c in Catalog.objects.all()}
    assert set(catalogs) == {"catalog", "catalog-2", "apify-skills", "old-audits", "imported"}
    bundled = catalogs["catalog"]
    assert (bundled.root_path, bundled.fingerprint, bundled.imported) == (
        "/srv/a/catalog",
        "new",  # its newest run's
        False,
    )
    assert bundled.loaded_at == bundled_new.created_at
    assert catalogs["catalog-2"].root_path == "/home/x/catalog"
    assert catalogs["old-audits"].imported and catalogs["old-audits"].root_path == ""
    assert catalogs["imported"].imported

    NewRun = migration.executor.loader.project_state(AFTER).apps.get_model("heatmap", "Run")
    assigned = dict(NewRun.objects.values_list("run_id", "catalog__name"))
    assert assigned == {
        "b1": "catalog",
        "b2": "catalog",
        "c1": "catalog-2",
        "k1": "apify-skills",
        "i1": "old-audits",
        "i2": "old-audits",
        "i3": "imported",
    }
    NewTask = migration.executor.loader.project_state(AFTER).apps.get_model("heatmap", "TaskResult")
    for run_id, task in tasks.items():
        assert NewTask.objects.get(pk=task.pk).catalog.name == assigned[run_id]


def test_an_empty_database_gets_no_catalog(migration):
    Catalog = migration.forward("Catalog")
    assert not Catalog.objects.exists()
