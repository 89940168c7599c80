"""Run services: planning, persistence per task, resume, cancel, stale runs, summaries."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from heatmap import selectors
from heatmap.models import CheckResult, Run, TaskResult
from heatmap.services import execution, plans
from heatmap.services.cancel import run_cancel
from heatmap.services.execution import run_execute
from heatmap.services.liveness import run_mark_stale_interrupted
from heatmap.services.plans import RunRequestError
from heatmap.services.resume import run_resume
from heatmap.services.start import run_create, run_start
from skillcheck.reports import load_scored_report
from tests.run_helpers import StubAuditor

DOMAIN = "competitive-intelligence"

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture(autouse=True)
def reports_in_tmp(settings, tmp_path):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    return settings.SKILLCHECK_REPORTS_DIR


@pytest.fixture
def auditors():
    return {
        "a": StubAuditor("a"),
        "b": StubAuditor("b", result="fail"),
        "off": StubAuditor("off", available=False),
    }


@pytest.fixture
def catalog(corpus_dir):
    return plans.plan_catalog(path=corpus_dir)


def create(corpus_dir, auditors, models=("a", "b"), domains=(DOMAIN,), **kw):
    return run_create(
        domains=list(domains),
        models=list(models),
        catalog_path=corpus_dir,
        auditors=auditors,
        **kw,
    )


def db_keys(run):
    return sorted(run.tasks.values_list("scenario_id", "skill", "model", "epoch"))


def json_keys(run):
    return sorted(r.key for r in load_scored_report(run.report_path).results)


# --- planning -----------------------------------------------------------------------------


def test_plan_counts_tasks_per_model_and_pairs(catalog, auditors):
    plan = plans.run_plan(catalog=catalog, domains=None, models=["a", "b"], auditors=auditors)
    pairs = sum(len(s.target_skills) for s in catalog.scenarios)
    assert plan.pairs == pairs and plan.total == 2 * pairs
    assert plan.per_model == {"a": pairs, "b": pairs}
    assert plan.domains == list(catalog.domains)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"models": ["zz"]}, "unknown model.*zz.*valid models: a, b, off"),
        ({"models": ["off"]}, "off is not available: off is switched off"),
        ({"models": []}, "at least one model.*available models"),
        ({"models": ["a"], "domains": ["nowhere"]}, "unknown domain.*nowhere.*valid domains: "),
        ({"models": ["a"], "concurrency": 65}, "from 1 to 64"),
        ({"models": ["a"], "concurrency": 0}, "from 1 to 64"),
    ],
)
def test_plan_refuses_bad_requests_naming_valid_values(catalog, auditors, kwargs, message):
    kwargs = {"domains": None, **kwargs}
    with pytest.raises(RunRequestError, match=message):
        plans.run_plan(catalog=catalog, auditors=auditors, **kwargs)


def test_create_stores_what_resume_needs(corpus_dir, auditors, reports_in_tmp):
    run = create(corpus_dir, auditors, run_id="r-1", concurrency=5)
    assert run.status == Run.Status.PENDING and run.run_id == "r-1"
    assert run.models == ["a", "b"] and run.domains == [DOMAIN] and run.concurrency == 5
    assert run.total > 0 and run.catalog_path == str(corpus_dir.resolve())
    assert len(run.catalog_fingerprint) == 16 and run.catalog_fingerprints["skills"]
    assert run.report_path == str(reports_in_tmp.resolve() / "scored_run_r-1.json")
    with pytest.raises(RunRequestError, match="exists already"):
        create(corpus_dir, auditors, run_id="r-1")


# --- execution ----------------------------------------------------------------------------


def test_execute_commits_each_task_before_its_event(corpus_dir, auditors):
    run = create(corpus_dir, auditors)
    in_db_at_event: list[bool] = []

    def listener(event):
        if event["type"] == "progress" and event["status"] != "running":
            key = (event["scenario_id"], event["skill"], event["model"])
            task = TaskResult.objects.filter(
                run=run, scenario_id=key[0], skill=key[1], model=key[2]
            ).first()
            in_db_at_event.append(task is not None and task.checks.exists())

    events: list[dict] = []
    run = run_execute(run=run, listeners=[listener, events.append], auditors=auditors)
    assert run.status == Run.Status.COMPLETED
    assert in_db_at_event == [True] * run.total
    assert run.completed == run.total == TaskResult.objects.filter(run=run).count()
    assert run.failed == 0 and run.input_tokens == 100 * run.total
    assert run.cost_usd == pytest.approx(0.001 * run.total)
    assert db_keys(run) == json_keys(run)
    assert events[-1] == {
        "type": "completed",
        "run_id": run.run_id,
        "total_results": run.total,
        "report": run.report_path,
        "status": "completed",
    }
    data = json.loads(Path(run.report_path).read_text())
    assert data["status"] == "completed" and data["result_count"] == run.total


def test_json_agrees_with_db_rows_and_checks(corpus_dir, auditors):
    run = run_execute(run=create(corpus_dir, auditors, models=["b"]), auditors=auditors)
    report = load_scored_report(run.report_path)
    for result in report.results:
        task = run.tasks.get(scenario_id=result.scenario_id, skill=result.skill, model="b")
        assert sorted((c.check_id, c.result) for c in result.checks) == sorted(
            task.checks.values_list("check_id", "result")
        )
    assert CheckResult.objects.filter(task__run=run, result="fail").exists()


def test_failed_tasks_are_summarized_and_resume_retries_only_them(corpus_dir, catalog):
    first_scenario = catalog.domains[DOMAIN].scenarios[0].id
    flaky = StubAuditor("a", fail_on=lambda req: req.scenario.id == first_scenario)
    run = create(corpus_dir, {"a": flaky}, models=["a"])
    run = run_execute(run=run, auditors={"a": flaky})
    assert run.status == Run.Status.COMPLETED and run.failed > 0
    failed_keys = sorted(run.tasks.exclude(error="").values_list("scenario_id", "skill"))
    assert len(failed_keys) == run.failed

    fixed = StubAuditor("a")
    run = run_resume(run_id=run.run_id, auditors={"a": fixed})
    assert run.status == Run.Status.PENDING
    run = run_execute(run=run, auditors={"a": fixed})
    assert sorted(fixed.calls) == failed_keys
    assert run.status == Run.Status.COMPLETED and run.failed == 0
    assert run.completed == run.total == run.tasks.count()
    assert db_keys(run) == json_keys(run)


def test_cancel_from_the_database_stops_the_run_and_resume_finishes_it(corpus_dir, auditors):
    slow = StubAuditor("a", delay_s=0.2)
    run = create(corpus_dir, {"a": slow}, models=["a"], concurrency=1)

    def listener(event):
        if event["type"] == "progress" and event["status"] == "ok" and event["completed"] == 2:
            run_cancel(run=run)

    events: list[dict] = []
    run = run_execute(
        run=run, listeners=[listener, events.append], auditors={"a": slow}, cancel_grace_s=5
    )
    assert run.status == Run.Status.CANCELLED
    assert 2 <= run.completed <= 2 + 6  # the flag is polled about once a second
    assert run.completed < run.total
    assert events[-1]["status"] == "cancelled"
    assert load_scored_report(run.report_path).metadata["status"] == "cancelled"
    assert db_keys(run) == json_keys(run)

    run = run_execute(run=run_resume(run_id=run.run_id, auditors={"a": slow}), auditors={"a": slow})
    assert run.status == Run.Status.COMPLETED and run.completed == run.total
    assert sorted(slow.calls) == sorted(set(slow.calls)) and len(slow.calls) == run.total


def test_a_raising_auditor_becomes_error_rows_and_the_run_completes(corpus_dir):
    broken = StubAuditor("a", fail_on=lambda req: True)
    run = run_execute(run=create(corpus_dir, {"a": broken}, models=["a"]), auditors={"a": broken})
    assert run.status == Run.Status.COMPLETED
    assert run.failed == run.completed == run.total
    assert "boom" in run.tasks.first().error


def test_heartbeat_beats_while_a_long_task_is_in_flight(corpus_dir, monkeypatch):
    monkeypatch.setattr(execution, "HEARTBEAT_S", 0.2)
    slow = StubAuditor("a", delay_s=1.0)
    run = create(corpus_dir, {"a": slow}, models=["a"], domains=["market-research"], concurrency=1)
    beats: list = []

    def tick_spy(original):
        def tick(self):
            original(self)
            beats.append(Run.objects.get(pk=run.pk).heartbeat_at)

        return tick

    monkeypatch.setattr(execution._Execution, "on_tick", tick_spy(execution._Execution.on_tick))
    run_execute(run=run, auditors={"a": slow})
    assert len(set(beats)) >= 2 + run.total  # more beats than finished tasks


handed_over: list[str] = []


def record_handover(run_id: str) -> None:
    """An executor for ``SKILLCHECK_RUN_DISPATCHER``: notes the run, executes nothing."""
    handed_over.append(run_id)


def test_a_started_run_goes_to_the_executor_the_settings_name(catalog, settings):
    settings.SKILLCHECK_RUN_DISPATCHER = f"{__name__}.record_handover"
    handed_over.clear()
    run = run_start(catalog=catalog, domains=[DOMAIN], models=["heuristic"])
    assert handed_over == [run.run_id]
    assert Run.objects.get(pk=run.pk).status == Run.Status.PENDING


def test_execute_refuses_a_live_running_run(corpus_dir, auditors):
    run = create(corpus_dir, auditors)
    Run.objects.filter(pk=run.pk).update(status="running", heartbeat_at=timezone.now())
    with pytest.raises(RunRequestError, match="already running"):
        run_execute(run=run, auditors=auditors)


def test_execute_fails_the_run_when_a_model_became_unavailable(corpus_dir, auditors):
    run = create(corpus_dir, auditors)
    events: list[dict] = []
    auditors["a"].available = False
    run = run_execute(run=run, auditors=auditors, listeners=[events.append])
    assert run.status == Run.Status.FAILED and "not available" in run.error
    assert events == [{"type": "error", "run_id": run.run_id, "error": run.error}]


# --- stale, resume, cancel ----------------------------------------------------------------


def test_stale_running_runs_become_interrupted(corpus_dir, auditors, settings):
    old = create(corpus_dir, auditors, run_id="old")
    fresh = create(corpus_dir, auditors, run_id="fresh")
    long_ago = timezone.now() - timedelta(seconds=settings.SKILLCHECK_HEARTBEAT_STALE_S + 5)
    Run.objects.filter(pk=old.pk).update(status="running", heartbeat_at=long_ago)
    Run.objects.filter(pk=fresh.pk).update(status="running", heartbeat_at=timezone.now())
    assert run_mark_stale_interrupted() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == "interrupted" and fresh.status == "running"


def test_resume_refuses_unknown_and_live_runs(corpus_dir, auditors):
    with pytest.raises(RunRequestError, match="no run 'nope'"):
        run_resume(run_id="nope", auditors=auditors)
    run = create(corpus_dir, auditors)
    Run.objects.filter(pk=run.pk).update(status="running", heartbeat_at=timezone.now())
    with pytest.raises(RunRequestError, match="still running"):
        run_resume(run_id=run.run_id, auditors=auditors)


def test_resume_warns_when_a_skill_changed(catalog_dir, auditors):
    run = run_create(domains=None, models=["a"], catalog_path=catalog_dir, auditors=auditors)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.INTERRUPTED)
    skill = next(iter(plans.plan_catalog(path=catalog_dir).skills.values()))
    skill.path.write_text(skill.path.read_text() + "\nOne more line.\n")
    resumed = run_resume(run_id=run.run_id, auditors=auditors)
    assert resumed.resume_warnings == [f"skill(s) changed since the run started: {skill.name}"]


def test_resume_rewrites_json_that_lags_the_database(corpus_dir, auditors):
    run = run_execute(run=create(corpus_dir, auditors, models=["a"]), auditors=auditors)
    with open(run.report_path, "w") as handle:
        json.dump({"type": "scored", "run_id": run.run_id, "results": []}, handle)
    run_execute(run=run_resume(run_id=run.run_id, auditors=auditors), auditors=auditors)
    assert json_keys(run) == db_keys(run) and len(db_keys(run)) == run.total


def test_cancel_of_an_interrupted_run_marks_it_cancelled(corpus_dir, auditors):
    run = create(corpus_dir, auditors)
    Run.objects.filter(pk=run.pk).update(status="interrupted")
    run_cancel(run=run)
    assert run.status == "cancelled" and run.cancel_requested


def test_cancel_of_a_pending_run_stops_it_before_any_task(corpus_dir, auditors):
    run = create(corpus_dir, auditors)
    run_cancel(run=run)
    run = run_execute(run=run, auditors=auditors)
    assert run.status == "cancelled" and run.completed == 0
    assert auditors["a"].calls == []


# --- summary ------------------------------------------------------------------------------


def test_summary_per_skill_and_model(corpus_dir, auditors):
    run = run_execute(run=create(corpus_dir, auditors), auditors=auditors)
    summary = selectors.run_result_tables(run=run)
    by_model = {s.name: s for s in summary["models"]}
    assert [s.name for s in summary["models"]] == ["a", "b"]
    assert by_model["a"].pass_pct == 100.0 and by_model["a"].top_failing == []
    assert by_model["b"].pass_pct == 0.0 and by_model["b"].failed_checks > 0
    assert len(by_model["b"].top_failing) == 3
    assert sum(s.tasks for s in summary["skills"]) == run.total
    assert {s.name for s in summary["skills"]} == set(run.tasks.values_list("skill", flat=True))


# --- task summaries -----------------------------------------------------------------------


class MixedAuditor(StubAuditor):
    """Answers each check differently (pass, fail, unclear, na by check and skill)."""

    def audit(self, request):
        from skillcheck.auditors.base import AuditResponse

        values = ("pass", "fail", "unclear", "na", "fail")
        offset = len(request.skill.name) + len(request.scenario.id)
        checks = {
            c.id: {"result": values[(i + offset) % len(values)], "evidence": "SKILL.md:1"}
            for i, c in enumerate(request.taxonomy.model_checks)
        }
        body = json.dumps({"risk_level": "LOW", "checks": checks})
        return AuditResponse(text=f"```json\n{body}\n```\n", input_tokens=10, output_tokens=5)


def test_task_summaries_agree_with_check_rows_after_a_run(corpus_dir, catalog):
    from tests.heatmap_data import stored_summary, summary_from_check_rows

    broken = catalog.domains[DOMAIN].scenarios[0].id
    auditors = {
        "mixed": MixedAuditor("mixed"),
        "flaky": StubAuditor("flaky", fail_on=lambda req: req.scenario.id == broken),
    }
    run = run_execute(
        run=create(corpus_dir, auditors, models=["mixed", "flaky"]), auditors=auditors
    )

    tasks = list(run.tasks.all())
    assert tasks and any(t.error for t in tasks)
    for task in tasks:
        assert stored_summary(task) == summary_from_check_rows(task), task
    assert {t.model for t in tasks if t.fail_count and t.pass_count and t.na_count} == {"mixed"}


def test_resuming_a_run_killed_a_moment_ago_says_when_it_can_be_resumed(
    corpus_dir, auditors, settings
):
    settings.SKILLCHECK_HEARTBEAT_STALE_S = 30
    run = create(corpus_dir, auditors)
    beat = timezone.now() - timedelta(seconds=10)
    Run.objects.filter(pk=run.pk).update(status="running", heartbeat_at=beat)
    with pytest.raises(RunRequestError, match=r"last heartbeat 10 s ago.* resume it in about 20 s"):
        run_resume(run_id=run.run_id, auditors=auditors)
