"""Comparing two runs: the checks that flipped, and which earlier run to compare with."""

from __future__ import annotations

from collections import defaultdict

from heatmap.models import CheckResult, Run
from skillcheck.catalog import Catalog
from skillcheck.compare import Comparison, Flip, TaskChecks, compare_runs

# ``Comparison`` and ``Flip`` are what ``run_comparison`` gives; callers type them from here.
__all__ = ["Comparison", "Flip", "run_comparison", "run_previous"]


def run_task_checks(run: Run) -> list[TaskChecks]:
    """Every task (each sample) of ``run`` with its verdicts per check. Two queries."""
    tasks = {
        pk: (scenario_id, skill, model, bool(error), epoch)
        for pk, scenario_id, skill, model, error, epoch in run.tasks.values_list(
            "pk", "scenario_id", "skill", "model", "error", "epoch"
        )
    }
    checks: dict[int, dict[str, str]] = defaultdict(dict)
    rows = CheckResult.objects.filter(task__run=run).values_list("task_id", "check_id", "result")
    for task_id, check_id, result in rows.order_by():
        checks[task_id][check_id] = result
    return [
        TaskChecks((scenario_id, skill, model), checks.get(pk, {}), error, epoch)
        for pk, (scenario_id, skill, model, error, epoch) in tasks.items()
    ]


class RunsOfDifferentCatalogs(ValueError):
    """Two runs of different catalogs: their tasks have nothing to compare (one line)."""

    def __init__(self, base: Run, new: Run) -> None:
        super().__init__(
            f"runs {base.run_id} and {new.run_id} audited different catalogs "
            f"({base.catalog.name} and {new.catalog.name}): only runs of one catalog compare"
        )


def run_comparison(*, base: Run, new: Run, catalog: Catalog | None = None) -> Comparison:
    """The checks that flipped from ``base`` to ``new``, regressions first (``compare_runs``).

    Only tasks in both runs are compared; the others are listed as added or removed. Runs
    of different catalogs are refused (``RunsOfDifferentCatalogs``): they share no task.
    """
    if base.catalog_id != new.catalog_id:
        raise RunsOfDifferentCatalogs(base, new)
    severities = {c.id: c.severity for c in catalog.taxonomy.checks} if catalog else {}
    return compare_runs(
        run_task_checks(base),
        run_task_checks(new),
        severities=severities,
        base_id=base.run_id,
        new_id=new.run_id,
    )


def run_previous(*, run: Run, runs: list[Run] | None = None) -> Run | None:
    """The newest run of the same catalog created before ``run`` that shares a model and a
    domain with it.

    Only tasks in both runs are compared, so a run of another catalog, or with no domain in
    common, would compare nothing. A run without domains (an old import) counts as covering
    them all. ``runs`` (newest first, as ``run_list`` gives them) avoids a query per run in
    a list.
    """
    models, domains = set(run.models), set(run.domains or ())
    if runs is not None and run in runs:
        older = runs[runs.index(run) + 1 :]
    else:
        older = list(
            Run.objects.filter(catalog_id=run.catalog_id, created_at__lt=run.created_at)[:200]
        )
    return next(
        (
            r
            for r in older
            if r.catalog_id == run.catalog_id
            and models & set(r.models)
            and (not domains or not r.domains or domains & set(r.domains))
        ),
        None,
    )
