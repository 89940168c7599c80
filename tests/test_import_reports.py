"""``manage.py import_reports``: old and new report formats, idempotent, bad files skipped."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from heatmap.models import CheckResult, Run, TaskResult
from heatmap.services import runs
from skillcheck.reports import load_scored_report, save_scored_report_incremental
from skillcheck.results import CheckResult as ScoredCheck
from skillcheck.results import ScoredRun
from tests.run_helpers import StubAuditor

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

OLD_REPORT = {
    "type": "scored",
    "timestamp": "2025-01-10T12:00:00",
    "model": "sonnet",
    "results": [
        {
            "scenario_id": "s1",
            "skill": "k",
            "risk_level": "HIGH",
            "cost_info": {"input_tokens": 100, "output_tokens": 20, "cost_usd": 0.01},
            "markdown_response": "old answer",
            "checks": {"WF-1": {"result": "fail", "evidence": "e", "summary": "s"}},
        },
        {"scenario_id": "s2", "skill": "k", "error": "timeout", "checks": []},
    ],
}


def import_(*paths) -> str:
    out = io.StringIO()
    call_command("import_reports", *map(str, paths), stdout=out, stderr=out)
    return out.getvalue()


def test_old_report_imports_once(tmp_path):
    path = tmp_path / "scored_20250110_1200.json"
    path.write_text(json.dumps(OLD_REPORT))
    out = import_(path)
    assert "2 imported" in out
    run = Run.objects.get(run_id="import-scored_20250110_1200")
    assert run.status == "completed" and run.models == ["sonnet"]
    assert run.completed == 2 and run.failed == 1 and run.cost_usd == pytest.approx(0.01)
    task = run.tasks.get(scenario_id="s1")
    assert task.model == "sonnet" and task.risk_level == "HIGH"
    assert list(task.checks.values_list("check_id", "result")) == [("WF-1", "fail")]

    out = import_(path)
    assert "0 imported, 2 already there" in out
    assert TaskResult.objects.count() == 2 and CheckResult.objects.count() == 1


def test_folder_import_skips_bad_files(tmp_path):
    (tmp_path / "scored_20250110_1200.json").write_text(json.dumps(OLD_REPORT))
    (tmp_path / "scored_half.json").write_text('{"type": "scored", "results": [')
    save_scored_report_incremental(
        "abc",
        [ScoredRun("s9", "k", "haiku", checks=[ScoredCheck("WF-1", "pass")])],
        {"models": ["haiku"], "total": 3},
        reports_dir=tmp_path,
    )
    out = import_(tmp_path)
    assert "skipped: " in out and "scored_half.json" in out
    assert "2 report(s) imported, 1 skipped, 3 task result(s) added" in out
    partial = Run.objects.get(run_id="abc")
    assert partial.status == "interrupted" and partial.total == 3 and partial.completed == 1


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no such report"):
        import_(tmp_path / "nope.json")


def test_import_rewrites_a_json_that_lags_its_run(tmp_path, settings, corpus_dir):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path
    auditors = {"a": StubAuditor("a")}
    run = runs.run_create(
        domains=["market-research"], models=["a"], catalog_path=corpus_dir, auditors=auditors
    )
    run = runs.run_execute(run=run, auditors=auditors)
    path = tmp_path / f"scored_run_{run.run_id}.json"
    lagging = json.loads(path.read_text())
    lagging["results"] = lagging["results"][:1]
    lagging["result_count"] = 1
    path.write_text(json.dumps(lagging))

    out = import_(path)
    assert "0 imported, 1 already there" in out and "rewritten" in out
    assert len(load_scored_report(path).results) == run.total
    assert TaskResult.objects.filter(run=run).count() == run.total


def test_imported_tasks_carry_summaries_that_agree_with_their_check_rows(tmp_path):
    from tests.heatmap_data import stored_summary, summary_from_check_rows

    old = tmp_path / "scored_20250110_1200.json"
    old.write_text(json.dumps(OLD_REPORT))
    checks = [
        ScoredCheck("WF-2", "fail"),
        ScoredCheck("DK-1", "fail"),
        ScoredCheck("WF-1", "pass"),
        ScoredCheck("SEC-1", "na"),
        ScoredCheck("APF-1", "unclear"),
        ScoredCheck("WF-2", "fail"),  # a repeated id is stored once, and counted once
    ]
    save_scored_report_incremental(
        "mixed",
        [ScoredRun("s9", "k", "haiku", checks=checks), ScoredRun("s8", "k", "haiku")],
        {"models": ["haiku"], "total": 2},
        reports_dir=tmp_path,
    )

    import_(tmp_path)

    tasks = list(TaskResult.objects.all())
    assert len(tasks) == 4
    for task in tasks:
        assert stored_summary(task) == summary_from_check_rows(task), task
    mixed = TaskResult.objects.get(scenario_id="s9")
    assert stored_summary(mixed) == {
        "pass_count": 1,
        "fail_count": 2,
        "unclear_count": 1,
        "na_count": 1,
        "failed_checks": ["DK-1", "WF-2"],
    }


def test_an_imported_old_report_does_not_look_newer_than_it_is(tmp_path):
    path = tmp_path / "scored_20250110_1200.json"
    path.write_text(json.dumps(OLD_REPORT))
    import_(path)
    task = TaskResult.objects.get(scenario_id="s1")
    assert task.finished_at.isoformat() == "2025-01-10T12:00:00+00:00"
