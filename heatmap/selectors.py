"""Reads for the heatmap pages and the API: the newest result per (scenario, skill, model).

Every heatmap read aggregates in the database over the newest task per key across all runs
(as the JSON merge does), so a page costs the same few queries whatever the number of runs.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import Count, F, Max, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from heatmap.models import (
    FAILED_CHECKS_SEPARATOR,
    TALLY_COUNT_FIELDS,
    CheckResult,
    Run,
    TaskResult,
    failed_check_ids,
)
from skillcheck.catalog import Catalog, Check, load_catalog
from skillcheck.compare import (
    Agreement,
    Comparison,
    TaskChecks,
    agreement_from_tallies,
    compare_runs,
    verdicts_agree,
)
from skillcheck.fingerprints import Fingerprinter, explain_changes, model_ids
from skillcheck.linter import Finding, SkillLint, lint_catalog
from skillcheck.results import ScoredRun, pass_percent
from skillcheck.runids import is_valid_run_id
from skillcheck.vocabulary import Result, Severity

RESULT_ORDER = tuple(Result)  # the overview's count columns
NOT_RUN = "notrun"  # a cell with no result yet (not a verdict)
OVERVIEW_CACHE_S = 3600

# --- The catalog, loaded once per content change ------------------------------------------

_catalog_lock = threading.Lock()
_catalog_cache: dict[Path, tuple[tuple, Catalog]] = {}


def _catalog_signature(root: Path) -> tuple:
    """Cheap change detector: names, sizes and mtimes of every file under the catalog."""
    stats = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            stat = path.stat()
            stats.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(stats)


def catalog_load(*, path: Path | str | None = None) -> Catalog:
    """The catalog at ``path`` (the configured one by default), read afresh within the
    configured limits; ``CatalogError`` says why it is unusable. Every reader goes through
    here or ``catalog_current``."""
    return load_catalog(
        path or settings.SKILLCHECK_CATALOG,
        max_document_bytes=settings.SKILLCHECK_MAX_DOCUMENT_BYTES,
    )


def catalog_current(path: Path | str | None = None) -> Catalog:
    """The configured catalog, re-read only when one of its files changed."""
    root = Path(path or settings.SKILLCHECK_CATALOG).resolve()
    signature = _catalog_signature(root)
    with _catalog_lock:
        cached = _catalog_cache.get(root)
        if cached and cached[0] == signature:
            return cached[1]
        catalog = catalog_load(path=root)
        _catalog_cache[root] = (signature, catalog)
        return catalog


# --- Newest task per key --------------------------------------------------------------------


def newest_tasks(**filters: Any) -> QuerySet[TaskResult]:
    """The newest task per (scenario, skill, model) among ``filters``: the newest successful
    one, or the newest failed one when none succeeded.

    A failed task (an API error, an unparseable answer) says nothing about the skill, so it
    must not hide an older result that does; a key that only ever failed still shows its
    failure. Pinned to one run there is one task per key, so the rule changes nothing there.
    A window function ranks each key's tasks in the order of the model's ranking index;
    select only indexed columns to rank without reading the task rows.
    """
    return (
        TaskResult.objects.filter(**filters)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("scenario_id"), F("skill"), F("model")],
                order_by=[F("errored").asc(), F("finished_at").desc(), F("id").desc()],
            )
        )
        .filter(rank=1)
    )


def newest_task_ids(**filters: Any) -> QuerySet[TaskResult, Any]:
    """Primary keys of the newest task per key, a subquery joined in the caller's statement."""
    return newest_tasks(**filters).values("pk")


# --- What a heatmap view shows ----------------------------------------------------------------

SORTS = ("pass", "fails")
SEVERITIES = tuple(reversed(Severity))  # most severe first, as the filter lists them


@dataclass(frozen=True)
class HeatmapFilter:
    """The filters of the overview and the matrices, kept in the query string.

    ``models`` empty means every model; ``severity`` is a minimum (``HIGH`` keeps CRITICAL and
    HIGH); ``run`` pins the view to one run instead of the newest result across runs.
    """

    models: tuple[str, ...] = ()
    group: str = ""
    severity: str = ""
    failures: bool = False
    query: str = ""
    run: Run | None = None
    sort: str = ""  # the overview's order: "" by skill, "pass" lowest pass % first, "fails"

    @property
    def narrows_checks(self) -> bool:
        return bool(self.group or self.severity)

    @property
    def active(self) -> bool:
        return bool(self.models or self.narrows_checks or self.failures or self.query)

    def checks(self, catalog: Catalog) -> list[Check]:
        """The model checks this filter keeps, in the taxonomy's order."""
        floor = Severity.rank_of(self.severity) if self.severity else -1
        return [
            c
            for c in catalog.taxonomy.model_checks
            if (not self.group or c.group == self.group) and Severity.rank_of(c.severity) >= floor
        ]

    def task_filters(self) -> dict[str, Any]:
        return {"run": self.run} if self.run is not None else {}

    def keeps_model(self, model: str) -> bool:
        return not self.models or model in self.models


def model_order(models: Iterable[str]) -> list[str]:
    """Models in the configured order (``heuristic``, then ``SKILLCHECK_MODELS``), others after."""
    rank = {m: i for i, m in enumerate(["heuristic", *settings.SKILLCHECK_MODELS])}
    return sorted(set(models), key=lambda m: (rank.get(m, len(rank)), m))


# --- Overview -----------------------------------------------------------------------------


def _counts() -> dict[str, int]:
    return dict.fromkeys(RESULT_ORDER, 0)


@dataclass
class ModelCell:
    """One skill × model cell of the overview: result counts and their pass %."""

    model: str
    counts: dict[str, int] = field(default_factory=_counts)

    @property
    def scored(self) -> int:
        return self.counts["pass"] + self.counts["fail"] + self.counts["unclear"]

    @property
    def pass_pct(self) -> int | None:
        pct = pass_percent(self.counts["pass"], self.counts["fail"], self.counts["unclear"])
        return None if pct is None else round(pct)


@dataclass
class SkillRow:
    skill: str
    domains: list[str] = field(default_factory=list)
    generalist: bool = False
    in_catalog: bool = True
    counts: dict[str, int] = field(default_factory=_counts)
    models: set[str] = field(default_factory=set)
    fails: dict[str, int] = field(default_factory=dict)
    top_failing: list[tuple[Check | str, int]] = field(default_factory=list)
    stale: int = 0  # newest results produced from another skill, scenario, prompt or model
    agreement: int | None = None  # % of checks two or more models scored alike (None: < 2)
    per_model: dict[str, ModelCell] = field(default_factory=dict)
    cells: list[ModelCell] = field(default_factory=list)
    """One cell per overview column (``OverviewTable.models``), "not run" ones included."""

    @property
    def scored(self) -> int:
        return sum(n for result, n in self.counts.items() if result != Result.NA)

    @property
    def pass_pct(self) -> int | None:
        counts = self.counts
        pct = pass_percent(counts[Result.PASS], counts[Result.FAIL], counts[Result.UNCLEAR])
        return None if pct is None else round(pct)

    @property
    def count_columns(self) -> list[int]:
        """The counts in the order of the overview's columns (``RESULT_ORDER``)."""
        return [self.counts.get(result, 0) for result in RESULT_ORDER]

    @property
    def sorted_models(self) -> list[str]:
        return model_order(self.models)

    @property
    def home(self) -> str:
        """The domain whose matrix shows this skill first (its own, or the first it serves)."""
        return self.domains[0] if self.domains else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "skill": self.skill,
            "domains": self.domains,
            "generalist": self.generalist,
            "pass_pct": self.pass_pct,
            "counts": self.counts,
            "models": self.sorted_models,
            "stale": self.stale,
            "agreement_pct": self.agreement,
            "per_model": {
                m: {"pass_pct": self.per_model[m].pass_pct, "counts": self.per_model[m].counts}
                for m in model_order(self.per_model)
            },
            "top_failing": [
                {
                    "check_id": getattr(c, "id", c),
                    "severity": getattr(c, "severity", ""),
                    "failures": n,
                }
                for c, n in self.top_failing
            ],
        }


def _skill_domains(catalog: Catalog) -> dict[str, list[str]]:
    homes: dict[str, list[str]] = defaultdict(list)
    for domain in catalog.domains.values():
        for scenario in domain.scenarios:
            if domain.id not in homes[scenario.specialist]:
                homes[scenario.specialist].append(domain.id)
    return homes


def results_version() -> tuple[int, int]:
    """Changes whenever task rows are added or removed: (count, newest id). One cheap query."""
    data = TaskResult.objects.aggregate(n=Count("id"), last=Max("id"))
    return data["n"], data["last"] or 0


@dataclass
class ModelTotals:
    """One skill × model's sums over the newest tasks: result counts, failures per check."""

    counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  # RESULT_ORDER
    fails: dict[str, int] = field(default_factory=dict)


def _overview_totals(
    domain: str | None,
    filters: HeatmapFilter,
    check_ids: list[str],
    version: tuple[int, int] | None = None,
) -> dict[str, dict[str, ModelTotals]]:
    """Per skill and model, the sums over the newest tasks, cached per data version.

    Without a check filter this reads the newest tasks' summaries (written with their checks)
    from the ranking index, never their check rows nor their long answers, and sums in
    Python. A group or severity filter needs the check rows: one grouped query over the
    newest tasks' checks. Either way the sums are kept until a task is added or removed, so
    idle pages and polls between two finished tasks cost one small query.
    """
    count, last = version or results_version()
    run_key = filters.run.pk if filters.run is not None else "*"
    checks_key = ",".join(check_ids) or "*"
    key = f"heatmap:overview:v3:{domain or '*'}:{run_key}:{checks_key}:{count}-{last}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    task_filters = filters.task_filters()
    if domain:
        task_filters["domain"] = domain
    totals: dict[str, dict[str, ModelTotals]] = defaultdict(dict)
    if check_ids:
        _check_totals(totals, task_filters, check_ids)
    else:
        prints = _summary_totals(totals, task_filters)
        if filters.run is None:
            # The newest tasks the stale marks read: their fingerprints came on the way.
            cache.set(_prints_key(domain, (count, last)), prints, OVERVIEW_CACHE_S)
    result = dict(totals)
    cache.set(key, result, OVERVIEW_CACHE_S)
    return result


def _summary_totals(
    totals: dict[str, dict[str, ModelTotals]], task_filters: dict
) -> dict[tuple[str, str, str], str]:
    """Fill ``totals`` from the newest tasks' summaries; return their fingerprints per key,
    as ``stale_tasks`` keeps them (all from the ranking index)."""
    fields = [TALLY_COUNT_FIELDS[result] for result in RESULT_ORDER]
    tasks = newest_tasks(**task_filters).values_list(
        "skill", "model", "failed_checks", *fields, "scenario_id", "fingerprint"
    )
    # The hot loop (one pass per newest task) only adds up; sorting out comes after it.
    sums: dict[tuple[str, str], list[int]] = {}
    failing: dict[tuple[str, str], list[str]] = defaultdict(list)
    prints: dict[tuple[str, str, str], str] = {}
    for skill, model, failed_checks, passed, failed, unclear, na, scenario_id, print_ in tasks:
        pair = sums.get((skill, model))
        if pair is None:
            pair = sums[(skill, model)] = [0, 0, 0, 0]
        pair[0] += passed
        pair[1] += failed
        pair[2] += unclear
        pair[3] += na
        if failed_checks:
            failing[(skill, model)].append(failed_checks)
        if print_:
            prints[(scenario_id, skill, model)] = print_
    for (skill, model), numbers in sums.items():
        if not any(numbers):
            continue
        texts = failing.get((skill, model))
        # One split and count per skill and model rather than per task.
        fails = Counter(failed_check_ids(FAILED_CHECKS_SEPARATOR.join(texts))) if texts else {}
        totals[skill][model] = ModelTotals(numbers, dict(fails))
    return prints


def _check_totals(
    totals: dict[str, dict[str, ModelTotals]], task_filters: dict, check_ids: list[str]
) -> None:
    rows = (
        CheckResult.objects.filter(task__in=newest_task_ids(**task_filters), check_id__in=check_ids)
        .values_list("task__skill", "task__model", "check_id", "result")
        .annotate(n=Count("id"))
        .order_by()
    )
    index = {result: i for i, result in enumerate(RESULT_ORDER)}
    for skill, model, check_id, result, n in rows:
        model_totals = totals[skill].setdefault(model, ModelTotals())
        if result in index:
            model_totals.counts[index[result]] += n
        if result == "fail":
            model_totals.fails[check_id] = model_totals.fails.get(check_id, 0) + n


def _prints_key(domain: str | None, version: tuple[int, int]) -> str:
    """The cache key of the newest tasks' fingerprints (``stale_tasks``)."""
    return f"heatmap:prints:v1:{domain or '*'}:{version[0]}-{version[1]}"


def stale_tasks(
    *, catalog: Catalog, domain: str | None = None, version: tuple[int, int] | None = None
) -> list[tuple[str, str, str]]:
    """The (scenario, skill, model) keys whose shown result is stale: "re-run stale" runs them.

    The newest tasks' fingerprints come from the ranking index (one query, or none after the
    overview's sums, which keep them), per data version; they are compared with the catalog
    on every call.
    """
    key = _prints_key(domain, version or results_version())
    prints = cache.get(key)
    if prints is None:
        filters = {"domain": domain} if domain else {}
        rows = newest_tasks(**filters).values_list("scenario_id", "skill", "model", "fingerprint")
        prints = {(s, k, m): fp for s, k, m, fp in rows if fp}
        cache.set(key, prints, OVERVIEW_CACHE_S)
    return sorted(stale_keys(catalog=catalog, prints=prints))


def heatmap_overview(
    *,
    catalog: Catalog,
    domain: str | None = None,
    query: str = "",
    top: int = 3,
    filters: HeatmapFilter | None = None,
    version: tuple[int, int] | None = None,
    agreement: bool = True,
) -> list[SkillRow]:
    """One row per skill: counts of the newest results (per model and over the filter's models),
    top failing checks. Two queries (data version unless given, then the sums unless cached).

    ``agreement``: also each skill's agreement rate (``heatmap_agreement``: after new data,
    the dearest part by far; the overview page loads it after the table).
    """
    filters = filters or HeatmapFilter(query=query)
    check_ids = [c.id for c in filters.checks(catalog)] if filters.narrows_checks else []
    version = version or results_version()
    totals = _overview_totals(domain, filters, check_ids, version)
    homes = _skill_domains(catalog)
    rows: dict[str, SkillRow] = {}
    for name, skill in catalog.skills.items():
        if domain and domain not in homes.get(name, []) and not skill.generalist:
            continue
        rows[name] = SkillRow(name, domains=homes.get(name, []), generalist=skill.generalist)
    for name, per_model in totals.items():
        kept = {m: t for m, t in per_model.items() if filters.keeps_model(m)}
        row = rows.get(name)
        if row is None:
            if not kept:
                continue
            row = rows[name] = SkillRow(name, in_catalog=False)
        fails: Counter[str] = Counter()
        for model, model_totals in kept.items():
            cell = ModelCell(model, dict(zip(RESULT_ORDER, model_totals.counts, strict=True)))
            row.per_model[model] = cell
            row.models.add(model)
            for result in RESULT_ORDER:
                row.counts[result] += cell.counts[result]
            fails.update(model_totals.fails)
        row.fails = dict(fails)
    by_id = catalog.taxonomy.by_id
    for row in rows.values():
        ranked = sorted(
            row.fails.items(),
            key=lambda kv: (
                -kv[1],
                -Severity.rank_of(getattr(by_id.get(kv[0]), "severity", "")),
            ),
        )
        row.top_failing = [(by_id.get(check_id, check_id), n) for check_id, n in ranked[:top]]
    for _, skill_name, _ in stale_tasks(catalog=catalog, domain=domain, version=version):
        if skill_name in rows:
            rows[skill_name].stale += 1
    by_skill = heatmap_agreement(domain=domain, version=version).by_skill if agreement else {}
    for skill_name, tally in by_skill.items():
        if skill_name in rows:
            rows[skill_name].agreement = tally.percent
    needle = filters.query.strip().lower()
    selected = [
        r
        for r in rows.values()
        if (not needle or needle in r.skill.lower() or any(needle in d for d in r.domains))
        and (not filters.failures or r.counts["fail"])
    ]
    return sorted(selected, key=lambda r: (not r.in_catalog, r.skill))


@dataclass
class OverviewTable:
    """The overview as shown: skill rows with one pass % cell per model column."""

    models: list[str]
    rows: list[SkillRow]
    version: tuple[int, int] | None = None  # the data version read (``results_version``)

    @property
    def has_results(self) -> bool:
        return any(row.models for row in self.rows)


def heatmap_overview_table(
    *,
    catalog: Catalog,
    domain: str | None = None,
    filters: HeatmapFilter | None = None,
    agreement: bool = True,
) -> OverviewTable:
    """The overview with its model columns: the filter's models, else every model with results
    (in the configured order), so each row has a cell per column."""
    filters = filters or HeatmapFilter()
    version = results_version()
    rows = heatmap_overview(
        catalog=catalog, domain=domain, filters=filters, version=version, agreement=agreement
    )
    models = model_order(filters.models or {m for row in rows for m in row.models})
    for row in rows:
        row.cells = [row.per_model.get(m) or ModelCell(m) for m in models]
    if filters.sort == "pass":  # weakest first; skills not run yet last
        rows.sort(key=lambda r: (r.pass_pct is None, r.pass_pct or 0, r.skill))
    elif filters.sort == "fails":
        rows.sort(key=lambda r: (-r.counts["fail"], r.skill))
    return OverviewTable(models=models, rows=rows, version=version)


# --- Domain matrix --------------------------------------------------------------------------


@dataclass
class SkillResult:
    skill: str
    role: str  # "specialist" | "generalist"
    result: str
    label: str = ""  # "S" for the specialist, the generalist's initials otherwise
    stale: bool = False  # produced from another SKILL.md, scenario, prompt or model than now
    disagree: bool = False  # other models gave this (scenario, skill, check) another verdict


@dataclass
class MatrixColumn:
    scenario_id: str
    scenario_name: str
    model: str
    first_of_scenario: bool
    counts: dict[str, int] = field(default_factory=_counts)
    """The model's results on the scenario: every skill × the checks shown (filters applied)."""

    @property
    def pass_pct(self) -> int | None:
        pct = pass_percent(self.counts["pass"], self.counts["fail"], self.counts["unclear"])
        return None if pct is None else round(pct)


@dataclass
class MatrixCell:
    scenario_id: str
    model: str
    results: list[SkillResult]

    @property
    def stale(self) -> list[str]:
        """The skills whose shown result is stale."""
        return [r.skill for r in self.results if r.stale]

    @property
    def disagree(self) -> list[str]:
        """The skills on whose result for this check the models disagree."""
        return [r.skill for r in self.results if r.disagree]

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

    One query; models are those with results in the domain plus ``extra_models`` (the active
    run's), so their cells show "not run" until they fill in, in the configured order.
    """
    filters = filters or HeatmapFilter()
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
    models: set[str] = set(extra_models)
    check_rows = results_qs.values_list(
        "task__scenario_id",
        "task__skill",
        "task__model",
        "check_id",
        "result",
        "task__fingerprint",
        "task__errored",
    )
    for scenario_id, skill, model, check_id, result, fingerprint, errored in check_rows.order_by():
        found[(scenario_id, skill, model, check_id)] = result
        prints[(scenario_id, skill, model)] = fingerprint
        if not errored:
            verdicts[(scenario_id, skill, check_id)].append(result)
        models.add(model)
    stale = stale_keys(catalog=catalog, prints=prints)
    model_list = [m for m in model_order(models) if filters.keeps_model(m)]
    labels = {s.id: skill_labels(s) for s in scenarios}
    # Each column's pass %, as the overview counts it, from the rows read above: the
    # scenario's skills × the checks of the matrix's rows (before "failures only" trims them).
    column_counts: dict[tuple[str, str], dict[str, int]] = defaultdict(_counts)
    shown_checks = {c.id for c in checks}
    skills_of = {sid: {skill for _, skill, _ in skills} for sid, skills in labels.items()}
    for (scenario_id, skill, model, check_id), result in found.items():
        if check_id in shown_checks and skill in skills_of[scenario_id] and result in RESULT_ORDER:
            column_counts[(scenario_id, model)][result] += 1
    if filters.failures:
        failing = {(k[0], k[3]) for k, r in found.items() if r == "fail" and k[2] in model_list}
        scenarios = [s for s in scenarios if any(sid == s.id for sid, _ in failing)]
        checks = [c for c in checks if any(cid == c.id for _, cid in failing)]
    columns = [
        MatrixColumn(s.id, s.name, m, i == 0, counts=column_counts[(s.id, m)])
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
                results.append(
                    SkillResult(
                        skill,
                        role,
                        result,
                        label,
                        stale=shown and (col.scenario_id, skill, col.model) in stale,
                        disagree=shown
                        and not verdicts_agree(verdicts[(col.scenario_id, skill, check.id)]),
                    )
                )
                total += 1
                filled += result != NOT_RUN
            cells.append(MatrixCell(col.scenario_id, col.model, results))
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
    filters = filters or HeatmapFilter()
    tasks = TaskResult.objects.filter(
        pk__in=newest_task_ids(scenario_id__in=scenario_ids, **filters.task_filters())
    ).values_list("scenario_id", "skill", "model", "run__run_id", "finished_at")
    return {(s, k, m): (run_id, finished) for s, k, m, run_id, finished in tasks}


# --- Cell detail ----------------------------------------------------------------------------


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


def stale_reason(*, catalog: Catalog, task: TaskResult) -> str:
    """Why ``task``'s result no longer matches the catalog, with its date; "" when it does."""
    from heatmap.services.reports import task_fingerprint

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
    the configured order, specialist first. Two queries."""
    filters = filters or HeatmapFilter()
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
            *("scenario_id", "cached_from", "fingerprint", "skill_fingerprint"),
            *("scenario_fingerprint", "prompt_fingerprint", "model_id"),
        )
        if filters.keeps_model(t.model)
    ]
    checks = {
        c.task_id: c
        for c in CheckResult.objects.filter(task__in=[t.pk for t in tasks], check_id=check_id)
    }
    labels = {skill: label for label, skill, _ in skill_labels(scenario)}
    order = {skill: i for i, skill in enumerate(scenario.target_skills)}
    models = model_order(t.model for t in tasks)
    details = []
    for task in sorted(tasks, key=lambda t: (models.index(t.model), order.get(t.skill, 99))):
        check = checks.get(task.pk)
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
            )
        )
    return details


def lint_findings(*, catalog: Catalog, skill: str, check_id: str) -> list[Finding]:
    """The linter's findings (file, line, detail) for one skill and BP check."""
    skill_lint = lint_matrix(catalog=catalog).get(skill)
    return list(skill_lint.findings_for(check_id)) if skill_lint is not None else []


# --- Runs -----------------------------------------------------------------------------------


def run_active() -> Run | None:
    """The newest unfinished run whose worker is alive, if any. One query."""
    for run in Run.objects.filter(status__in=Run.UNFINISHED)[:5]:
        if run.is_active:
            return run
    return None


def run_list(*, limit: int = 200) -> list[Run]:
    return list(Run.objects.all()[:limit])


def run_get(*, run_id: str) -> Run | None:
    """The run, or None; an id no run can have (a NUL, which PostgreSQL refuses) finds none."""
    if not is_valid_run_id(run_id):
        return None
    return Run.objects.filter(run_id=run_id).first()


def run_progress(*, run: Run) -> dict[str, Any]:
    """A run's status and counts, for the API and the progress fragment."""
    done = run.completed  # counts every finished task, failed ones included
    duration = run.duration
    elapsed = duration.total_seconds() if duration else 0.0
    eta = None
    if run.is_active and done and run.total > done:
        eta = elapsed / done * (run.total - done)
    return {
        "run_id": run.run_id,
        "status": run.display_status,
        "active": run.is_active,
        "models": list(run.models),
        "domains": list(run.domains),
        "total": run.total,
        "completed": run.completed,
        "failed": run.failed,
        "cached": run.cached,
        "done": done,
        "cancel_requested": run.cancel_requested,
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "cost_usd": round(run.cost_usd, 6),
        "batch": run.batch,
        **run_cache_totals(run),
        "elapsed_s": round(elapsed, 1),
        "eta_s": round(eta, 1) if eta is not None else None,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
    }


def run_cache_totals(run: Run) -> dict[str, Any]:
    """Prompt caching in a run: tokens written and read, the hit rate (share of input tokens
    read from the cache) and what it saved against sending them uncached, priced per model."""
    from skillcheck.auditors.pricing import cache_savings_usd

    saved = 0.0
    if run.cache_write_tokens or run.cache_read_tokens:
        rows = (
            run.tasks.values("model", "batch")
            .annotate(write=Sum("cache_write_tokens"), read=Sum("cache_read_tokens"))
            .order_by()
        )
        model_ids = dict(settings.SKILLCHECK_MODELS)
        for row in rows:
            model_id = model_ids.get(row["model"], row["model"])
            saved += cache_savings_usd(
                model_id, row["write"] or 0, row["read"] or 0, batch=row["batch"]
            )
    hit_rate = run.cache_read_tokens / run.input_tokens if run.input_tokens else None
    return {
        "cache_write_tokens": run.cache_write_tokens,
        "cache_read_tokens": run.cache_read_tokens,
        "cache_hit_rate": round(hit_rate, 4) if hit_rate is not None else None,
        "cache_saved_usd": round(saved, 6),
    }


# --- BP linter matrix -----------------------------------------------------------------------

_lint_cache: dict[str, Any] = {}


def lint_matrix(*, catalog: Catalog) -> dict[str, SkillLint]:
    """Skills × BP checks from the static linter, computed once per catalog fingerprint.

    The catalog object itself is cached per content change, so its identity stands in for the
    fingerprint without re-reading every skill file on each request.
    """
    if _lint_cache.get("catalog") is not catalog:
        _lint_cache.clear()
        _lint_cache["result"] = lint_catalog(catalog)
        _lint_cache["catalog"] = catalog
    return _lint_cache["result"]


def run_tasks_to_do(*, run: Run) -> int:
    """How many of ``run``'s tasks its next execution runs: the failed ones for a retry of
    errors, else every task without a successful result. One query."""
    if run.errors_only:
        return run.tasks.filter(errored=True).count()
    return run.total - run.tasks.filter(errored=False).count()


# --- One run's result tables -------------------------------------------------------------


@dataclass
class GroupTotals:
    name: str
    tasks: int = 0
    errors: int = 0
    passed: int = 0
    failed_checks: int = 0
    unclear: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    duration_s: float = 0.0
    top_failing: list[tuple[str, int]] = field(default_factory=list)

    @property
    def pass_pct(self) -> float | None:
        pct = pass_percent(self.passed, self.failed_checks, self.unclear)
        return None if pct is None else round(pct, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tasks": self.tasks,
            "errors": self.errors,
            "pass_pct": self.pass_pct,
            "fails": self.failed_checks,
            "unclear": self.unclear,
            "top_failing": [{"check_id": c, "fails": n} for c, n in self.top_failing],
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "avg_duration_s": round(self.duration_s / self.tasks, 3) if self.tasks else None,
        }


def run_result_tables(*, run: Run, top: int = 3) -> dict[str, list[GroupTotals]]:
    """Per skill and per model: tasks, errors, pass % (n/a excluded), fails, top failures.

    Reads each task's stored tally (counts and failing check ids), not its check rows.
    """
    groups: dict[str, dict[str, GroupTotals]] = {"skill": {}, "model": {}}
    fails: dict[str, dict[str, Counter]] = {
        "skill": defaultdict(Counter),
        "model": defaultdict(Counter),
    }
    rows = run.tasks.values_list(
        "skill", "model", "error", "input_tokens", "output_tokens", "cost_usd", "duration_s",
        "pass_count", "fail_count", "unclear_count", "failed_checks",
    )  # fmt: skip
    for skill, model, error, tokens_in, tokens_out, cost, duration, *counts, failed in rows:
        passed, failed_count, unclear = counts
        for kind, name in (("skill", skill), ("model", model)):
            group = groups[kind].setdefault(name, GroupTotals(name))
            group.tasks += 1
            group.errors += bool(error)
            group.input_tokens += tokens_in
            group.output_tokens += tokens_out
            group.cost_usd += cost
            group.duration_s += duration
            group.passed += passed
            group.failed_checks += failed_count
            group.unclear += unclear
            fails[kind][name].update(failed_check_ids(failed))
    for kind in ("skill", "model"):
        for name, group in groups[kind].items():
            group.top_failing = fails[kind][name].most_common(top)
    return {
        "skills": sorted(groups["skill"].values(), key=lambda s: s.name),
        "models": [groups["model"][m] for m in run.models if m in groups["model"]]
        + [s for m, s in groups["model"].items() if m not in run.models],
    }


# --- Fingerprints and the response cache ----------------------------------------------------

_fingerprinters: dict[str, Any] = {}


def catalog_fingerprinter(*, catalog: Catalog) -> Fingerprinter:
    """Current fingerprints of ``catalog``'s tasks, each file hashed once per catalog load.

    Model names stand for the configured ids (``SKILLCHECK_MODELS``), as in a run.
    """
    ids = model_ids(dict(settings.SKILLCHECK_MODELS))
    held = _fingerprinters.get("value")
    if held is None or held.catalog is not catalog or held.model_ids != ids:
        held = _fingerprinters["value"] = Fingerprinter(catalog, catalog.taxonomy, ids)
    return held


def stale_keys(
    *, catalog: Catalog, prints: Mapping[tuple[str, str, str], str]
) -> set[tuple[str, str, str]]:
    """The task keys whose stored fingerprint differs from the current catalog's.

    A result without a fingerprint (older than fingerprints) or whose scenario or skill left
    the catalog is not called stale: there is nothing to compare it with.
    """
    fingerprinter = catalog_fingerprinter(catalog=catalog)
    stale = set()
    for key, stored in prints.items():
        if not stored:
            continue
        current = fingerprinter.of_key(*key)
        if current is not None and current.key and current.key != stored:
            stale.add(key)
    return stale


CACHE_LOOKUP_CHUNK = 500
CACHE_LOOKUP_FIELDS = (
    "pk",
    "scenario_id",
    "skill",
    "model",
    "fingerprint",
    "finished_at",
    "run__run_id",
)


class StoredResultCache:
    """The response cache over the database: the newest successful task per fingerprint.

    A task matches when its key (scenario, skill, model) and its fingerprint are the same;
    rows with an error never match. Two queries per 500 fingerprints, plus the checks.
    """

    def _newest(self, wanted: Mapping[tuple[str, str, str], str]) -> dict[tuple, tuple[int, str]]:
        found: dict[tuple, tuple[Any, int, str]] = {}
        prints = sorted(set(wanted.values()))
        for start in range(0, len(prints), CACHE_LOOKUP_CHUNK):
            rows = (
                TaskResult.objects.filter(
                    fingerprint__in=prints[start : start + CACHE_LOOKUP_CHUNK], error=""
                )
                .values_list(*CACHE_LOOKUP_FIELDS)
                .order_by()
            )
            for pk, scenario_id, skill, model, fingerprint, finished_at, run_id in rows:
                key = (scenario_id, skill, model)
                if wanted.get(key) != fingerprint:
                    continue
                held = found.get(key)
                if held is None or (finished_at, pk) > (held[0], held[1]):
                    found[key] = (finished_at, pk, run_id)
        return {key: (pk, run_id) for key, (_, pk, run_id) in found.items()}

    def hits(self, wanted: Mapping[tuple[str, str, str], str]) -> set[tuple[str, str, str]]:
        return set(self._newest(wanted))

    def lookup(
        self, wanted: Mapping[tuple[str, str, str], str]
    ) -> dict[tuple[str, str, str], tuple[ScoredRun, str]]:
        from heatmap.services.reports import scored_from_task

        newest = self._newest(wanted)
        pks = [pk for pk, _ in newest.values()]
        tasks: dict[int, TaskResult] = {}
        for start in range(0, len(pks), CACHE_LOOKUP_CHUNK):
            chunk = TaskResult.objects.filter(pk__in=pks[start : start + CACHE_LOOKUP_CHUNK])
            tasks.update((t.pk, t) for t in chunk.prefetch_related("checks"))
        return {key: (scored_from_task(tasks[pk]), run_id) for key, (pk, run_id) in newest.items()}


# --- Comparing two runs ---------------------------------------------------------------------


def _run_task_checks(run: Run) -> list[TaskChecks]:
    """Every task of ``run`` with its verdicts per check. Two queries."""
    tasks = {
        pk: (scenario_id, skill, model, bool(error))
        for pk, scenario_id, skill, model, error in run.tasks.values_list(
            "pk", "scenario_id", "skill", "model", "error"
        )
    }
    checks: dict[int, dict[str, str]] = defaultdict(dict)
    rows = CheckResult.objects.filter(task__run=run).values_list("task_id", "check_id", "result")
    for task_id, check_id, result in rows.order_by():
        checks[task_id][check_id] = result
    return [
        TaskChecks((scenario_id, skill, model), checks.get(pk, {}), error)
        for pk, (scenario_id, skill, model, error) in tasks.items()
    ]


def run_comparison(*, base: Run, new: Run, catalog: Catalog | None = None) -> Comparison:
    """The checks that flipped from ``base`` to ``new``, regressions first (``compare_runs``).

    Only tasks in both runs are compared; the others are listed as added or removed.
    """
    severities = {c.id: c.severity for c in catalog.taxonomy.checks} if catalog else {}
    return compare_runs(
        _run_task_checks(base),
        _run_task_checks(new),
        severities=severities,
        base_id=base.run_id,
        new_id=new.run_id,
    )


def run_previous(*, run: Run, runs: list[Run] | None = None) -> Run | None:
    """The newest run created before ``run`` that shares a model and a domain with it.

    Only tasks in both runs are compared, so a run with no domain in common would compare
    nothing. A run without domains (an old import) counts as covering them all. ``runs``
    (newest first, as ``run_list`` gives them) avoids a query per run in a list.
    """
    models, domains = set(run.models), set(run.domains or ())
    if runs is not None and run in runs:
        older = runs[runs.index(run) + 1 :]
    else:
        older = list(Run.objects.filter(created_at__lt=run.created_at)[:200])
    return next(
        (
            r
            for r in older
            if models & set(r.models) and (not domains or not r.domains or domains & set(r.domains))
        ),
        None,
    )


# --- Model agreement --------------------------------------------------------------------------


@dataclass
class DisputedCheck:
    check: Check | None
    check_id: str
    percent: int | None
    groups: int


def heatmap_disputed_checks(
    *, catalog: Catalog, limit: int = 5, version: tuple[int, int] | None = None
) -> list[DisputedCheck]:
    """The checks models agree on least across the catalog (below 100 %), least first.

    A check nobody agrees on is usually a badly worded one: the page links it to its line.
    """
    agreement = heatmap_agreement(version=version)
    by_id = catalog.taxonomy.by_id
    return [
        DisputedCheck(by_id.get(check_id), check_id, tally.percent, tally.groups)
        for check_id, tally in agreement.lowest_checks(limit)
        if tally.agreeing < tally.groups
    ]


def heatmap_agreement(
    *, domain: str | None = None, version: tuple[int, int] | None = None
) -> Agreement:
    """How often models agree per skill and per check, over the newest successful results.

    Counted in the database (one query, a few hundred rows back), kept per data version like
    the overview's sums (``version``: the data version the caller read already).
    """
    count, last = version or results_version()
    key = f"heatmap:agreement:v2:{domain or '*'}:{count}-{last}"
    held = cache.get(key)
    if held is not None:
        return held
    agreement = agreement_from_tallies(_agreement_tallies(domain))
    cache.set(key, agreement, OVERVIEW_CACHE_S)
    return agreement


def _agreement_tallies(domain: str | None) -> list[tuple[str, str, int, int]]:
    """(skill, check id, groups, agreeing groups) over the newest successful tasks.

    ``model_agreement``'s definition in SQL: a group is one (scenario, skill, check) with two
    or more verdicts (one per model: the newest task per key, one row per check), and it
    agrees when it holds one distinct verdict (``verdicts_agree``). The groups (~100,000 for
    10,000 distinct tasks) are tallied per skill and check in the same statement. The newest
    tasks bring their scenario and skill from the ranking index, so no task row is read.
    """
    filters: dict[str, Any] = {"errored": False}  # in the ranking index, unlike ``error``
    if domain:
        filters["domain"] = domain
    newest = newest_tasks(**filters).values("pk", "scenario_id", "skill")
    newest_sql, params = newest.query.get_compiler(using=newest.db).as_sql()
    connection = connections[newest.db]
    q = connection.ops.quote_name
    checks = q(CheckResult._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g.skill, g.check_id, COUNT(*), SUM(CASE WHEN g.verdicts = 1 THEN 1 ELSE 0 END)"
            f" FROM (SELECT t.{q('skill')} AS skill, c.{q('check_id')} AS check_id,"
            f" COUNT(DISTINCT c.{q('result')}) AS verdicts"
            f" FROM ({newest_sql}) t JOIN {checks} c ON c.{q('task_id')} = t.{q('pk')}"
            f" GROUP BY t.{q('scenario_id')}, t.{q('skill')}, c.{q('check_id')}"
            f" HAVING COUNT(*) >= 2) g"
            f" GROUP BY g.skill, g.check_id",
            params,
        )
        return [(s, c, int(n), int(agreeing)) for s, c, n, agreeing in cursor.fetchall()]


# --- One skill's page ---------------------------------------------------------------------------

CHART_W, CHART_H, CHART_PAD = 640, 220, 32
CHART_COLORS = ("#1f6feb", "#d1242f", "#1a7f37", "#8250df", "#bf8700", "#57606a")


@dataclass
class SkillRunPoint:
    run_id: str
    created_at: Any
    model: str
    pass_pct: float | None
    tasks: int


@dataclass
class SkillHistory:
    skill: str
    points: list[SkillRunPoint]
    runs: list[Run]
    models: list[str]
    matrix_columns: list[tuple[str, str]]  # (scenario id, model)
    matrix_rows: list[tuple[Check, list[str]]]
    lint: Any = None

    def chart(self) -> dict[str, Any]:
        """Pass % per model over the runs, as SVG coordinates (rendered by the template)."""
        run_ids = [r.run_id for r in reversed(self.runs)]  # oldest first, left to right
        span = max(len(run_ids) - 1, 1)
        inner_w, inner_h = CHART_W - 2 * CHART_PAD, CHART_H - 2 * CHART_PAD

        def xy(run_id: str, pct: float) -> tuple[float, float]:
            x = CHART_PAD + inner_w * (run_ids.index(run_id) / span if len(run_ids) > 1 else 0.5)
            return round(x, 1), round(CHART_PAD + inner_h * (1 - pct / 100), 1)

        series = []
        for i, model in enumerate(self.models):
            dots = [
                (*xy(p.run_id, p.pass_pct), f"{model} · {p.run_id}: {p.pass_pct:.0f}%")
                for p in sorted(self.points, key=lambda p: run_ids.index(p.run_id))
                if p.model == model and p.pass_pct is not None
            ]
            series.append(
                {
                    "model": model,
                    "color": CHART_COLORS[i % len(CHART_COLORS)],
                    "points": " ".join(f"{x},{y}" for x, y, _ in dots),
                    "dots": dots,
                }
            )
        grid = [
            {"y": round(CHART_PAD + inner_h * (1 - pct / 100), 1), "label": f"{pct}%"}
            for pct in (0, 25, 50, 75, 100)
        ]
        return {
            "width": CHART_W,
            "height": CHART_H,
            "pad": CHART_PAD,
            "right": CHART_W - CHART_PAD,
            "series": series,
            "grid": grid,
            "runs": len(run_ids),
        }


def skill_history(*, catalog: Catalog, skill: str) -> SkillHistory:
    """A skill's pass % per model and run, its newest checks × scenarios × models, its runs.

    Three queries: the per-run sums, the runs, the newest check rows.
    """
    sums = (
        TaskResult.objects.filter(skill=skill)
        .values("run_id", "model")
        .annotate(
            passed=Sum("pass_count"),
            failed=Sum("fail_count"),
            unclear=Sum("unclear_count"),
            tasks=Count("pk"),
        )
        .order_by()
    )
    per_run = list(sums)
    runs = list(Run.objects.filter(pk__in={row["run_id"] for row in per_run}))
    by_pk = {r.pk: r for r in runs}
    points = [
        SkillRunPoint(
            run_id=by_pk[row["run_id"]].run_id,
            created_at=by_pk[row["run_id"]].created_at,
            model=row["model"],
            pass_pct=pass_percent(row["passed"], row["failed"], row["unclear"]),
            tasks=row["tasks"],
        )
        for row in per_run
    ]
    found: dict[tuple[str, str, str], str] = {}
    for scenario_id, model, check_id, result in (
        CheckResult.objects.filter(task__in=newest_task_ids(skill=skill))
        .values_list("task__scenario_id", "task__model", "check_id", "result")
        .order_by()
    ):
        found[(scenario_id, model, check_id)] = result
    models = sorted({p.model for p in points} | {m for _, m, _ in found})
    scenario_order = [s.id for s in catalog.scenarios if skill in s.target_skills]
    scenario_order += sorted({s for s, _, _ in found} - set(scenario_order))
    columns = [
        (s, m) for s in scenario_order for m in models if any(k[:2] == (s, m) for k in found)
    ]
    rows = [
        (check, [found.get((s, m, check.id), NOT_RUN) for s, m in columns])
        for check in catalog.taxonomy.model_checks
    ]
    lint = lint_matrix(catalog=catalog).get(skill)
    return SkillHistory(skill, points, runs, models, columns, rows, lint)
