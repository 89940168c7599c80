"""Execute (or resume) a routing run: ask every missing sample, saving each answer at once.

The engine (``skillcheck.routing.runs.RoutingRunner``) asks the routers and rewrites the JSON
report after every answer; its ``on_record`` hook writes the changed row to the database
first, and reads the run's cancel flag. A run whose catalog's descriptions changed since it
was planned cannot be resumed: its picks answer another catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.utils import timezone

from heatmap.models import RoutingCaseResult, RoutingRun
from heatmap.selectors.routing import routing_cache_entries, routing_report
from heatmap.services.plans import RunRequestError, plan_catalog
from heatmap.services.routing_routers import routing_routers
from heatmap.services.routing_start import routing_plan
from skillcheck.routing.report import CaseRow, RoutingReport, save_routing_report
from skillcheck.routing.routers import Router
from skillcheck.routing.runs import PickCache, RoutingProgress, RoutingRunner, stale_descriptions

DEFAULT_ROUTING_CONCURRENCY = 4


def _save_row(run: RoutingRun, row: CaseRow) -> None:
    RoutingCaseResult.objects.filter(run=run, case_id=row.case_id, model=row.model).update(
        picks=row.picks,
        pick=row.pick or "",
        errors=row.errors,
        cached_from=row.cached_from or "",
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cache_write_tokens=row.cache_write_tokens,
        cache_read_tokens=row.cache_read_tokens,
        cost_usd=row.cost_usd,
    )


def routing_run_execute(
    *,
    run: RoutingRun,
    routers: dict[str, Router] | None = None,
    concurrency: int = DEFAULT_ROUTING_CONCURRENCY,
    on_progress: Callable[[RoutingProgress], None] | None = None,
) -> RoutingReport:
    """Ask what ``run`` still lacks and return its report (``status`` says how it ended)."""
    catalog = plan_catalog(path=run.catalog.root_path or None)
    plan = routing_plan(catalog)
    report = routing_report(run)
    if plan.catalog_fingerprint != run.catalog_fingerprint:
        changed = stale_descriptions(report, plan.descriptions)
        raise RunRequestError(
            f"routing run {run.run_id}: descriptions changed since it was planned "
            f"({', '.join(changed) or 'skills added or removed'}); start a new run"
        )
    routers = routers or routing_routers(models=run.models, descriptions=plan.descriptions)
    cache = PickCache(routing_cache_entries(exclude_run=run)) if run.use_cache else None
    runner = RoutingRunner(
        report,
        routers,
        Path(run.report_path),
        cache=cache,
        concurrency=concurrency,
        on_progress=on_progress,
    )

    def record(row: CaseRow) -> None:
        _save_row(run, row)
        if RoutingRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
            runner.cancel()

    runner.on_record = record
    RoutingRun.objects.filter(pk=run.pk).update(
        status=RoutingRun.Status.RUNNING, started_at=timezone.now(), cancel_requested=False
    )
    try:
        report = runner.run()
    except BaseException as exc:  # Ctrl-C, SIGTERM, a bug: what was answered is saved
        interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
        report.status = "cancelled" if interrupted else "failed"
        save_routing_report(report, runner.path)
        RoutingRun.objects.filter(pk=run.pk).update(
            status=report.status, error="" if interrupted else repr(exc)[:2000]
        )
        raise
    RoutingRun.objects.filter(pk=run.pk).update(
        status=report.status, finished_at=timezone.now(), error=""
    )
    run.refresh_from_db()
    return report
