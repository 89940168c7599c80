"""Execute (or resume) a routing run: ask every missing sample, saving each answer at once.

The engine (``skillcheck.routing.runs.RoutingRunner``, on the audits' run engine) asks the
routers; each answer group is committed to the database (``on_record``), then the JSON
report is rewritten. The run's row carries status, owner process, heartbeat, batch records
and the cancel flag, as an audit run's does, so another process can watch it, stop it, or
find it interrupted when this one is killed. A run whose catalog's descriptions changed
since it was planned cannot be resumed: its picks answer another catalog.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from heatmap.models import RoutingCaseResult, RoutingRun
from heatmap.selectors.routing import routing_cache_entries, routing_report
from heatmap.services.execution import CANCEL_POLL_S, heartbeat_interval_s, task_timeout_s
from heatmap.services.liveness import run_claim
from heatmap.services.plans import RunRequestError, plan_catalog
from heatmap.services.routing_routers import routing_routers
from heatmap.services.routing_start import routing_plan
from skillcheck.routing.report import CaseRow, RoutingReport, save_routing_report
from skillcheck.routing.routers import Router
from skillcheck.routing.runs import PickCache, RoutingProgress, RoutingRunner, stale_descriptions
from skillcheck.runs import Listener

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


class _Watch:
    """The engine's hooks for one run, on the thread running ``routing_run_execute``: the
    cancel flag, polled about once a second, and the heartbeat."""

    def __init__(self, run: RoutingRun):
        self.run = run
        self._last_poll = 0.0
        self._last_beat = time.monotonic()

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if now - self._last_poll < CANCEL_POLL_S:
            return False
        self._last_poll = now
        return RoutingRun.objects.filter(pk=self.run.pk, cancel_requested=True).exists()

    def beat(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_beat >= heartbeat_interval_s():
            self._last_beat = now
            RoutingRun.objects.filter(pk=self.run.pk).update(heartbeat_at=timezone.now())

    def on_batches(self, records: list[dict[str, Any]]) -> None:
        """Submitted batches are committed at once: a killed process resumes by polling them."""
        RoutingRun.objects.filter(pk=self.run.pk).update(
            batches=records, heartbeat_at=timezone.now()
        )


def check_catalog(run: RoutingRun) -> dict[str, str]:
    """The descriptions the run's picks answer; ``RunRequestError`` when they changed."""
    plan = routing_plan(plan_catalog(path=run.catalog.root_path or None))
    if plan.catalog_fingerprint != run.catalog_fingerprint:
        changed = stale_descriptions(routing_report(run), plan.descriptions)
        raise RunRequestError(
            f"routing run {run.run_id}: descriptions changed since it was planned "
            f"({', '.join(changed) or 'skills added or removed'}); start a new run"
        )
    return plan.descriptions


def routing_run_execute(
    *,
    run: RoutingRun,
    routers: dict[str, Router] | None = None,
    concurrency: int = DEFAULT_ROUTING_CONCURRENCY,
    on_progress: Callable[[RoutingProgress], None] | None = None,
    listeners: Iterable[Listener] = (),
    cancel_event: threading.Event | None = None,
    abort_event: threading.Event | None = None,
) -> RoutingReport:
    """Ask what ``run`` still lacks and return its report (``status`` says how it ended).

    Blocking. ``RunRequestError`` before any call when the run cannot execute: its catalog's
    descriptions changed, a model cannot route, or another live process holds it.
    """
    run.refresh_from_db()
    descriptions = check_catalog(run)
    routers = routers or routing_routers(models=run.models, descriptions=descriptions)
    run_claim(run=run)
    report = routing_report(run)
    prints = [row.fingerprint for row in report.cases]
    cache = (
        PickCache(routing_cache_entries(exclude_run=run, fingerprints=prints))
        if run.use_cache
        else None
    )
    watch = _Watch(run)

    def record(row: CaseRow) -> None:
        _save_row(run, row)
        watch.beat()

    runner = RoutingRunner(
        report,
        routers,
        Path(run.report_path),
        cache=cache,
        concurrency=concurrency,
        on_progress=on_progress,
        on_record=record,
        cancel_event=cancel_event or threading.Event(),
        abort_event=abort_event or threading.Event(),
        should_cancel=watch.should_cancel,
        on_tick=watch.beat,
        listeners=list(listeners),
        task_timeout_s=task_timeout_s(),
        cancel_grace_s=settings.SKILLCHECK_CANCEL_GRACE_S,
        batch=run.batch,
        batches=list(run.batches or []),
        on_batches=watch.on_batches,
        batch_options={
            "batch_size": settings.SKILLCHECK_BATCH_SIZE,
            "poll_s": settings.SKILLCHECK_BATCH_POLL_S,
        },
    )
    RoutingRun.objects.filter(pk=run.pk).update(
        started_at=run.started_at or timezone.now(), finished_at=None, error=""
    )
    try:
        report = runner.run()
    except BaseException as exc:  # Ctrl-C, SIGTERM, a bug: what was answered is saved
        interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
        report.status = "cancelled" if interrupted else "failed"
        save_routing_report(report, runner.path)
        RoutingRun.objects.filter(pk=run.pk).update(
            status=report.status,
            error="" if interrupted else repr(exc)[:2000],
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )
        raise
    now = timezone.now()
    RoutingRun.objects.filter(pk=run.pk).update(
        status=report.status, finished_at=now, heartbeat_at=now, error=runner.error or ""
    )
    run.refresh_from_db()
    return report
