from __future__ import annotations

import pytest

from heatmap import selectors
from heatmap.models import Run, TaskResult
from tests.heatmap_data import add_task, fill_domain, make_run, specialist_task

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def overview_row(catalog, skill: str) -> selectors.SkillRow:
    return next(r for r in selectors.heatmap_overview(catalog=catalog) if r.skill == skill)


def test_overview_counts_only_the_newest_result_per_key(catalog, domain_id, scenario):
    skill = scenario.specialist
    old, new = make_run(), make_run()
    specialist_task(
        old,
        scenario,
        model="heuristic",
        results={"WF-1": "fail", "WF-2": "fail"},
        domain=domain_id,
        age_s=60,
    )
    specialist_task(
        new, scenario, model="heuristic", results={"WF-1": "pass", "WF-2": "fail"}, domain=domain_id
    )

    row = overview_row(catalog, skill)

    assert row.counts == {"pass": 1, "fail": 1, "unclear": 0, "na": 0}
    assert row.pass_pct == 50
    assert [getattr(c, "id", c) for c, _ in row.top_failing] == ["WF-2"]
    assert row.models == {"heuristic"}


def test_newest_is_by_finish_time_not_by_run_order(catalog, domain_id, scenario):
    first, resumed_later = make_run(), make_run()
    specialist_task(resumed_later, scenario, results={"WF-1": "pass"}, domain=domain_id, age_s=120)
    specialist_task(first, scenario, results={"WF-1": "fail"}, domain=domain_id)

    row = overview_row(catalog, scenario.specialist)

    assert row.counts["fail"] == 1 and row.counts["pass"] == 0


def test_a_failed_task_does_not_hide_an_older_result(catalog, domain_id):
    scenario = catalog.domains[domain_id].scenarios[0]
    good, broken = make_run(), make_run()
    specialist_task(good, scenario, results={"WF-1": "fail"}, domain=domain_id, age_s=60)
    specialist_task(
        broken, scenario, results={"WF-1": "unclear"}, domain=domain_id, error="API error 500"
    )

    assert overview_row(catalog, scenario.specialist).counts["fail"] == 1
    [detail] = selectors.heatmap_cell_detail(
        catalog=catalog, scenario_id=scenario.id, check_id="WF-1", model="heuristic"
    )
    assert (detail.result, detail.run_id) == ("fail", good.run_id)
    # Pinned to the failed run, the view shows what that run did.
    pinned = selectors.heatmap_overview(
        catalog=catalog, filters=selectors.HeatmapFilter(run=broken)
    )
    assert next(r for r in pinned if r.skill == scenario.specialist).counts["unclear"] == 1


def test_a_key_that_only_failed_shows_its_newest_failure(catalog, domain_id):
    scenario = catalog.domains[domain_id].scenarios[0]
    first, second = make_run(), make_run()
    specialist_task(first, scenario, results={"WF-1": "unclear"}, age_s=60, error="timeout")
    specialist_task(second, scenario, results={"WF-1": "unclear"}, error="API error 500")

    [detail] = selectors.heatmap_cell_detail(
        catalog=catalog, scenario_id=scenario.id, check_id="WF-1", model="heuristic"
    )
    assert detail.run_id == second.run_id


def test_overview_lists_unrun_skills_and_filters_by_name(catalog):
    rows = selectors.heatmap_overview(catalog=catalog)
    assert {r.skill for r in rows} == set(catalog.skills)
    assert all(r.pass_pct is None for r in rows)

    some = next(iter(catalog.skills))
    filtered = selectors.heatmap_overview(catalog=catalog, query=some.upper())
    assert [r.skill for r in filtered] == [some]


def test_overview_domain_tab_counts_only_that_domain(catalog, domain_id):
    other = next(d for d in catalog.domains if d != domain_id and not catalog.domains[d].is_dev)
    run = make_run()
    fill_domain(run, catalog, domain_id, model="heuristic", result="pass")
    fill_domain(run, catalog, other, model="heuristic", result="fail")

    rows = selectors.heatmap_overview(catalog=catalog, domain=domain_id)

    assert rows and all(r.counts["fail"] == 0 for r in rows)
    assert any(r.counts["pass"] for r in rows)


def test_domain_matrix_puts_specialist_first_and_marks_missing_as_not_run(
    catalog, domain_id, scenario
):
    run = make_run()
    specialist_task(run, scenario, model="sonnet", results={"WF-1": "fail"}, domain=domain_id)

    matrix = selectors.heatmap_domain_matrix(
        catalog=catalog, domain_id=domain_id, extra_models=["haiku"]
    )

    assert matrix.models == ["haiku", "sonnet"]
    wf1 = next(r for r in matrix.rows if r.check.id == "WF-1")
    cell = next(c for c in wf1.cells if c.scenario_id == scenario.id and c.model == "sonnet")
    assert [(r.role, r.result) for r in cell.results] == [
        ("specialist", "fail"),
        *[("generalist", "notrun")] * (len(scenario.target_skills) - 1),
    ]
    assert matrix.filled == 1
    assert (
        matrix.total
        == len(matrix.rows)
        * sum(len(s.target_skills) for s in catalog.domains[domain_id].scenarios)
        * 2
    )


def test_domain_matrix_has_no_bp_rows_and_groups_in_order(catalog, domain_id):
    matrix = selectors.heatmap_domain_matrix(catalog=catalog, domain_id=domain_id)
    groups = [r.check.group for r in matrix.rows if r.first_of_group]
    assert groups == ["WF", "DK", "APF", "SEC"]


def test_query_counts_do_not_grow_with_data(catalog, domain_id, django_assert_max_num_queries):
    for _ in range(3):
        run = make_run()
        fill_domain(run, catalog, domain_id, model="heuristic")
        fill_domain(run, catalog, domain_id, model="sonnet")

    # The catalog shown, as a page names it (``catalog_scope``, one query of its own).
    shown = selectors.HeatmapFilter(catalog_id=run.catalog_id)
    # data version, task summaries, fingerprints (stale marks), check rows (agreement)
    with django_assert_max_num_queries(4):
        selectors.heatmap_overview(catalog=catalog, filters=shown)
    with django_assert_max_num_queries(1):
        selectors.heatmap_domain_matrix(catalog=catalog, domain_id=domain_id, filters=shown)
    scenario = catalog.domains[domain_id].scenarios[0]
    with django_assert_max_num_queries(2):
        details = selectors.heatmap_cell_detail(
            catalog=catalog, scenario_id=scenario.id, check_id="WF-1", filters=shown
        )
    assert len(details) == 2 * len(scenario.target_skills)


def test_cell_detail_returns_the_newest_answer_per_model_and_skill(catalog, scenario):
    old, new = make_run(), make_run()
    specialist_task(old, scenario, results={"WF-1": "fail"}, markdown="old answer", age_s=30)
    specialist_task(new, scenario, results={"WF-1": "pass"}, markdown="new answer")

    [detail] = selectors.heatmap_cell_detail(
        catalog=catalog, scenario_id=scenario.id, check_id="WF-1", model="heuristic"
    )

    assert (detail.result, detail.markdown, detail.run_id) == ("pass", "new answer", new.run_id)
    assert detail.role == "specialist"


def test_run_active_ignores_finished_and_stale_runs():
    from datetime import timedelta

    from django.utils import timezone

    make_run(status=Run.Status.COMPLETED)
    make_run(status=Run.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1))
    assert selectors.run_active() is None
    running = make_run(status=Run.Status.RUNNING)
    assert selectors.run_active() == running


def test_run_summary_estimates_time_left():
    from datetime import timedelta

    from django.utils import timezone

    run = make_run(
        status=Run.Status.RUNNING,
        total=10,
        completed=5,
        started_at=timezone.now() - timedelta(seconds=50),
        heartbeat_at=timezone.now(),
    )
    summary = selectors.run_progress(run=run)
    assert summary["done"] == 5
    assert 45 <= summary["eta_s"] <= 55


def test_the_time_left_counts_only_the_called_tasks():
    """90 of 100 tasks reused from the cache at the start, 5 called in 50 s: 5 more to call
    take about 50 s (not the 5 s that 95 done in 50 s would suggest)."""
    from datetime import timedelta

    from django.utils import timezone

    started = timezone.now() - timedelta(seconds=50)
    live = {"status": Run.Status.RUNNING, "started_at": started, "heartbeat_at": timezone.now()}
    run = make_run(total=100, completed=95, cached=90, **live)
    assert 45 <= selectors.run_progress(run=run)["eta_s"] <= 55
    only_cached = make_run(total=100, completed=90, cached=90, **live)
    assert selectors.run_progress(run=only_cached)["eta_s"] is None  # no pace known yet


def test_lint_matrix_is_computed_once_per_catalog(catalog, monkeypatch):
    from heatmap.selectors import lint
    from skillcheck import linter

    calls = []
    monkeypatch.setattr(lint, "lint_catalog", lambda c: calls.append(1) or linter.lint_catalog(c))
    lint._lint_cache.clear()
    first = selectors.lint_matrix(catalog=catalog)
    second = selectors.lint_matrix(catalog=catalog)
    assert first is second and len(calls) == 1
    assert set(first) >= set(catalog.skills)


def test_two_catalogs_keep_their_lint_and_fingerprints_side_by_side(
    catalog, corpus_dir, monkeypatch
):
    """Pages of two catalogs in turn: neither catalog is linted or hashed again."""
    from heatmap.selectors import lint, stale
    from skillcheck import linter

    calls = []
    monkeypatch.setattr(lint, "lint_catalog", lambda c: calls.append(1) or linter.lint_catalog(c))
    lint._lint_cache.clear()
    corpus = selectors.catalog_current(corpus_dir)
    for _ in range(2):
        bundled_lint = selectors.lint_matrix(catalog=catalog)
        corpus_lint = selectors.lint_matrix(catalog=corpus)
        prints = (
            stale.catalog_fingerprinter(catalog=catalog),
            stale.catalog_fingerprinter(catalog=corpus),
        )
    assert len(calls) == 2 and set(bundled_lint) >= set(catalog.skills)
    assert set(corpus_lint) >= set(corpus.skills)
    assert prints[0] is stale.catalog_fingerprinter(catalog=catalog)
    assert prints[1] is stale.catalog_fingerprinter(catalog=corpus)


def test_overview_cache_follows_new_results(
    catalog, domain_id, django_assert_max_num_queries, scenario
):
    run = make_run()
    specialist_task(run, scenario, results={"WF-1": "fail"}, domain=domain_id, age_s=10)
    shown = selectors.HeatmapFilter(catalog_id=run.catalog_id)
    selectors.heatmap_overview(catalog=catalog, filters=shown)
    with django_assert_max_num_queries(1):
        selectors.heatmap_overview(catalog=catalog, filters=shown)

    specialist_task(make_run(), scenario, results={"WF-1": "pass"}, domain=domain_id)
    row = overview_row(catalog, scenario.specialist)
    assert row.counts["pass"] == 1 and row.counts["fail"] == 0


def _overview_from_check_rows(domain: str | None = None) -> dict[str, tuple]:
    """Per skill: counts, models and failures per check, from the newest tasks' check rows.

    Independent of the task summaries: the newest task per key is picked in Python.
    """
    from collections import Counter

    from heatmap.models import CheckResult, TaskResult

    tasks = TaskResult.objects.filter(domain=domain) if domain else TaskResult.objects.all()
    newest: dict[tuple, TaskResult] = {}
    for task in tasks.order_by("finished_at", "pk"):
        newest[(task.scenario_id, task.skill, task.model)] = task
    by_pk = {t.pk: t for t in newest.values()}
    expected: dict[str, tuple] = {}
    counts: dict[str, Counter] = {}
    models: dict[str, set] = {}
    fails: dict[str, Counter] = {}
    for check in CheckResult.objects.filter(task__in=list(by_pk)):
        skill = by_pk[check.task_id].skill
        counts.setdefault(skill, Counter())[check.result] += 1
        models.setdefault(skill, set()).add(by_pk[check.task_id].model)
        if check.result == "fail":
            fails.setdefault(skill, Counter())[check.check_id] += 1
    for skill in counts:
        expected[skill] = (
            {r: counts[skill][r] for r in selectors.RESULT_ORDER},
            models[skill],
            dict(fails.get(skill, {})),
        )
    return expected


@pytest.fixture
def mixed_dataset(catalog, domain_id):
    """Three runs over two domains and two models, results varying by check, some superseded."""
    check_ids = [c.id for c in catalog.taxonomy.model_checks]
    other = next(d for d in catalog.domains if d != domain_id and not catalog.domains[d].is_dev)
    values = ("pass", "fail", "unclear", "na", "fail", "pass")
    for age, run in ((300, make_run()), (200, make_run()), (100, make_run())):
        for d_index, domain in enumerate((domain_id, other)):
            for s_index, scenario in enumerate(catalog.domains[domain].scenarios):
                for k_index, skill in enumerate(scenario.target_skills):
                    for m_index, model in enumerate(("heuristic", "sonnet")):
                        if (age + s_index + k_index + m_index) % 3 == 0 and age != 300:
                            continue  # not every key is re-run: newest rows come from all runs
                        seed = age + d_index + s_index + k_index + m_index
                        add_task(
                            run,
                            scenario_id=scenario.id,
                            skill=skill,
                            model=model,
                            results={
                                c: values[(seed + i * (1 + m_index)) % len(values)]
                                for i, c in enumerate(check_ids)
                            },
                            domain=domain,
                            age_s=age,
                        )
    return other


def test_overview_numbers_match_the_newest_check_rows(catalog, domain_id, mixed_dataset):
    for domain in (None, domain_id, mixed_dataset):
        expected = _overview_from_check_rows(domain)
        rows = {r.skill: r for r in selectors.heatmap_overview(catalog=catalog, domain=domain)}

        assert expected, domain
        for skill, (counts, models, fails) in expected.items():
            row = rows[skill]
            assert (row.counts, row.models, row.fails) == (counts, models, fails), (domain, skill)
            ranked = sorted(fails.values(), reverse=True)[:3]
            assert [n for _, n in row.top_failing] == ranked
        assert all(not r.scored for s, r in rows.items() if s not in expected)


def test_top_failing_checks_carry_their_catalog_severity(catalog, domain_id, scenario):
    run = make_run()
    for model in ("haiku", "opus"):
        specialist_task(
            run,
            scenario,
            model=model,
            results={"WF-1": "fail", "SEC-1": "fail", "DK-1": "pass"},
            domain=domain_id,
        )
    specialist_task(
        run,
        scenario,
        model="sonnet",
        results={"SEC-1": "fail", "WF-1": "pass", "APF-9": "fail", "DK-1": "fail"},
        domain=domain_id,
    )

    row = overview_row(catalog, scenario.specialist)

    # DK-1 (critical) and APF-9 (low) fail once each: the more severe one makes the top three.
    assert [(c.id, n) for c, n in row.top_failing] == [("SEC-1", 3), ("WF-1", 2), ("DK-1", 1)]
    assert row.top_failing[0][0].severity == catalog.taxonomy.by_id["SEC-1"].severity
    assert row.counts == {"pass": 3, "fail": 7, "unclear": 0, "na": 0}


def test_overview_query_count_is_the_same_for_little_and_much_data(catalog, domain_id):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def overview_queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            selectors.heatmap_overview(catalog=catalog, filters=shown)
            selectors.heatmap_overview(catalog=catalog, domain=domain_id, filters=shown)
        return len(queries)

    shown = selectors.HeatmapFilter(catalog_id=make_run().catalog_id)
    empty = overview_queries()
    run = make_run()
    fill_domain(run, catalog, domain_id, model="heuristic")
    little = overview_queries()
    for domain in catalog.domains:
        for model in ("haiku", "opus", "sonnet"):
            fill_domain(make_run(), catalog, domain, model=model, result="fail")

    # 4 each: version (with whether a run is on), the kept sums, the newest tasks'
    # fingerprints (stale marks), model agreement
    assert empty == little == overview_queries() == 8
