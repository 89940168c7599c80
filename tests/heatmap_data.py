"""Factories for heatmap rows: runs with tasks and check results, written in bulk."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from heatmap.models import Catalog as CatalogRecord
from heatmap.models import CheckResult, Run, TaskResult, task_tally
from heatmap.services.catalogs import catalog_for_path
from heatmap.services.newest import newest_task_added
from skillcheck.catalog import Catalog, Scenario

_ids = itertools.count(1)

# Request headers of an htmx request (the views answer with a fragment).
HTMX = {"HTTP_HX_REQUEST": "true"}


def configured_catalog() -> CatalogRecord:
    """The record of the configured catalog (``SKILLCHECK_CATALOG``), registered if need be."""
    from django.conf import settings

    root = Path(settings.SKILLCHECK_CATALOG).resolve()
    return catalog_for_path(root=root, loaded=False)


def make_run(**fields) -> Run:
    """A run (of the configured catalog unless ``catalog`` says another record)."""
    defaults = {
        "run_id": f"run-{next(_ids):04d}",
        "status": Run.Status.COMPLETED,
        "models": ["heuristic"],
    }
    if "catalog" not in fields:
        fields["catalog"] = configured_catalog()
    return Run.objects.create(**{**defaults, **fields})


def add_task(
    run: Run,
    *,
    scenario_id: str,
    skill: str,
    model: str,
    results: dict[str, str] | str = "pass",
    check_ids: list[str] | tuple[str, ...] = (),
    domain: str = "",
    age_s: float = 0.0,
    markdown: str = "",
    evidence: str = "SKILL.md:1",
    error: str = "",
    epoch: int = 1,
) -> TaskResult:
    """One task; ``results`` is one result for every id in ``check_ids``, or a mapping.

    With ``error`` it is a failed task (its checks are usually all ``unclear``).
    """
    mapping = results if isinstance(results, dict) else dict.fromkeys(check_ids, results)
    task = TaskResult.objects.create(
        run=run,
        scenario_id=scenario_id,
        skill=skill,
        model=model,
        epoch=epoch,
        domain=domain,
        markdown_response=markdown,
        error=error,
        finished_at=timezone.now() - timedelta(seconds=age_s),
        **task_tally(mapping.items()),
    )
    CheckResult.objects.bulk_create(
        CheckResult(task=task, check_id=c, result=r, evidence=evidence, summary=f"{c} {r}")
        for c, r in mapping.items()
    )
    newest_task_added(task_id=task.pk)  # as services.reports.task_save does
    return task


def specialist_task(run: Run, scenario: Scenario, **fields) -> TaskResult:
    """One task of ``scenario``'s specialist (the heuristic model unless given)."""
    return add_task(
        run, scenario_id=scenario.id, skill=scenario.specialist, **{"model": "heuristic", **fields}
    )


def fill_domain(
    run: Run,
    catalog: Catalog,
    domain_id: str,
    *,
    model: str,
    result: dict[str, str] | str = "pass",
    age_s: float = 0.0,
    evidence: str = "SKILL.md:1",
) -> int:
    """Every (scenario, skill) of a domain for one model, each check ``result`` (or per check
    from a mapping); returns the number of tasks."""
    check_ids = [c.id for c in catalog.taxonomy.model_checks]
    n = 0
    for scenario in catalog.domains[domain_id].scenarios:
        for skill in scenario.target_skills:
            add_task(
                run,
                scenario_id=scenario.id,
                skill=skill,
                model=model,
                results=result,
                check_ids=check_ids,
                domain=domain_id,
                age_s=age_s,
                evidence=evidence,
            )
            n += 1
    return n


def summary_from_check_rows(task: TaskResult) -> dict[str, object]:
    """A task's summary recounted from its check rows, independently of ``task_tally``."""
    rows = list(task.checks.values_list("check_id", "result"))
    summary: dict[str, object] = {
        f"{result}_count": sum(1 for _, r in rows if r == result)
        for result in ("pass", "fail", "unclear", "na")
    }
    summary["failed_checks"] = sorted(c for c, r in rows if r == "fail")
    return summary


def stored_summary(task: TaskResult) -> dict[str, object]:
    """The summary written on a task row, failing ids as a list."""
    return {
        "pass_count": task.pass_count,
        "fail_count": task.fail_count,
        "unclear_count": task.unclear_count,
        "na_count": task.na_count,
        "failed_checks": task.failed_checks.split(),
    }
