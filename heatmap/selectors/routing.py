"""Reads of routing runs: a run's report rebuilt from its rows, the cache of earlier picks,
and which descriptions changed since a run."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from heatmap.models import Catalog, RoutingCaseResult, RoutingRun
from skillcheck.routing.compare import RoutingComparison, compare_routing
from skillcheck.routing.metrics import mean_f1
from skillcheck.routing.report import CaseRow, RoutingReport
from skillcheck.routing.routers import CLI_UNSUPPORTED, LEXICAL
from skillcheck.routing.runs import DEFAULT_RUNS, RoutingProgress

__all__ = [
    "CLI_UNSUPPORTED",
    "DEFAULT_RUNS",
    "LEXICAL",
    "RoutingComparison",
    "RoutingProgress",
    "RoutingReport",
    "mean_f1",
    "routing_report",
]


def case_row(result: RoutingCaseResult) -> CaseRow:
    return CaseRow(
        case_id=result.case_id,
        prompt=result.prompt,
        expected=result.expected,
        model=result.model,
        tags=list(result.tags or []),
        picks=list(result.picks or []),
        errors=list(result.errors or []),
        fingerprint=result.fingerprint,
        cached_from=result.cached_from or None,
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
        cache_write_tokens=result.cache_write_tokens,
        cache_read_tokens=result.cache_read_tokens,
        cost_usd=result.cost_usd,
    )


def routing_report(run: RoutingRun) -> RoutingReport:
    """The run as the engine's report: its rows in case order, its saved settings."""
    skills = list(run.descriptions)
    return RoutingReport(
        run_id=run.run_id,
        catalog=run.catalog.root_path or run.catalog.name,
        models=list(run.models),
        runs=run.runs,
        skills=skills,
        catalog_fingerprint=run.catalog_fingerprint,
        descriptions=dict(run.descriptions),
        cases=[case_row(r) for r in run.cases.all()],
        status=run.status,
        extra={"estimate": run.estimate} if run.estimate else {},
    )


def routing_cache_entries(
    *, exclude_run: RoutingRun | None, fingerprints: Collection[str] | None = None
) -> Iterator[tuple[str, list, str]]:
    """(fingerprint, picks, paying run id) of every other run's rows, oldest run first
    (``exclude_run`` None: every run's, for a run not yet saved); only the rows answering
    ``fingerprints`` when given (an index lookup, not every row ever saved)."""
    found = RoutingCaseResult.objects.exclude(fingerprint="")
    if exclude_run is not None:
        found = found.exclude(run=exclude_run)
    queries = [found]
    if fingerprints is not None:
        wanted = sorted(set(fingerprints))
        # A few hundred fingerprints a query: SQLite caps the parameters of one statement.
        queries = [
            found.filter(fingerprint__in=wanted[i : i + 500]) for i in range(0, len(wanted), 500)
        ]
    entries: list[tuple[Any, ...]] = []
    for query in queries:
        entries += query.values_list(
            "fingerprint", "picks", "cached_from", "run__created_at", "position", "run__run_id"
        )
    entries.sort(key=lambda e: (e[3], e[4]))  # oldest run first: the newest answer wins
    for fingerprint, picks, cached_from, _, _, run_id in entries:
        yield fingerprint, list(picks or []), cached_from or run_id


def routing_run_get(run_id: str) -> RoutingRun | None:
    return RoutingRun.objects.select_related("catalog").filter(run_id=run_id).first()


def routing_runs(*, catalog: Catalog | None = None) -> list[RoutingRun]:
    runs = RoutingRun.objects.select_related("catalog")
    if catalog is not None:
        runs = runs.filter(catalog=catalog)
    return list(runs)


def routing_run_previous(run: RoutingRun) -> RoutingRun | None:
    """The newest completed routing run of the same catalog before ``run`` that routed one of
    its models: the default base of a regression gate (a run of other models has no pick to
    compare with, and a gate against it would pass having compared nothing)."""
    earlier = (
        RoutingRun.objects.filter(
            catalog=run.catalog,
            status=RoutingRun.Status.COMPLETED,
            created_at__lt=run.created_at,
        )
        .exclude(pk=run.pk)
        .order_by("-created_at")
    )
    models = set(run.models)
    return next((r for r in earlier.iterator() if models & set(r.models)), None)


def routing_comparison(*, base: RoutingRun, new: RoutingReport) -> RoutingComparison:
    """``base`` against ``new`` (``ValueError`` when they route different catalogs)."""
    return compare_routing(routing_report(base), new)
