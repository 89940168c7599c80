"""``manage.py import_reports``: old and new report formats, idempotent, bad files refused.

A report is data from outside: an import never changes a run that exists, and every field
is checked before anything is saved.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from heatmap.models import CheckResult, Run, TaskResult
from heatmap.services import reports as report_services
from heatmap.services.execution import run_execute
from heatmap.services.start import run_create
from skillcheck.reports import load_scored_report, save_scored_report_incremental
from skillcheck.results import CheckVerdict as ScoredCheck
from skillcheck.results import ScoredRun
from tests.heatmap_data import configured_catalog
from tests.original_format import ERROR, write_original_report
from tests.run_helpers import StubAuditor

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture(autouse=True)
def reports_dir(settings, tmp_path):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    return settings.SKILLCHECK_REPORTS_DIR


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


def import_failing(*paths) -> tuple[str, str]:
    """Output and error of an import that refused some file (the command then exits 1)."""
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_reports", *map(str, paths), stdout=out, stderr=out)
    return out.getvalue(), str(failure.value)


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


def test_folder_import_refuses_bad_files_and_imports_the_rest(tmp_path):
    (tmp_path / "scored_20250110_1200.json").write_text(json.dumps(OLD_REPORT))
    (tmp_path / "scored_half.json").write_text('{"type": "scored", "results": [')
    save_scored_report_incremental(
        "abc",
        [ScoredRun("s9", "k", "haiku", checks=[ScoredCheck("WF-1", "pass")])],
        {"models": ["haiku"], "total": 3},
        reports_dir=tmp_path,
    )
    out, error = import_failing(tmp_path)
    assert "refused: " in out and "scored_half.json" in out
    assert "2 report(s) imported, 1 refused, 3 task result(s) added" in out
    assert "1 report(s) could not be imported" in error
    partial = Run.objects.get(run_id="abc")
    assert partial.status == "interrupted" and partial.total == 3 and partial.completed == 1


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no such report"):
        import_(tmp_path / "nope.json")


def test_import_rewrites_a_json_that_lags_its_run(tmp_path, settings, corpus_dir):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path
    auditors = {"a": StubAuditor("a")}
    run = run_create(
        domains=["market-research"], models=["a"], catalog_path=corpus_dir, auditors=auditors
    )
    run = run_execute(run=run, auditors=auditors)
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


# --- a report never changes a run that exists ------------------------------------------------


def stored(run_id: str, *rows: ScoredRun, status: str = "completed") -> Run:
    """A run in the database with these task rows, as a run of this tool leaves it."""
    from django.utils import timezone

    from heatmap.services.reports import run_recount, task_save

    run = Run.objects.create(
        run_id=run_id,
        catalog=configured_catalog(),
        status=status,
        models=["haiku"],
        total=len(rows) + (status == "running"),
        heartbeat_at=timezone.now(),
    )
    for row in rows:
        task_save(run=run, result=row)
    run_recount(run=run)
    run.save()
    return run


def row(scenario: str, result: str = "pass", evidence: str = "real") -> ScoredRun:
    from skillcheck.results import utc_now_iso

    check = ScoredCheck("WF-1", result, evidence)
    return ScoredRun(scenario, "k", "haiku", checks=[check], finished_at=utc_now_iso())


def forged(tmp_path, run_id: str, *rows: ScoredRun, name: str = "") -> str:
    folder = tmp_path / "elsewhere"
    path = save_scored_report_incremental(run_id, rows, {"models": ["haiku"]}, reports_dir=folder)
    if name:
        path = path.rename(folder / name)
    return str(path)


def evidence_of(run: Run) -> dict[str, str]:
    return dict(
        CheckResult.objects.filter(task__run=run).values_list("task__scenario_id", "evidence")
    )


def test_a_report_claiming_a_running_runs_id_becomes_a_new_run(tmp_path):
    running = stored("r1", row("s1"), status="running")
    path = forged(tmp_path, "r1", row("s1", "fail", "forged"), row("s2", "fail", "forged"))

    out = import_(path)

    running.refresh_from_db()
    assert running.status == "running" and running.completed == 1
    assert evidence_of(running) == {"s1": "real"}  # s2 is still free for the run's own answer
    copy = Run.objects.get(run_id="r1-import-1")
    assert evidence_of(copy) == {"s1": "forged", "s2": "forged"}
    assert "run r1 exists with other results, so this report is the new run r1-import-1" in out


def test_forged_rows_never_merge_into_a_completed_run(tmp_path):
    done = stored("c1", row("s1"))
    path = forged(tmp_path, "c1", row("s1", "fail", "forged"), row("s9", "fail", "forged"))

    import_(path)

    done.refresh_from_db()
    assert evidence_of(done) == {"s1": "real"} and done.completed == 1
    assert Run.objects.get(run_id="c1-import-1").completed == 2


def test_importing_the_same_foreign_report_again_adds_nothing(tmp_path):
    stored("c1", row("s1"))
    path = forged(tmp_path, "c1", row("s1", "fail", "forged"))
    import_(path)

    out = import_(path)

    assert "run c1-import-1: 0 imported, 1 already there" in out
    assert Run.objects.count() == 2


def test_a_copy_of_a_runs_own_report_adds_nothing(tmp_path, reports_dir):
    from heatmap.services.reports import run_report_sync

    run = stored("c1", row("s1"), row("s2"))
    copy = tmp_path / "backup" / "scored_run_c1.json"
    copy.parent.mkdir()
    copy.write_bytes(run_report_sync(run=run).read_bytes())

    assert "run c1: 0 imported, 2 already there" in import_(copy)
    assert Run.objects.count() == 1


def test_every_imported_run_writes_its_own_report_in_the_reports_folder(tmp_path, reports_dir):
    path = forged(tmp_path, "far", row("s1"), name="skillcheck-far.json")

    out = import_(path)

    run = Run.objects.get(run_id="far")
    assert run.report_path == str((reports_dir / "scored_run_far.json").resolve())
    assert f"report {run.report_path}" in out
    assert [r.key for r in load_scored_report(run.report_path).results] == [("s1", "k", "haiku", 1)]


# --- run ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("run_id", ["../../x", "a/b", "x\u0000y", "-rf", "é", "x" * 65, ".."])
def test_a_report_with_an_unsafe_run_id_is_refused(tmp_path, run_id):
    path = tmp_path / "scored_bad.json"
    path.write_text(json.dumps({"type": "scored", "run_id": run_id, "results": []}))
    good = tmp_path / "scored_20250110_1200.json"
    good.write_text(json.dumps(OLD_REPORT))

    out, _ = import_failing(path, good)

    assert "scored_bad.json: run_id: invalid run id" in out
    assert list(Run.objects.values_list("run_id", flat=True)) == ["import-scored_20250110_1200"]


def test_an_old_report_with_an_odd_file_name_gets_a_safe_run_id(tmp_path):
    path = tmp_path / "scored_my run (copy) ✓.json"
    path.write_text(json.dumps(OLD_REPORT))
    import_(path)
    assert Run.objects.get().run_id == "import-scored_my-run-copy"


# --- every field is checked ------------------------------------------------------------------


def report_with(**changes) -> dict:
    document = {
        "type": "scored",
        "run_id": "fields",
        "models": ["haiku"],
        "concurrency": 3,
        "total": 1,
        "results": [row("s1").to_dict()],
    }
    for dotted, value in changes.items():
        target = document
        *parents, name = dotted.split("__")
        for parent in parents:
            target = target[int(parent)] if parent.isdigit() else target[parent]
        target[name] = value
    return document


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"concurrency": "abc"}, "concurrency: 'abc' is not an integer"),
        ({"concurrency": 0}, "concurrency: 0 is out of range (1 to 64)"),
        ({"total": -5}, "total: -5 is out of range"),
        ({"models": "haiku"}, "models: 'haiku' is not a list"),
        ({"results__0__cost_info__input_tokens": 2**70}, "input_tokens: 1180591620717411303424"),
        ({"results__0__cost_info__output_tokens": 1.5}, "output_tokens: 1.5 is not an integer"),
        ({"results__0__cost_info__cost_usd": float("nan")}, "cost_usd: nan is out of range"),
        ({"results__0__duration_s": -1}, "duration_s: -1 is out of range"),
        ({"results__0__scenario_id": 7}, "scenario_id: 7 is not a non-empty string"),
        ({"results__0__skill": "k" * 201}, "skill: 'kkkk"),
        ({"results__0__checks__0__check_id": "W" * 33}, "is longer than 32 characters"),
        ({"results__0__checks__0__evidence": ["x"]}, "evidence: ['x'] is not a string"),
        ({"results__0__cached_from": "../x"}, "cached_from: invalid run id"),
    ],
)
def test_a_field_of_the_wrong_type_or_range_refuses_the_file(tmp_path, changes, reason):
    bad = tmp_path / "scored_run_fields.json"
    bad.write_text(json.dumps(report_with(**changes)))
    good = tmp_path / "scored_run_good.json"
    good.write_text(json.dumps({**report_with(), "run_id": "good"}))

    out, error = import_failing(bad, good)

    assert f"refused: {bad}: results[0]." in out or f"refused: {bad}: " in out
    assert reason in out
    assert list(Run.objects.values_list("run_id", flat=True)) == ["good"]
    assert "1 report(s) could not be imported" in error


def test_the_command_exits_1_when_a_file_was_refused(tmp_path):
    from tests.processes import child_env, manage, migrate

    bad = tmp_path / "scored_run_fields.json"
    bad.write_text(json.dumps(report_with(concurrency="abc")))
    env = child_env(tmp_path)
    migrate(env)
    done = manage("import_reports", str(bad), env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "concurrency: 'abc' is not an integer" in done.stderr
    assert "Traceback" not in done.stderr


# --- the file a run serves is the file its results go to -------------------------------------


def test_after_resuming_an_imported_run_its_download_has_the_new_results(
    tmp_path, client, example_catalog_dir, reports_dir
):
    from heatmap.services.execution import run_execute
    from heatmap.services.resume import run_resume
    from heatmap.services.start import run_create

    flaky = {"a": StubAuditor("a", fail_on=lambda request: True)}
    run = run_create(
        domains=["price-tracking"], models=["a"], catalog_path=example_catalog_dir, auditors=flaky
    )
    run = run_execute(run=run, auditors=flaky)
    assert run.failed == run.total > 0
    # The report downloaded on one machine is imported on another.
    downloaded = tmp_path / "downloads" / f"skillcheck-{run.run_id}.json"
    downloaded.parent.mkdir()
    downloaded.write_bytes(b"".join(client.get(f"/runs/{run.run_id}/report.json")))
    Run.objects.all().delete()
    for path in reports_dir.glob("*.json"):
        path.unlink()
    import_(downloaded)

    fixed = {"a": StubAuditor("a")}
    resumed = run_resume(run_id=run.run_id, auditors=fixed)
    resumed = run_execute(run=resumed, auditors=fixed)

    assert resumed.status == "completed" and resumed.failed == 0
    served = json.loads(b"".join(client.get(f"/runs/{run.run_id}/report.json")))
    assert len(served["results"]) == resumed.total
    assert all(row["error"] is None for row in served["results"])
    assert served == json.loads(Path(resumed.report_path).read_text())
    assert Path(resumed.report_path).parent == reports_dir.resolve()


def test_an_import_keeps_the_runs_cache_batch_and_isolation_settings(tmp_path):
    from heatmap.services import reports

    isolation = {"haiku": {"via": "cli", "level": "full", "summary": "isolated"}}
    source = Run(run_id="src", use_cache=False, batch=True, isolation=isolation)
    meta = reports.run_metadata(source)
    assert meta["use_cache"] is False and meta["batch"] is True
    report = {"type": "scored", "run_id": "batched", **meta, "results": OLD_REPORT["results"]}
    path = tmp_path / "scored_run_batched.json"
    path.write_text(json.dumps(report))
    assert "2 imported" in import_(path)
    run = Run.objects.get(run_id="batched")
    assert run.use_cache is False and run.batch is True and run.isolation == isolation


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [("batch", "yes", "is not true or false"), ("isolation", [1], "is not an object")],
)
def test_a_report_with_a_bad_run_setting_is_refused(tmp_path, field, value, problem):
    path = tmp_path / "scored_run_bad.json"
    path.write_text(json.dumps({**OLD_REPORT, "run_id": "bad", field: value}))
    out, _ = import_failing(path)
    assert f"{field}: {value!r} {problem}" in out
    assert not Run.objects.filter(run_id="bad").exists()


def test_a_report_of_the_original_skill_checker_imports_and_shows_its_cost_as_unknown(
    tmp_path, settings, client
):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path
    path = write_original_report(tmp_path)
    assert "3 imported" in import_(path)

    run = Run.objects.get(run_id="20250301_101500")
    assert (run.completed, run.failed, run.models) == (3, 1, ["sonnet"])
    assert (run.input_tokens, run.output_tokens, run.cost_usd) == (5200, 1900, 0.0)
    failed = run.tasks.get(scenario_id="pt-03")
    assert failed.error == ERROR and failed.risk_level == "UNKNOWN"
    assert set(failed.checks.values_list("result", flat=True)) == {"unclear"}

    # Tokens without a price: the cost is unknown, not $0.
    assert "not recorded" in client.get("/runs/").content.decode()
    assert "not recorded" in client.get(f"/runs/{run.run_id}/").content.decode()

    # The database gives the cost text back when it rewrites the run's report.
    rewritten = report_services.run_report_sync(run=run)
    notes = {r.scenario_id: r.cost_note for r in load_scored_report(rewritten).results}
    assert notes == {"pt-01": "", "pt-02": "unknown (non-JSON output)", "pt-03": ""}


# --- reports no run writes (issue 21) --------------------------------------------------------


def test_a_report_holding_one_task_twice_is_refused_as_such(tmp_path):
    """It was refused as "run id … was taken meanwhile; retry": no retry could help."""
    document = report_with()
    document["results"].append(row("s1").to_dict())
    bad = tmp_path / "scored_run_twice.json"
    bad.write_text(json.dumps(document))

    out, _ = import_failing(bad)

    assert "results[1] repeats the task of results[0] (scenario 's1', skill 'k'" in out
    assert "one row per task" in out and "meanwhile" not in out
    assert not Run.objects.exists()


@pytest.mark.parametrize("field", ["results__0__finished_at", "generated"])
def test_a_report_from_the_future_is_refused(tmp_path, field):
    bad = tmp_path / "scored_run_future.json"
    bad.write_text(json.dumps(report_with(**{field: "2099-01-01T00:00:00+00:00"})))

    out, _ = import_failing(bad)

    assert "2099-01-01" in out and "future" in out
    assert not Run.objects.exists()


def test_a_clock_a_few_minutes_ahead_is_no_future(tmp_path):
    from datetime import UTC, datetime, timedelta

    soon = (datetime.now(UTC) + timedelta(minutes=3)).isoformat()
    path = tmp_path / "scored_run_soon.json"
    path.write_text(json.dumps(report_with(generated=soon, results__0__finished_at=soon)))
    assert "1 imported" in import_(path)
