"""Reads for the heatmap pages and the API: the newest result per (scenario, skill, model).

Every heatmap read aggregates in the database over the newest task per key across all runs
(as the JSON merge does), so a page costs the same few queries whatever the number of runs.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
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
from skillcheck.compare import Comparison, TaskChecks, compare_runs
from skillcheck.fingerprints import Fingerprinter, model_ids
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


def catalog_current(path: Path | str | None = None) -> Catalog:
    """The configured catalog, re-read only when one of its files changed."""
    root = Path(path or settings.SKILLCHECK_CATALOG).resolve()
    signature = _catalog_signature(root)
    with _catalog_lock:
        cached = _catalog_cache.get(root)
        if cached and cached[0] == signature:
            return cached[1]
        catalog = load_catalog(root, max_document_bytes=settings.SKILLCHECK_MAX_DOCUMENT_BYTES)
        _catalog_cache[root] = (signature, catalog)
        return catalog


# --- Newest task per key --------------------------------------------------------------------


def newest_tasks(**filters: Any) -> QuerySet[TaskResult]:
    """The newest task per (scenario, skill, model) among ``filters``.

    A window function ranks each key's tasks newest first, in the order of the model's
    ranking index; select only indexed columns to rank without reading the task rows.
    """
    return (
        TaskResult.objects.filter(**filters)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("scenario_id"), F("skill"), F("model")],
                order_by=[F("finished_at").desc(), F("id").desc()],
            )
        )
        .filter(rank=1)
    )


def newest_task_ids(**filters: Any) -> QuerySet[TaskResult, Any]:
    """Primary keys of the newest task per key, a subquery joined in the caller's statement."""
    return newest_tasks(**filters).values("pk")


# --- Overview -----------------------------------------------------------------------------


@dataclass
class SkillRow:
    skill: str
    domains: list[str] = field(default_factory=list)
    generalist: bool = False
    in_catalog: bool = True
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESULT_ORDER, 0))
    models: set[str] = field(default_factory=set)
    fails: dict[str, int] = field(default_factory=dict)
    top_failing: list[tuple[Check | str, int]] = field(default_factory=list)

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
        return sorted(self.models)

    def as_dict(self) -> dict[str, Any]:
        return {
            "skill": self.skill,
            "domains": self.domains,
            "generalist": self.generalist,
            "pass_pct": self.pass_pct,
            "counts": self.counts,
            "models": self.sorted_models,
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
class SkillTotals:
    """One skill's sums over the newest tasks: result counts, models, failures per check."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESULT_ORDER, 0))
    models: set[str] = field(default_factory=set)
    fails: dict[str, int] = field(default_factory=dict)


def _overview_totals(domain: str | None) -> dict[str, SkillTotals]:
    """Per skill, the sums of the newest tasks' summaries, cached per data version.

    Reads the newest tasks' summaries (written with their checks) from the ranking index,
    never their check rows nor their long answers, and sums in Python: cheaper than
    grouping by the failing-check text in SQL.
    The sums are kept until a task is added or removed, so idle pages and polls between
    two finished tasks cost one small query.
    """
    count, last = results_version()
    key = f"heatmap:overview:v2:{domain or '*'}:{count}-{last}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    filters = {"domain": domain} if domain else {}
    fields = [TALLY_COUNT_FIELDS[result] for result in RESULT_ORDER]
    tasks = newest_tasks(**filters).values_list("skill", "model", "failed_checks", *fields)
    # The hot loop (one pass per newest task) only adds up; sorting out comes after it.
    sums: dict[tuple[str, str], list[int]] = {}
    failing: dict[str, list[str]] = defaultdict(list)
    for skill, model, failed_checks, passed, failed, unclear, na in tasks:
        pair = sums.get((skill, model))
        if pair is None:
            pair = sums[(skill, model)] = [0, 0, 0, 0]
        pair[0] += passed
        pair[1] += failed
        pair[2] += unclear
        pair[3] += na
        if failed_checks:
            failing[skill].append(failed_checks)
    totals: dict[str, SkillTotals] = {}
    for (skill, model), numbers in sums.items():
        skill_totals = totals.setdefault(skill, SkillTotals())
        if any(numbers):
            skill_totals.models.add(model)
            for result, n in zip(RESULT_ORDER, numbers, strict=True):
                skill_totals.counts[result] += n
    for skill, texts in failing.items():
        # One split and count per skill rather than per task.
        totals[skill].fails = dict(Counter(failed_check_ids(FAILED_CHECKS_SEPARATOR.join(texts))))
    cache.set(key, totals, OVERVIEW_CACHE_S)
    return totals


def heatmap_overview(
    *, catalog: Catalog, domain: str | None = None, query: str = "", top: int = 3
) -> list[SkillRow]:
    """One row per skill: counts of the newest results, top failing checks, models.

    Two queries (data version, then the task summaries unless cached).
    """
    totals = _overview_totals(domain)
    homes = _skill_domains(catalog)
    rows: dict[str, SkillRow] = {}
    for name, skill in catalog.skills.items():
        if domain and domain not in homes.get(name, []) and not skill.generalist:
            continue
        rows[name] = SkillRow(name, domains=homes.get(name, []), generalist=skill.generalist)
    for name, sums in totals.items():
        row = rows.get(name)
        if row is None:
            if not sums.models:
                continue
            row = rows[name] = SkillRow(name, in_catalog=False)
        row.counts = dict(sums.counts)
        row.models = set(sums.models)
        row.fails = dict(sums.fails)
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
    needle = query.strip().lower()
    selected = [r for r in rows.values() if not needle or needle in r.skill.lower()]
    return sorted(selected, key=lambda r: (not r.in_catalog, r.skill))


# --- Domain matrix --------------------------------------------------------------------------


@dataclass
class SkillResult:
    skill: str
    role: str  # "specialist" | "generalist"
    result: str


@dataclass
class MatrixColumn:
    scenario_id: str
    scenario_name: str
    model: str
    first_of_scenario: bool


@dataclass
class MatrixCell:
    scenario_id: str
    model: str
    results: list[SkillResult]


@dataclass
class MatrixRow:
    check: Check
    cells: list[MatrixCell]
    first_of_group: bool = False
    group_name: str = ""


@dataclass
class DomainMatrix:
    domain: str
    scenarios: list[Any]
    models: list[str]
    columns: list[MatrixColumn]
    rows: list[MatrixRow]
    filled: int
    total: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "models": self.models,
            "scenarios": [
                {"id": s.id, "name": s.name, "skills": list(s.target_skills)}
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
                        }
                        for cell in row.cells
                    ],
                }
                for row in self.rows
            ],
        }


def heatmap_domain_matrix(
    *, catalog: Catalog, domain_id: str, extra_models: list[str] | tuple[str, ...] = ()
) -> DomainMatrix:
    """Checks × scenarios × models for one domain, specialist and generalists per cell.

    One query; models are those with results in the domain plus ``extra_models`` (the active
    run's), so their cells show "not run" until they fill in.
    """
    domain = catalog.domains[domain_id]
    scenario_ids = [s.id for s in domain.scenarios]
    results_qs = (
        CheckResult.objects.filter(
            task__in=newest_task_ids(scenario_id__in=scenario_ids),
        )
        .values_list("task__scenario_id", "task__skill", "task__model", "check_id", "result")
        .order_by()
    )
    found: dict[tuple[str, str, str, str], str] = {}
    models: set[str] = set(extra_models)
    for scenario_id, skill, model, check_id, result in results_qs:
        found[(scenario_id, skill, model, check_id)] = result
        models.add(model)
    model_list = sorted(models)
    columns = [
        MatrixColumn(s.id, s.name, m, i == 0)
        for s in domain.scenarios
        for i, m in enumerate(model_list)
    ]
    roles = {
        s.id: [(k, "specialist" if k == s.specialist else "generalist") for k in s.target_skills]
        for s in domain.scenarios
    }
    rows: list[MatrixRow] = []
    filled = total = 0
    previous_group = None
    for check in catalog.taxonomy.model_checks:
        cells = []
        for col in columns:
            results = []
            for skill, role in roles[col.scenario_id]:
                result = found.get((col.scenario_id, skill, col.model, check.id), NOT_RUN)
                results.append(SkillResult(skill, role, result))
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
        scenarios=list(domain.scenarios),
        models=model_list,
        columns=columns,
        rows=rows,
        filled=filled,
        total=total,
    )


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


def heatmap_cell_detail(
    *, catalog: Catalog, scenario_id: str, check_id: str, model: str | None = None
) -> list[CellDetail]:
    """Per model and skill of one scenario: the newest task's result for one check. Two queries."""
    scenario = catalog.scenario(scenario_id)
    filters: dict[str, Any] = {"scenario_id": scenario_id, "skill__in": scenario.target_skills}
    if model:
        filters["model"] = model
    tasks = list(
        TaskResult.objects.filter(pk__in=newest_task_ids(**filters))
        .select_related("run")
        .only("skill", "model", "markdown_response", "error", "risk_level", "run__run_id")
    )
    checks = {
        c.task_id: c
        for c in CheckResult.objects.filter(task__in=[t.pk for t in tasks], check_id=check_id)
    }
    order = {skill: i for i, skill in enumerate(scenario.target_skills)}
    details = []
    for task in sorted(tasks, key=lambda t: (t.model, order.get(t.skill, 99))):
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
            )
        )
    return details


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


def lint_matrix(*, catalog: Catalog) -> dict[str, Any] | None:
    """Skills × BP checks from the static linter, computed once per catalog fingerprint.

    The catalog object itself is cached per content change, so its identity stands in for the
    fingerprint without re-reading every skill file on each request.
    """
    try:
        from skillcheck.linter import lint_catalog
    except ImportError:
        return None
    if _lint_cache.get("catalog") is not catalog:
        _lint_cache.clear()
        _lint_cache["result"] = lint_catalog(catalog)
        _lint_cache["catalog"] = catalog
    return _lint_cache["result"]


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
    """The newest run created before ``run`` that shares a model with it: what to compare to.

    ``runs`` (newest first, as ``run_list`` gives them) avoids a query per run in a list.
    """
    models = set(run.models)
    if runs is not None and run in runs:
        older = runs[runs.index(run) + 1 :]
    else:
        older = list(Run.objects.filter(created_at__lt=run.created_at)[:200])
    return next((r for r in older if models & set(r.models)), None)
