"""The overview: one row per skill, with its counts per model, top failures and stale marks."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import F, QuerySet

from heatmap.models import (
    FAILED_CHECKS_SEPARATOR,
    TALLY_COUNT_FIELDS,
    NewestResult,
    NewestTally,
    failed_check_ids,
)
from heatmap.selectors.agreement import heatmap_agreement
from heatmap.selectors.counts import (
    RESULT_ORDER,
    empty_counts,
    exact_pass_pct,
    interval_percent,
    whole_pass_pct,
)
from heatmap.selectors.filters import HeatmapFilter, model_order
from heatmap.selectors.newest import (
    OVERVIEW_CACHE_S,
    newest_sample_rows,
    newest_tasks,
    results_version,
)
from heatmap.selectors.stale import stale_tasks
from skillcheck.catalog import Catalog, Check
from skillcheck.stats import StratifiedSums
from skillcheck.vocabulary import Result, Severity


@dataclass
class ModelCell:
    """One skill × model cell of the overview: result counts and their pass %."""

    model: str
    counts: dict[str, int] = field(default_factory=empty_counts)
    sums: StratifiedSums = field(default_factory=StratifiedSums)

    @property
    def scored(self) -> int:
        return self.counts["pass"] + self.counts["fail"] + self.counts["unclear"]

    @property
    def pass_ci(self) -> tuple[float, float] | None:
        return interval_percent(self.sums.interval())

    @property
    def pass_pct(self) -> int | None:
        return whole_pass_pct(self.counts)


@dataclass
class SkillRow:
    skill: str
    domains: list[str] = field(default_factory=list)
    generalist: bool = False
    is_dev: bool = False  # its skill has ``category: dev`` (dev-excluded checks are n/a)
    in_catalog: bool = True
    counts: dict[str, int] = field(default_factory=empty_counts)
    models: set[str] = field(default_factory=set)
    fails: dict[str, int] = field(default_factory=dict)
    top_failing: list[tuple[Check | str, int]] = field(default_factory=list)
    stale: int = 0  # newest results produced from another skill, scenario, prompt or model
    agreement: int | None = None  # % of checks two or more models scored alike (None: < 2)
    per_model: dict[str, ModelCell] = field(default_factory=dict)
    cells: list[ModelCell] = field(default_factory=list)
    """One cell per overview column (``OverviewTable.models``), "not run" ones included."""
    sums: StratifiedSums = field(default_factory=StratifiedSums)

    @property
    def scored(self) -> int:
        return sum(n for result, n in self.counts.items() if result != Result.NA)

    @property
    def pass_ci(self) -> tuple[float, float] | None:
        """The 95 % interval of ``pass_pct`` (``stats.sampled_pass_interval``)."""
        return interval_percent(self.sums.interval())

    @property
    def pass_pct(self) -> int | None:
        return whole_pass_pct(self.counts)

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

    @property
    def pass_pct_exact(self) -> float | None:
        """The pass rate to one decimal, as the original tool's API gave it."""
        return exact_pass_pct(self.counts)

    def as_dict(self) -> dict[str, Any]:
        """The API's skill row: today's fields plus the original tool's (``pass_pct`` to one
        decimal, ``top_gaps``, ``domain``, ``is_dev`` and the four counts)."""
        return {
            "skill": self.skill,
            "domain": self.home,
            "domains": self.domains,
            "is_dev": self.is_dev,
            "generalist": self.generalist,
            "pass_pct": self.pass_pct_exact,
            "pass_pct_rounded": self.pass_pct,
            **{f"{result}_count": self.counts[result] for result in RESULT_ORDER},
            "pass_ci": list(ci) if (ci := self.pass_ci) else None,
            "counts": self.counts,
            "models": self.sorted_models,
            "stale": self.stale,
            "agreement_pct": self.agreement,
            "per_model": {
                m: {
                    "pass_pct": self.per_model[m].pass_pct,
                    "pass_ci": list(ci) if (ci := self.per_model[m].pass_ci) else None,
                    "counts": self.per_model[m].counts,
                }
                for m in model_order(self.per_model)
            },
            "top_gaps": [
                {
                    "check_id": getattr(c, "id", c),
                    "name": getattr(c, "name", str(c)),
                    "severity": getattr(c, "severity", ""),
                    "count": n,
                }
                for c, n in self.top_failing
            ],
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


@dataclass
class ModelTotals:
    """One skill × model's sums over the samples of the newest tasks: result counts,
    failures per check, the pass interval's sums."""

    counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  # RESULT_ORDER
    fails: dict[str, int] = field(default_factory=dict)
    sums: StratifiedSums = field(default_factory=StratifiedSums)


def _overview_totals(
    domain: str | None,
    filters: HeatmapFilter,
    check_ids: list[str],
    version: tuple[int, int] | None = None,
) -> dict[str, dict[str, ModelTotals]]:
    """Per skill and model, the sums over the newest tasks' samples, cached per data version.

    A key's samples are every sample of its newest task's run that succeeded (all K of a run
    of several), or its newest task alone when that failed: what the matrix counts. Without a
    check filter this reads the sums kept per domain, skill and model as tasks are saved
    (``NewestTally``), or pinned to a run, that run's samples' summaries. A group or severity
    filter needs the check rows of those samples. Either way the sums are kept until a task
    is added or removed, so idle pages and polls between two finished tasks cost one small
    query.
    """
    task_filters = filters.task_filters()
    catalog_id = task_filters["catalog_id"]
    count, last = version or results_version(catalog_id=catalog_id)
    run_key = filters.run.pk if filters.run is not None else "*"
    checks_key = ",".join(check_ids) or "*"
    key = f"heatmap:overview:v7:{catalog_id}:{domain or '*'}:{run_key}:{checks_key}:{count}-{last}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    if domain:
        task_filters["domain"] = domain
    totals: dict[str, dict[str, ModelTotals]] = defaultdict(dict)
    if check_ids:
        _check_totals(totals, task_filters, check_ids)
    elif filters.run is not None:
        _summary_totals(totals, task_filters)
    else:
        _tally_totals(totals, task_filters)
    result = dict(totals)
    cache.set(key, result, OVERVIEW_CACHE_S)
    return result


def _tally_totals(totals: dict[str, dict[str, ModelTotals]], task_filters: dict) -> None:
    """Fill ``totals`` from the sums kept per domain, skill and model over the newest tasks'
    samples (``NewestTally``): a row per domain, skill and model, however many tasks."""
    for tally in NewestTally.objects.filter(**task_filters):
        held = totals[tally.skill].get(tally.model)
        if held is None:
            held = totals[tally.skill][tally.model] = ModelTotals()
        counts = [getattr(tally, TALLY_COUNT_FIELDS[result]) for result in RESULT_ORDER]
        held.counts = [a + b for a, b in zip(held.counts, counts, strict=True)]
        for check_id, n in tally.fails.items():
            held.fails[check_id] = held.fails.get(check_id, 0) + n
        held.sums.merge(tally.pass_sums)
    for skill, per_model in list(totals.items()):
        for model, held in list(per_model.items()):
            if not any(held.counts):
                del per_model[model]
        if not per_model:
            del totals[skill]


def _summary_totals(totals: dict[str, dict[str, ModelTotals]], task_filters: dict) -> None:
    """Fill ``totals`` from one run's samples' summaries (its ranking picks a task per key)."""
    fields = [TALLY_COUNT_FIELDS[result] for result in RESULT_ORDER]
    rows = newest_sample_rows(
        newest_tasks(**task_filters).values("scenario_id", "skill", "model", task_id=F("pk")),
        ["failed_checks", *fields],
    )
    # The hot loop (one pass per sample) only adds up; sorting out comes after it.
    sums: dict[tuple[str, str], list[int]] = {}
    samples: dict[tuple[str, str], dict[str, list[tuple[int, int]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    failing: dict[tuple[str, str], list[str]] = defaultdict(list)
    for scenario_id, skill, model, _, failed_checks, passed, failed, unclear, na in rows:
        pair = sums.get((skill, model))
        if pair is None:
            pair = sums[(skill, model)] = [0, 0, 0, 0]
        pair[0] += passed
        pair[1] += failed
        pair[2] += unclear
        pair[3] += na
        samples[(skill, model)][scenario_id].append((passed, passed + failed + unclear))
        if failed_checks:
            failing[(skill, model)].append(failed_checks)
    for (skill, model), numbers in sums.items():
        if not any(numbers):
            continue
        texts = failing.get((skill, model))
        # One split and count per skill and model rather than per task.
        fails = Counter(failed_check_ids(FAILED_CHECKS_SEPARATOR.join(texts))) if texts else {}
        pass_sums = StratifiedSums.of(samples[(skill, model)].values())
        totals[skill][model] = ModelTotals(numbers, dict(fails), pass_sums)


def _check_totals(
    totals: dict[str, dict[str, ModelTotals]], task_filters: dict, check_ids: list[str]
) -> None:
    """Fill ``totals`` from the chosen checks' rows of the newest tasks' samples."""
    newest: QuerySet[Any, Any]
    if "run" in task_filters:  # one run's tasks: ranked among themselves
        newest = newest_tasks(**task_filters).values(
            "scenario_id", "skill", "model", task_id=F("pk")
        )
    else:  # the kept newest task per key
        newest = NewestResult.objects.filter(**task_filters).values(
            "scenario_id", "skill", "model", "task_id"
        )
    rows = newest_sample_rows(newest, [], check_ids=check_ids)
    index = {result: i for i, result in enumerate(RESULT_ORDER)}
    per_sample: dict[tuple[str, str], dict[str, dict[int, list[int]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for scenario_id, skill, model, sample_id, check_id, result in rows:
        model_totals = totals[skill].setdefault(model, ModelTotals())
        if result in index:
            model_totals.counts[index[result]] += 1
        if result == "fail":
            model_totals.fails[check_id] = model_totals.fails.get(check_id, 0) + 1
        if result in (Result.PASS, Result.FAIL, Result.UNCLEAR):
            sample = per_sample[(skill, model)][scenario_id].setdefault(sample_id, [0, 0])
            sample[0] += result == Result.PASS
            sample[1] += 1
    for (skill, model), tasks in per_sample.items():
        totals[skill][model].sums = StratifiedSums.of(
            [(p, n) for p, n in samples.values()] for samples in tasks.values()
        )


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

    The results are those of the filter's catalog; a skill ``catalog`` no longer has is left
    out unless the filter includes removed skills. ``agreement``: also each skill's agreement
    rate (``heatmap_agreement``: after new data, the dearest part by far; the overview page
    loads it after the table).
    """
    filters = (filters or HeatmapFilter(query=query)).scoped()
    check_ids = [c.id for c in filters.checks(catalog)] if filters.narrows_checks else []
    version = version or results_version(catalog_id=filters.scoped_catalog_id)
    totals = _overview_totals(domain, filters, check_ids, version)
    homes = _skill_domains(catalog)
    rows: dict[str, SkillRow] = {}
    for name, skill in catalog.skills.items():
        if domain and domain not in homes.get(name, []) and not skill.generalist:
            continue
        rows[name] = SkillRow(
            name, domains=homes.get(name, []), generalist=skill.generalist, is_dev=skill.is_dev
        )
    for name, per_model in totals.items():
        kept = {m: t for m, t in per_model.items() if filters.keeps_model(m)}
        row = rows.get(name)
        if row is None:
            if not kept or not filters.include_removed:
                continue
            row = rows[name] = SkillRow(name, in_catalog=False)
        fails: Counter[str] = Counter()
        for model, model_totals in kept.items():
            cell = ModelCell(
                model,
                dict(zip(RESULT_ORDER, model_totals.counts, strict=True)),
                model_totals.sums,
            )
            row.per_model[model] = cell
            row.sums.merge(model_totals.sums)
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
    catalog_id = filters.catalog_id
    for _, skill_name, _ in stale_tasks(
        catalog=catalog, domain=domain, version=version, catalog_id=catalog_id
    ):
        if skill_name in rows:
            rows[skill_name].stale += 1
    by_skill = (
        heatmap_agreement(domain=domain, version=version, catalog_id=catalog_id).by_skill
        if agreement
        else {}
    )
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
    filters = (filters or HeatmapFilter()).scoped()
    version = results_version(catalog_id=filters.scoped_catalog_id)
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
    elif filters.sort == "surely":  # surely worst first: the interval's lower bound
        lows = {r.skill: (ci[0] if (ci := r.pass_ci) else None) for r in rows}
        rows.sort(key=lambda r: (lows[r.skill] is None, lows[r.skill] or 0.0, r.skill))
    return OverviewTable(models=models, rows=rows, version=version)
