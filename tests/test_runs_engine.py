"""The framework-free run engine: task list, concurrency, events, errors, cancellation."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from skillcheck.catalog import load_catalog
from skillcheck.runs import RunEngine, RunOutcome, build_tasks, estimate_cost, execute_tasks
from tests.run_helpers import StubAuditor


@pytest.fixture(scope="module")
def corpus(corpus_dir):
    return load_catalog(corpus_dir)


def run_stub(corpus, tasks, auditor: StubAuditor | None = None, **options: Any) -> RunOutcome:
    """Run ``tasks`` (all of model ``s``) as run ``r`` with ``auditor``, an instant one if none."""
    return execute_tasks(
        tasks, {"s": auditor or StubAuditor("s")}, corpus.taxonomy, run_id="r", **options
    )


class SavedBeforeEvent:
    """A listener that notes, at each task's ``ok`` progress event, whether the test's
    persistence hook had put that task in ``saved`` by then."""

    def __init__(self) -> None:
        self.saved: set[tuple[str, str, str]] = set()
        self.seen: list[bool] = []

    def __call__(self, event: dict) -> None:
        if event["type"] == "progress" and event["status"] == "ok":
            self.seen.append(
                (event["scenario_id"], event["skill"], event["model"], event["epoch"]) in self.saved
            )


def test_tasks_are_the_cross_product_with_model_innermost(corpus):
    tasks = build_tasks(corpus, domains=None, models=["a", "b"])
    pairs = sum(len(s.target_skills) for s in corpus.scenarios)
    assert len(tasks) == pairs * 2
    assert [t.model for t in tasks[:4]] == ["a", "b", "a", "b"]
    assert tasks[0].key[:2] == tasks[1].key[:2]
    assert len({t.key for t in tasks}) == len(tasks)
    first = corpus.scenarios[0]
    assert tasks[0].scenario == first and tasks[0].skill.name == first.target_skills[0]


def test_tasks_follow_selected_domains_in_catalog_order(corpus):
    names = list(corpus.domains)
    tasks = build_tasks(corpus, domains=[names[2], names[0]], models=["m"])
    expected = [
        (s.id, k)
        for d in (names[0], names[2])
        for s in corpus.domains[d].scenarios
        for k in s.target_skills
    ]
    assert [(t.scenario.id, t.skill.name) for t in tasks] == expected


def test_unknown_domain_is_refused(corpus):
    with pytest.raises(KeyError, match="nope"):
        build_tasks(corpus, domains=["nope"], models=["m"])


def test_duplicate_models_count_once(corpus):
    assert len(build_tasks(corpus, domains=None, models=["m", "m"])) == len(
        build_tasks(corpus, domains=None, models=["m"])
    )


def test_run_reports_every_task_and_events_in_order(corpus):
    tasks = build_tasks(corpus, domains=[next(iter(corpus.domains))], models=["x", "y"])
    auditors = {"x": StubAuditor("x"), "y": StubAuditor("y", result="fail")}
    events: list[dict] = []
    outcome = execute_tasks(
        tasks, auditors, corpus.taxonomy, run_id="r1", concurrency=2, listeners=[events.append]
    )
    assert outcome.status == "completed"
    assert {r.key for r in outcome.results} == {t.key for t in tasks}
    assert events[0] == {"type": "started", "run_id": "r1", "total": len(tasks)}
    assert events[-1]["type"] == "completed" and events[-1]["total_results"] == len(tasks)
    finished = [e for e in events if e["type"] == "progress" and e["status"] != "running"]
    running = [e for e in events if e["type"] == "progress" and e["status"] == "running"]
    assert len(finished) == len(running) == len(tasks)
    assert [e["completed"] for e in finished] == list(range(1, len(tasks) + 1))
    fail_checks = {c.result for r in outcome.results if r.model == "y" for c in r.checks}
    assert "fail" in fail_checks


def test_concurrency_is_bounded_and_used(corpus):
    tasks = build_tasks(corpus, domains=None, models=["s"])[:12]
    auditor = StubAuditor("s", delay_s=0.05)
    run_stub(corpus, tasks, auditor, concurrency=4)
    assert auditor.max_active == 4


def test_a_raising_task_becomes_an_error_result_and_the_run_goes_on(corpus):
    tasks = build_tasks(corpus, domains=None, models=["s"])[:6]
    bad = tasks[1].scenario.id
    auditor = StubAuditor("s", fail_on=lambda req: req.scenario.id == bad)
    outcome = run_stub(corpus, tasks, auditor, concurrency=2)
    assert outcome.status == "completed"
    assert len(outcome.results) == 6
    errors = [r for r in outcome.results if r.error]
    assert errors and all(r.scenario_id == bad for r in errors)
    assert "boom" in errors[0].error
    assert {c.result for c in errors[0].checks} == {"unclear"}
    assert outcome.failed == len(errors)


def test_a_task_that_times_out_becomes_an_error_result(corpus):
    tasks = build_tasks(corpus, domains=None, models=["s"])[:4]
    slow = tasks[0].key
    auditor = StubAuditor("s", hang_on=lambda req: (req.scenario.id, req.skill.name) == slow[:2])
    started = time.monotonic()
    outcome = run_stub(corpus, tasks, auditor, concurrency=2, task_timeout_s=0.5)
    auditor.release.set()
    assert time.monotonic() - started < 5
    by_key = {r.key: r for r in outcome.results}
    assert "timed out" in by_key[slow].error
    assert sum(1 for r in outcome.results if r.ok) == 3


def test_cancel_stops_launching_and_keeps_in_flight_results(corpus):
    tasks = build_tasks(corpus, domains=None, models=["s"])[:20]
    auditor = StubAuditor("s", delay_s=0.1)
    cancel = threading.Event()
    events: list[dict] = []

    def listener(event):
        events.append(event)
        if event["type"] == "progress" and event["status"] == "ok" and event["completed"] == 3:
            cancel.set()

    outcome = run_stub(
        corpus,
        tasks,
        auditor,
        concurrency=2,
        listeners=[listener],
        cancel_event=cancel,
    )
    assert outcome.status == "cancelled"
    assert 3 <= len(outcome.results) < 20
    assert len(auditor.calls) == len(outcome.results)  # nothing launched was dropped
    assert events[-1]["type"] == "completed" and events[-1]["status"] == "cancelled"


def test_should_cancel_is_polled(corpus):
    tasks = build_tasks(corpus, domains=None, models=["s"])[:30]
    auditor = StubAuditor("s", delay_s=0.05)
    started = time.monotonic()
    outcome = run_stub(
        corpus,
        tasks,
        auditor,
        concurrency=1,
        should_cancel=lambda: time.monotonic() - started > 0.3,
    )
    assert outcome.status == "cancelled"
    assert len(outcome.results) < 30


def test_abort_abandons_in_flight_tasks(corpus):
    tasks = build_tasks(corpus, domains=None, models=["s"])[:3]
    auditor = StubAuditor("s", hang_on=lambda req: True)
    engine = RunEngine(tasks, {"s": auditor}, corpus.taxonomy, run_id="r", concurrency=3)
    threading.Timer(0.3, engine.abort).start()
    outcome = engine.run()
    auditor.release.set()
    assert outcome.status == "cancelled"
    assert outcome.results == [] and outcome.abandoned == 3


def test_results_are_persisted_before_their_event(corpus):
    tasks = build_tasks(corpus, domains=None, models=["s"])[:5]
    probe = SavedBeforeEvent()
    run_stub(corpus, tasks, listeners=[probe], on_result=lambda result: probe.saved.add(result.key))
    assert probe.seen == [True] * 5


def test_a_failing_persistence_hook_fails_the_run_with_an_error_event(corpus):
    tasks = build_tasks(corpus, domains=None, models=["s"])[:5]
    events: list[dict] = []

    def on_result(result):
        raise OSError("disk full")

    outcome = run_stub(
        corpus,
        tasks,
        listeners=[events.append],
        on_result=on_result,
    )
    assert outcome.status == "failed" and "disk full" in outcome.error
    assert events[-1] == {"type": "error", "run_id": "r", "error": outcome.error}


def test_a_broken_listener_does_not_stop_the_run(corpus):
    tasks = build_tasks(corpus, domains=None, models=["s"])[:3]

    def listener(event):
        raise RuntimeError("listener bug")

    outcome = run_stub(corpus, tasks, listeners=[listener])
    assert outcome.status == "completed" and len(outcome.results) == 3


@pytest.mark.parametrize("concurrency", [0, 65])
def test_concurrency_outside_bounds_is_refused(corpus, concurrency):
    with pytest.raises(ValueError, match="between 1 and 64"):
        RunEngine([], {}, corpus.taxonomy, run_id="r", concurrency=concurrency)


def test_cost_estimate_prices_claude_models_and_not_heuristic(corpus):
    tasks = build_tasks(corpus, domains=None, models=["heuristic", "sonnet"])
    estimate = estimate_cost(tasks, {"sonnet": "claude-sonnet-4-5"}, corpus.taxonomy)
    assert estimate["heuristic"] == 0.0
    assert estimate["sonnet"] > 0.01 * (len(tasks) / 2)


def test_workers_serve_many_tasks_and_leave_when_the_run_ends(corpus):
    tasks = build_tasks(corpus, domains=None, models=["s"])[:24]
    auditor = StubAuditor("s", delay_s=0.01)
    workers: set[threading.Thread] = set()
    audit = auditor.audit

    def recording(request):
        workers.add(threading.current_thread())
        return audit(request)

    auditor.audit = recording  # type: ignore[method-assign]
    outcome = run_stub(corpus, tasks, auditor, concurrency=3)
    assert outcome.status == "completed" and len(outcome.results) == 24
    assert len(workers) <= 3  # one thread per slot, not one per task
    # The workers themselves, not a thread count: a thread of an earlier test that ends
    # meanwhile made the count drop below its value before the run.
    for worker in workers:
        worker.join(5)
    assert [worker.name for worker in workers if worker.is_alive()] == []


def test_a_task_stuck_past_its_timeout_does_not_cost_the_run_a_slot(corpus):
    tasks = build_tasks(corpus, domains=None, models=["s"])[:9]
    stuck = tasks[0].key
    auditor = StubAuditor(
        "s", delay_s=0.05, hang_on=lambda req: (req.scenario.id, req.skill.name) == stuck[:2]
    )
    outcome = run_stub(corpus, tasks, auditor, concurrency=2, task_timeout_s=0.3)
    auditor.release.set()
    assert "timed out" in {r.key: r for r in outcome.results}[stuck].error
    assert sum(1 for r in outcome.results if r.ok) == 8
    assert auditor.max_active == 3  # the stuck call, and two slots still working


def test_answers_that_arrive_together_are_saved_together_before_their_events(corpus):
    tasks = build_tasks(corpus, domains=None, models=["s"])[:4]
    auditor = StubAuditor("s", hang_on=lambda req: True)
    groups: list[list[tuple]] = []
    probe = SavedBeforeEvent()

    def on_results(results):
        groups.append([r.key for r in results])
        if len(groups) == 1:
            time.sleep(0.2)  # the other answers arrive meanwhile
        probe.saved.update(r.key for r in results)

    threading.Timer(0.3, auditor.release.set).start()
    outcome = run_stub(
        corpus,
        tasks,
        auditor,
        concurrency=4,
        listeners=[probe],
        on_results=on_results,
    )
    assert outcome.status == "completed" and outcome.completed == 4
    assert sorted(key for group in groups for key in group) == sorted(t.key for t in tasks)
    assert max(len(group) for group in groups) > 1
    assert probe.seen == [True] * 4
