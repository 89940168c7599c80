"""Migration 0011 marks the failed tasks written before it, so the newest-result ranking,
which prefers a successful task, treats old rows like new ones."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.both_databases

BEFORE = [("heatmap", "0010_run_owner")]
AFTER = [("heatmap", "0011_taskresult_errored")]


def test_tasks_with_an_error_are_marked_errored(migration):
    ok = migration.old_task("s1")
    failed = migration.old_task("s2", error="API error 500")

    migrated = migration.forward("TaskResult")
    assert dict(migrated.objects.values_list("pk", "errored")) == {ok.pk: False, failed.pk: True}
