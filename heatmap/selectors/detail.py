"""One matrix cell in detail: each model's and skill's result for one check, and why it is stale."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from heatmap.models import CheckResult, TaskResult
from heatmap.selectors.counts import NOT_RUN
from heatmap.selectors.filters import HeatmapFilter, model_order
from heatmap.selectors.matrix import skill_labels
from heatmap.selectors.newest import newest_task_ids
from heatmap.selectors.results import task_fingerprint
from heatmap.selectors.samples import flaky_pools
from heatmap.selectors.stale import catalog_fingerprinter
from skillcheck.catalog import Catalog
from skillcheck.fingerprints import explain_changes
from skillcheck.stats import Dissent, flaky_checks, is_flaky, sampled_verdict
from skillcheck.vocabulary import UNKNOWN_RISK, Result


@dataclass
class SampleDetail:
    """One sample of a cell (a run with several): its verdict and evidence."""

    epoch: int
    result: str
    evidence: str = ""
    summary: str = ""
    errored: bool = False


@dataclass
class CellDetail:
    skill: str
    role: str
    model: str
    result: str
    evidence: str = ""
    summary: str = ""
    markdown: str = ""
    error: str = ""
    run_id: str = ""
    risk_level: str = ""
    finished_at: datetime | None = None
    label: str = ""
    stale: str = ""  # why the result is stale: "SKILL.md changed since this result, 2026-11-20"
    cached_from: str = ""  # the run whose result this one reuses (the response cache)
    samples: list[SampleDetail] = field(default_factory=list)  # every sample, when several
    agreement: float = 1.0  # share of the samples that gave ``result`` (their majority)
    flaky: bool = False

    @property
    def shows_risk(self) -> bool:
        """The answer's overall risk (its worst finding, across every check) belongs beside a
        check that did not pass; beside a pass it reads as this check's risk, which it is not."""
        known = self.risk_level not in ("", UNKNOWN_RISK)
        return known and self.result in (Result.FAIL, Result.UNCLEAR)


def stale_reason(*, catalog: Catalog, task: TaskResult) -> str:
    """Why ``task``'s result no longer matches the catalog, with its date; "" when it does."""
    stored = task_fingerprint(task)
    if stored is None:
        return ""
    current = catalog_fingerprinter(catalog=catalog).of_key(
        task.scenario_id, task.skill, task.model
    )
    if current is None or stored.key == current.key:
        return ""
    changes = stored.changes_from(current)
    if not changes:
        return ""
    return f"{explain_changes(changes)}, {task.finished_at:%Y-%m-%d}"


def heatmap_cell_detail(
    *,
    catalog: Catalog,
    scenario_id: str,
    check_id: str,
    model: str | None = None,
    filters: HeatmapFilter | None = None,
) -> list[CellDetail]:
    """Per model and skill of one scenario: the newest task's result for one check, models in
    the configured order, specialist first. Two queries (more with samples)."""
    filters = (filters or HeatmapFilter()).scoped()
    scenario = catalog.scenario(scenario_id)
    task_filters: dict[str, Any] = {
        "scenario_id": scenario_id,
        "skill__in": scenario.target_skills,
        **filters.task_filters(),
    }
    if model:
        task_filters["model"] = model
    tasks = [
        t
        for t in TaskResult.objects.filter(pk__in=newest_task_ids(**task_filters))
        .select_related("run")
        .only(
            "skill",
            "model",
            "markdown_response",
            "error",
            "risk_level",
            "finished_at",
            "run__run_id",
            "run__epochs",
            *("scenario_id", "cached_from", "fingerprint", "skill_fingerprint"),
            *("scenario_fingerprint", "prompt_fingerprint", "model_id"),
        )
        if filters.keeps_model(t.model)
    ]
    checks = {
        c.task_id: c
        for c in CheckResult.objects.filter(task__in=[t.pk for t in tasks], check_id=check_id)
    }
    samples = _samples(tasks, scenario_id=scenario_id, check_id=check_id)
    # A cell is flaky as the matrix marks it: judged among its check's cells on its model.
    pools = flaky_pools(filters=filters) if samples else {}
    flaky = flaky_checks(pools)
    labels = {skill: label for label, skill, _ in skill_labels(scenario)}
    order = {skill: i for i, skill in enumerate(scenario.target_skills)}
    models = model_order(t.model for t in tasks)
    details = []
    for task in sorted(tasks, key=lambda t: (models.index(t.model), order.get(t.skill, 99))):
        check = checks.get(task.pk)
        sampled = samples.get((task.run_id, task.skill, task.model), [])
        majority = sampled_verdict(s.result for s in sampled if not s.errored)
        details.append(
            CellDetail(
                skill=task.skill,
                role="specialist" if task.skill == scenario.specialist else "generalist",
                model=task.model,
                result=check.result if check else NOT_RUN,
                evidence=check.evidence if check else "",
                summary=check.summary if check else "",
                markdown=task.markdown_response,
                error=task.error,
                run_id=task.run.run_id,
                risk_level=task.risk_level,
                finished_at=task.finished_at,
                label=labels.get(task.skill, ""),
                stale=stale_reason(catalog=catalog, task=task),
                cached_from=task.cached_from,
                samples=sampled,
                agreement=majority.agreement if majority.samples else 1.0,
                flaky=is_flaky(
                    majority,
                    pools.get((check_id, task.model), Dissent()),
                    (check_id, task.model) in flaky,
                ),
            )
        )
        if majority.samples > 1:
            details[-1].result = majority.verdict
    return details


def _samples(
    tasks: list[TaskResult], *, scenario_id: str, check_id: str
) -> dict[tuple[int, str, str], list[SampleDetail]]:
    """Every sample of the cells whose task comes from a run of several, by (run, skill,
    model), in epoch order. One query, none when no run has more than one sample."""
    runs = {t.run_id for t in tasks if t.run.epochs > 1}
    found: dict[tuple[int, str, str], list[SampleDetail]] = defaultdict(list)
    if not runs:
        return found
    rows = CheckResult.objects.filter(
        task__run_id__in=runs, task__scenario_id=scenario_id, check_id=check_id
    ).values_list(
        *("task__run_id", "task__skill", "task__model", "task__epoch"),
        *("result", "evidence", "summary", "task__errored"),
    )
    for run_pk, skill, model, epoch, result, evidence, summary, errored in rows.order_by(
        "task__epoch"
    ):
        found[(run_pk, skill, model)].append(
            SampleDetail(epoch, result, evidence, summary, errored)
        )
    return found
