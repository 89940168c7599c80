"""Migration 0002 fills the task summaries of rows written before it, from their checks."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.both_databases

BEFORE = [("heatmap", "0001_initial")]
AFTER = [("heatmap", "0002_taskresult_summary")]


def test_backfill_counts_each_tasks_check_rows(migration):
    CheckResult = migration.old("CheckResult")
    mixed = migration.old_task("s1")
    no_checks = migration.old_task("s2", error="x")
    all_pass = migration.old_task("s3")
    for check_id, result in [
        ("WF-2", "fail"),
        ("DK-1", "fail"),
        ("WF-1", "pass"),
        ("SEC-1", "na"),
        ("APF-1", "unclear"),
        ("APF-2", "unclear"),
    ]:
        CheckResult.objects.create(task=mixed, check_id=check_id, result=result)
    CheckResult.objects.create(task=all_pass, check_id="WF-1", result="pass")

    migrated = migration.forward("TaskResult")
    fields = ("pass_count", "fail_count", "unclear_count", "na_count", "failed_checks")
    summaries = {t["pk"]: t for t in migrated.objects.values("pk", *fields)}
    assert summaries[mixed.pk] == {
        "pk": mixed.pk,
        "pass_count": 1,
        "fail_count": 2,
        "unclear_count": 2,
        "na_count": 1,
        "failed_checks": "DK-1 WF-2",
    }
    assert summaries[no_checks.pk] == dict.fromkeys(fields[:4], 0) | {
        "pk": no_checks.pk,
        "failed_checks": "",
    }
    assert (summaries[all_pass.pk]["pass_count"], summaries[all_pass.pk]["failed_checks"]) == (
        1,
        "",
    )
