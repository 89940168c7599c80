"""A run, or a comparison of two, in CI's formats: JUnit XML and a Markdown summary.

Reads only (selectors' rules): the run's stored tasks and check rows, its per-skill and
per-model totals, and the catalog for the check names and the tasks that never ran. The
formats themselves are the engine's (``skillcheck.junit``, ``skillcheck.markdown_summary``).
"""

from __future__ import annotations

from junitparser import JUnitXml

from heatmap import selectors
from heatmap.models import Run
from heatmap.selectors.results import scored_from_task
from heatmap.services.plans import plan_only
from skillcheck.catalog import Catalog, CatalogError
from skillcheck.compare import Comparison
from skillcheck.junit import comparison_junit, run_junit
from skillcheck.markdown_summary import comparison_markdown, run_markdown
from skillcheck.results import ScoredRun, TaskKey, pass_percent
from skillcheck.runs import build_tasks

# Enough for every failing check of a skill: the Markdown sums them for its top list.
ALL_FAILING = 1000


def _catalog(run: Run) -> Catalog | None:
    try:
        return selectors.catalog_load(path=run.catalog_path or None)
    except CatalogError:
        return None


def run_results(*, run: Run) -> list[ScoredRun]:
    tasks = run.tasks.prefetch_related("checks").order_by("skill", "model", "scenario_id")
    return [scored_from_task(task) for task in tasks]


def run_junit_document(*, run: Run) -> JUnitXml:
    """One case per scenario × skill × model × check; tasks planned but not run are skipped."""
    results = run_results(run=run)
    catalog = _catalog(run)
    planned: list[TaskKey] = []
    if catalog is not None:
        check_ids = [c.id for c in catalog.taxonomy.model_checks]
        if run.status != Run.Status.COMPLETED:
            try:
                tasks = build_tasks(
                    catalog, domains=run.domains or None, models=run.models, epochs=run.epochs
                )
            except KeyError:  # a domain that left the catalog: the plan cannot be rebuilt
                tasks = []
            planned = [t.key for t in plan_only(tasks, run.task_keys)]
    else:
        check_ids = sorted({c.check_id for r in results for c in r.checks})
    return run_junit(results, check_ids=check_ids, planned=planned, name=f"skillcheck {run.run_id}")


def run_markdown_text(*, run: Run) -> str:
    tables = selectors.run_result_tables(run=run, top=ALL_FAILING)
    catalog = _catalog(run)
    names = {c.id: c.name for c in catalog.taxonomy.checks} if catalog else {}
    return run_markdown(
        run_id=run.run_id,
        status=run.status,
        skills=tables["skills"],
        models=tables["models"],
        check_names=names,
    )


def run_pass_pct(*, run: Run) -> float | None:
    """The run's pass rate over scored checks (n/a not counted), as its tables show it."""
    skills = selectors.run_result_tables(run=run)["skills"]
    return pass_percent(
        sum(s.passed for s in skills),
        sum(s.failed_checks for s in skills),
        sum(s.unclear for s in skills),
    )


def comparison_junit_document(*, comparison: Comparison, new: Run) -> JUnitXml:
    """Every check of the new run's tasks; the regressions fail (``comparison_junit``)."""
    return comparison_junit(comparison, selectors.run_task_checks(new))


def comparison_markdown_text(*, comparison: Comparison) -> str:
    return comparison_markdown(comparison)
