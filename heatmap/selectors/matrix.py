"""A domain's matrix: checks × scenarios × models, specialist and generalists per cell."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from heatmap.models import CheckResult, TaskResult
from heatmap.selectors.counts import (
    NOT_RUN,
    RESULT_ORDER,
    Clusters,
    empty_counts,
    percent_interval,
    whole_pass_pct,
)
from heatmap.selectors.filters import HeatmapFilter, model_order
from heatmap.selectors.newest import newest_task_ids
from heatmap.selectors.samples import cell_sample_results, flaky_pools
from heatmap.selectors.stale import stale_keys
from skillcheck.catalog import Catalog, Check
from skillcheck.compare import verdicts_agree, verdicts_split


@dataclass
class SkillResult:
    skill: str
    role: str  # "specialist" | "generalist"
    result: str
    label: str = ""  # "S" for the specialist, the generalist's initials otherwise
    stale: bool = False  # produced from another SKILL.md, scenario, prompt or model than now
    disagree: bool = False  # other models gave this (scenario, skill, check) another verdict
    split: bool = False  # ... and among the models' verdicts are both a pass and a fail
    samples: int = 1  # the run's samples of this cell that did not error
    agreement: float = 1.0  # share of the samples that gave ``result`` (their majority)
    flaky: bool = False  # the samples disagree more than a stable check would (stats)


@dataclass
class MatrixColumn:
    scenario_id: str
    scenario_name: str
    model: str
    first_of_scenario: bool
    counts: dict[str, int] = field(default_factory=empty_counts)
    """The model's results on the scenario: every skill × the checks shown (filters applied),
    every sample of a cell run several times."""
    labels: tuple[str, ...] = ()
    """The scenario's skill labels ("S", then the generalists' initials), in block order."""
    clusters: Clusters = field(default_factory=list)
    """Per skill, its samples' (passed, scored) over the checks shown: the interval's."""

    @property
    def pass_pct(self) -> int | None:
        return whole_pass_pct(self.counts)

    @property
    def pass_ci(self) -> tuple[float, float] | None:
        """The 95 % interval of ``pass_pct``, as the overview's (``percent_interval``)."""
        return percent_interval(self.clusters)


@dataclass
class MatrixCell:
    scenario_id: str
    model: str
    results: list[SkillResult]
    first_of_scenario: bool = False

    @property
    def stale(self) -> list[str]:
        """The skills whose shown result is stale."""
        return [r.skill for r in self.results if r.stale]

    @property
    def disagree(self) -> list[str]:
        """The skills on whose result for this check the models disagree."""
        return [r.skill for r in self.results if r.disagree]

    @property
    def split(self) -> list[str]:
        """The skills some models pass and others fail on this check: the ≠ the matrix shows
        (``disagree`` counts any difference, an ``unclear`` or ``na`` too)."""
        return [r.skill for r in self.results if r.split]

    @property
    def flaky(self) -> list[str]:
        """The skills whose samples disagree more than a stable check would."""
        return [r.skill for r in self.results if r.flaky]

    @property
    def has_fail(self) -> bool:
        return any(r.result == "fail" for r in self.results)


@dataclass
class MatrixRow:
    check: Check
    cells: list[MatrixCell]
    first_of_group: bool = False
    group_name: str = ""


@dataclass
class ScenarioHead:
    """A scenario's column group: its short name, prompt and the labels of its skills."""

    scenario: Any
    skills: list[tuple[str, str, str]]  # (label, skill, role), specialist first

    @property
    def labels(self) -> str:
        return " ".join(label for label, _, _ in self.skills)


def skill_labels(scenario: Any) -> list[tuple[str, str, str]]:
    """``S`` for the specialist, initials for each generalist (``web-scraper`` → ``WS``)."""
    labels: list[tuple[str, str, str]] = []
    used = {"S"}
    for skill in scenario.target_skills:
        if skill == scenario.specialist:
            labels.append(("S", skill, "specialist"))
            continue
        base = "".join(part[:1] for part in skill.replace("_", "-").split("-") if part).upper()
        label, n = base or "G", 2
        while label in used:
            label, n = f"{base}{n}", n + 1
        used.add(label)
        labels.append((label, skill, "generalist"))
    return labels


@dataclass
class DomainMatrix:
    domain: str
    scenarios: list[Any]
    models: list[str]
    columns: list[MatrixColumn]
    rows: list[MatrixRow]
    filled: int
    total: int
    heads: list[ScenarioHead] = field(default_factory=list)

    @property
    def generalist_labels(self) -> list[tuple[str, str]]:
        """(label, skill) of every generalist in the matrix, once each, for the legend."""
        seen: dict[tuple[str, str], None] = {}
        for head in self.heads:
            for label, skill, role in head.skills:
                if role == "generalist":
                    seen[(label, skill)] = None
        return list(seen)

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "models": self.models,
            "scenarios": [
                {
                    "id": s.id,
                    "name": s.name,
                    "skills": list(s.target_skills),
                    "pass_pct": {
                        c.model: c.pass_pct for c in self.columns if c.scenario_id == s.id
                    },
                    "pass_ci": {
                        c.model: list(ci) if (ci := c.pass_ci) else None
                        for c in self.columns
                        if c.scenario_id == s.id
                    },
                }
                for s in self.scenarios
            ],
            "checks": [
                {
                    "check_id": row.check.id,
                    "group": row.check.group,
                    "severity": row.check.severity,
                    "cells": [
                        {
                            "scenario_id": cell.scenario_id,
                            "model": cell.model,
                            "results": {r.skill: r.result for r in cell.results},
                            "stale": cell.stale,
                            "disagree": cell.disagree,
                            "samples": {r.skill: r.samples for r in cell.results},
                            "agreement": {r.skill: round(r.agreement, 3) for r in cell.results},
                            "flaky": cell.flaky,
                        }
                        for cell in row.cells
                    ],
                }
                for row in self.rows
            ],
        }


def _scenario_matches(scenario: Any, needle: str) -> bool:
    return not needle or any(
        needle in text.lower()
        for text in (scenario.id, scenario.name, scenario.prompt, *scenario.target_skills)
    )


def heatmap_domain_matrix(
    *,
    catalog: Catalog,
    domain_id: str,
    extra_models: list[str] | tuple[str, ...] = (),
    filters: HeatmapFilter | None = None,
) -> DomainMatrix:
    """Checks × scenarios × models for one domain, specialist and generalists per cell.

    One query (more with samples: their rows, and the catalog's flaky pools unless kept);
    models are those with results in the domain plus ``extra_models`` (the active
    run's), so their cells show "not run" until they fill in, in the configured order.
    """
    filters = (filters or HeatmapFilter()).scoped()
    domain = catalog.domains[domain_id]
    needle = filters.query.strip().lower()
    scenarios = [s for s in domain.scenarios if _scenario_matches(s, needle)]
    checks = filters.checks(catalog)
    results_qs = CheckResult.objects.filter(
        task__in=newest_task_ids(
            scenario_id__in=[s.id for s in scenarios], **filters.task_filters()
        )
    )
    if filters.narrows_checks:
        results_qs = results_qs.filter(check_id__in=[c.id for c in checks])
    found: dict[tuple[str, str, str, str], str] = {}
    prints: dict[tuple[str, str, str], str] = {}
    # Each model's verdict per (scenario, skill, check), from successful tasks only, as the
    # agreement rates count them (a failed call's "unclear" is no verdict).
    verdicts: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    succeeded: set[tuple[str, str, str]] = set()
    models: set[str] = set(extra_models)
    check_rows = results_qs.values_list(
        "task__scenario_id",
        "task__skill",
        "task__model",
        "check_id",
        "result",
        "task__fingerprint",
        "task__errored",
        "task__run_id",
        "task__run__epochs",
    )
    # Cells whose newest result comes from a run of several samples: their samples' majority.
    sampled_runs: dict[tuple[str, str, str], int] = {}
    for row in check_rows.order_by():
        scenario_id, skill, model, check_id, result, fingerprint, errored, run_pk, epochs = row
        found[(scenario_id, skill, model, check_id)] = result
        prints[(scenario_id, skill, model)] = fingerprint
        if epochs > 1 and not errored:
            sampled_runs[(scenario_id, skill, model)] = run_pk
        if not errored:
            succeeded.add((scenario_id, skill, model))
        models.add(model)
    # Flaky marks are judged per check and model over the whole catalog's sampled cells.
    samples, sample_results = cell_sample_results(
        newest_runs=sampled_runs,
        check_ids=[c.id for c in checks] if filters.narrows_checks else None,
        pools=flaky_pools(filters=filters) if sampled_runs else None,
    )
    for key, majority in samples.items():
        if key in found:
            found[key] = majority.verdict
    for (scenario_id, skill, model, check_id), result in found.items():
        if (scenario_id, skill, model) in succeeded:
            verdicts[(scenario_id, skill, check_id)].append(result)
    stale = stale_keys(catalog=catalog, prints=prints)
    model_list = [m for m in model_order(models) if filters.keeps_model(m)]
    labels = {s.id: skill_labels(s) for s in scenarios}
    # Each column's pass % and interval, as the overview counts them, from the rows read
    # above: the scenario's skills × the checks of the matrix's rows (before "failures only"
    # trims them), every sample of a cell run several times.
    column_counts: dict[tuple[str, str], dict[str, int]] = defaultdict(empty_counts)
    column_samples: dict[tuple[str, str], dict[str, dict[int, list[int]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    shown_checks = {c.id for c in checks}
    skills_of = {sid: {skill for _, skill, _ in skills} for sid, skills in labels.items()}
    for key, result in found.items():
        scenario_id, skill, model, check_id = key
        if check_id not in shown_checks or skill not in skills_of[scenario_id]:
            continue
        by_epoch = sample_results.get(key) or {1: result}
        for epoch, sample_result in by_epoch.items():
            if sample_result not in RESULT_ORDER:
                continue
            column_counts[(scenario_id, model)][sample_result] += 1
            if sample_result != "na":
                cluster = column_samples[(scenario_id, model)][skill].setdefault(epoch, [0, 0])
                cluster[0] += sample_result == "pass"
                cluster[1] += 1
    if filters.failures:
        failing = {(k[0], k[3]) for k, r in found.items() if r == "fail" and k[2] in model_list}
        scenarios = [s for s in scenarios if any(sid == s.id for sid, _ in failing)]
        checks = [c for c in checks if any(cid == c.id for _, cid in failing)]
    columns = [
        MatrixColumn(
            s.id,
            s.name,
            m,
            i == 0,
            counts=column_counts[(s.id, m)],
            clusters=[
                [(p, n) for p, n in by_epoch.values()]
                for by_epoch in column_samples[(s.id, m)].values()
            ],
            labels=tuple(label for label, _, _ in labels[s.id]),
        )
        for s in scenarios
        for i, m in enumerate(model_list)
    ]
    rows: list[MatrixRow] = []
    filled = total = 0
    previous_group = None
    for check in checks:
        cells = []
        for col in columns:
            results = []
            for label, skill, role in labels[col.scenario_id]:
                result = found.get((col.scenario_id, skill, col.model, check.id), NOT_RUN)
                shown = result != NOT_RUN
                sampled = samples.get((col.scenario_id, skill, col.model, check.id))
                given = verdicts[(col.scenario_id, skill, check.id)]
                results.append(
                    SkillResult(
                        skill,
                        role,
                        result,
                        label,
                        stale=shown and (col.scenario_id, skill, col.model) in stale,
                        disagree=shown and not verdicts_agree(given),
                        split=shown and verdicts_split(given),
                        samples=sampled.samples if sampled else int(shown),
                        agreement=sampled.agreement if sampled else 1.0,
                        flaky=bool(sampled and sampled.flaky),
                    )
                )
                total += 1
                filled += result != NOT_RUN
            cells.append(MatrixCell(col.scenario_id, col.model, results, col.first_of_scenario))
        rows.append(
            MatrixRow(
                check,
                cells,
                first_of_group=check.group != previous_group,
                group_name=catalog.taxonomy.groups.get(check.group, check.group),
            )
        )
        previous_group = check.group
    return DomainMatrix(
        domain=domain_id,
        scenarios=scenarios,
        models=model_list,
        columns=columns,
        rows=rows,
        filled=filled,
        total=total,
        heads=[ScenarioHead(s, labels[s.id]) for s in scenarios],
    )


def heatmap_task_times(
    *, scenario_ids: list[str], filters: HeatmapFilter | None = None
) -> dict[tuple[str, str, str], tuple[str, datetime]]:
    """(scenario, skill, model) → (run id, finished time) of the newest tasks: the CSV's columns."""
    filters = (filters or HeatmapFilter()).scoped()
    tasks = TaskResult.objects.filter(
        pk__in=newest_task_ids(scenario_id__in=scenario_ids, **filters.task_filters())
    ).values_list("scenario_id", "skill", "model", "run__run_id", "finished_at")
    return {(s, k, m): (run_id, finished) for s, k, m, run_id, finished in tasks}
