"""Start a routing run: plan it from the catalog, save its rows, estimate its cost.

The rows are every case × model, with no picks yet; ``routing_execution`` asks the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from heatmap.models import RoutingCaseResult, RoutingRun
from heatmap.selectors.routing import routing_cache_entries
from heatmap.services import dispatch
from heatmap.services.catalogs import catalog_register
from heatmap.services.plans import RunRequestError, plan_catalog
from heatmap.services.reports import default_reports_dir
from heatmap.services.routing_routers import routing_routers
from heatmap.services.start import valid_run_id
from skillcheck.catalog import Catalog
from skillcheck.routing.cases import RoutingError
from skillcheck.routing.prompt import build_router_system
from skillcheck.routing.report import RoutingReport, routing_report_path
from skillcheck.routing.routers import LEXICAL, Router
from skillcheck.routing.runs import (
    DEFAULT_RUNS,
    PickCache,
    RoutingPlan,
    estimate_routing_cost,
    new_routing_run_id,
)

MAX_RUNS = 20  # K: a majority of more samples buys little and costs linearly


def routing_plan(catalog: Catalog) -> RoutingPlan:
    try:
        return RoutingPlan.of(catalog)
    except RoutingError as exc:
        raise RunRequestError(str(exc)) from None


def _estimate(
    report: RoutingReport,
    routers: dict[str, Router],
    system: str,
    runs: int,
    *,
    use_cache: bool,
    batch: bool,
) -> dict[str, dict[str, float | int]]:
    """The run's cost, as an audit's estimate: only the cases the pick cache will not answer,
    at the batch rate in batch mode; ``lexical`` costs nothing."""
    prints = [row.fingerprint for row in report.cases]
    cache = (
        PickCache(routing_cache_entries(exclude_run=None, fingerprints=prints))
        if use_cache
        else None
    )
    prompts: dict[str, list[str]] = {alias: [] for alias in routers}
    cached: dict[str, int] = dict.fromkeys(routers, 0)
    for row in report.cases:
        if cache is not None and cache.lookup(row.fingerprint, runs) is not None:
            cached[row.model] += 1
        else:
            prompts[row.model].append(row.prompt)
    api_models = {a: r.model_id for a, r in routers.items() if a != LEXICAL}
    estimate = estimate_routing_cost(
        system, prompts, api_models, runs, report.skills, batch=batch, cached=cached
    )
    if LEXICAL in routers:
        estimate[LEXICAL] = {
            "calls": len(prompts[LEXICAL]),
            "cached_cases": cached[LEXICAL],
            "usd": 0.0,
            "usd_uncached": 0.0,
        }
    return {alias: estimate[alias] for alias in routers}  # in the run's model order


def routers_check_available(routers: dict[str, Router]) -> None:
    """``RunRequestError`` naming a router that cannot route here, as an audit run refuses
    an unavailable model: its calls could only error (a Claude model with the claude CLI and
    no API key), and the run would end "completed" with nothing routed."""
    for router in routers.values():
        found = router.availability()
        if not found.available:
            raise RunRequestError(f"{found.reason}; lexical routes offline")


@dataclass
class RoutingRunPlan:
    """A routing run as it would start: its rows, routers, system prompt and cost estimate."""

    catalog: Catalog
    report: RoutingReport
    routers: dict[str, Router]
    estimate: dict[str, dict[str, float | int]]

    @property
    def calls(self) -> int:
        return sum(int(e["calls"]) for e in self.estimate.values())

    @property
    def cached_cases(self) -> int:
        return sum(int(e["cached_cases"]) for e in self.estimate.values())

    @property
    def cost_usd(self) -> float:
        return sum(float(e["usd"]) for e in self.estimate.values())


def routing_run_plan(
    *,
    models: Sequence[str],
    runs: int = DEFAULT_RUNS,
    catalog: Catalog | None = None,
    catalog_path: Path | str | None = None,
    use_cache: bool = True,
    batch: bool = False,
    run_id: str = "",
    lint: bool = True,
) -> RoutingRunPlan:
    """What a routing run would ask and cost, nothing saved (the web's plan line, and the
    start); ``RunRequestError`` when it cannot run as asked (an unknown model, a model that
    cannot route here, K out of range, a catalog that cannot route, batch mode with a router
    that is not on the Anthropic API). ``lint=False``: no linter findings on the descriptions
    (a preview that shows none of them, at a tenth of the time)."""
    if not 1 <= runs <= MAX_RUNS:
        raise RunRequestError(f"runs (K) must be between 1 and {MAX_RUNS}")
    if not models:
        raise RunRequestError("name at least one model (lexical, or a Claude model)")
    catalog = catalog or plan_catalog(path=catalog_path)
    plan = routing_plan(catalog)
    system = build_router_system(plan.descriptions)
    routers = routing_routers(models=models, descriptions=plan.descriptions, system=system)
    routers_check_available(routers)
    if batch:
        offline = [n for n, r in routers.items() if r.availability().via != "api"]
        if offline:
            raise RunRequestError(
                f"batch mode sends Message Batches to the Anthropic API; {', '.join(offline)} "
                "cannot go there (lexical runs offline: start it as a run of its own)"
            )
    report = plan.new_report(run_id or "planned", routers, runs, lint=lint)
    estimate = _estimate(report, routers, system, runs, use_cache=use_cache, batch=batch)
    return RoutingRunPlan(catalog, report, routers, estimate)


def routing_run_create(
    *,
    models: Sequence[str],
    runs: int = DEFAULT_RUNS,
    catalog: Catalog | None = None,
    catalog_path: Path | str | None = None,
    run_id: str | None = None,
    reports_dir: Path | str | None = None,
    use_cache: bool = True,
    batch: bool = False,
    confirm_above_usd: float | None = None,
) -> RoutingRun:
    """A pending routing run with a row per case and model; ``RunRequestError`` when it
    cannot run as asked (see ``routing_run_plan``), or when its estimate is above
    ``confirm_above_usd`` (the web's Run without the cost confirmation ticked)."""
    run_id = valid_run_id(run_id or new_routing_run_id())
    if RoutingRun.objects.filter(run_id=run_id).exists():
        raise RunRequestError(f"routing run {run_id} exists already")
    planned = routing_run_plan(
        models=models,
        runs=runs,
        catalog=catalog,
        catalog_path=catalog_path,
        use_cache=use_cache,
        batch=batch,
        run_id=run_id,
    )
    if confirm_above_usd is not None and planned.cost_usd > confirm_above_usd:
        raise RunRequestError(
            f"estimated ${planned.cost_usd:.2f}, above the ${confirm_above_usd:.2f} that asks "
            "first: tick the confirmation to start it"
        )
    catalog, report, routers, estimate = (
        planned.catalog,
        planned.report,
        planned.routers,
        planned.estimate,
    )
    folder = Path(reports_dir) if reports_dir else default_reports_dir()
    with transaction.atomic():
        run = RoutingRun.objects.create(
            run_id=run_id,
            catalog=catalog_register(catalog=catalog),
            models=list(routers),
            runs=runs,
            catalog_fingerprint=report.catalog_fingerprint,
            descriptions=report.descriptions,
            estimate=estimate,
            use_cache=use_cache,
            batch=batch,
            report_path=str(routing_report_path(run_id, folder.resolve())),
        )
        RoutingCaseResult.objects.bulk_create(
            RoutingCaseResult(
                run=run,
                case_id=row.case_id,
                model=row.model,
                prompt=row.prompt,
                expected=row.expected,
                tags=row.tags,
                fingerprint=row.fingerprint,
                position=position,
            )
            for position, row in enumerate(report.cases)
        )
    return run


def routing_run_start(
    *,
    catalog: Catalog,
    models: Sequence[str],
    runs: int = DEFAULT_RUNS,
    use_cache: bool = True,
    batch: bool = False,
    confirm_above_usd: float | None = None,
) -> RoutingRun:
    """Create a routing run and hand it to ``SKILLCHECK_RUN_DISPATCHER``: the web's start."""
    run = routing_run_create(
        catalog=catalog,
        models=models,
        runs=runs,
        use_cache=use_cache,
        batch=batch,
        confirm_above_usd=confirm_above_usd,
    )
    dispatch.routing_dispatch(run_id=run.run_id)
    return run
