"""Executing a run: the machinery ``run_execute`` drives, shared by every way a run starts.

A fresh run, a resumed one and a retry of its errors all execute here, in the process that
took the run (the ``run_scored`` command, or a worker). The engine is ``skillcheck.runs``
(``skillcheck.batch`` for batch runs): here is what Django adds, namely each finished task is
committed to the database before its progress event goes out, then the run's JSON snapshot is
refreshed; the run's row carries status, counters, heartbeat and the cancel flag, so another
process can watch or stop it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from heatmap import selectors
from heatmap.models import Run
from heatmap.services import auditors as auditor_services
from heatmap.services.liveness import run_claim
from heatmap.services.plans import RunRequestError, plan_check_models, plan_only
from heatmap.services.reports import (
    run_count_tasks,
    run_metadata,
    run_recount,
    run_report_path,
    run_snapshot,
    task_save,
    tasks_save_cached,
)
from skillcheck.auditors import Auditor
from skillcheck.batch import BatchEngine
from skillcheck.catalog import Catalog, CatalogError
from skillcheck.fingerprints import Fingerprinter, model_ids
from skillcheck.reports import ReportSnapshot
from skillcheck.results import ScoredRun
from skillcheck.runs import Listener, RunEngine, RunOutcome, build_tasks

logger = logging.getLogger(__name__)

CANCEL_POLL_S = 1.0
HEARTBEAT_S = 5.0


def task_timeout_s() -> float:
    """A safety net above the auditors' own per-call timeouts and retries."""
    if settings.SKILLCHECK_TASK_TIMEOUT_S:
        return float(settings.SKILLCHECK_TASK_TIMEOUT_S)
    calls = settings.SKILLCHECK_MAX_RETRIES + 1
    return settings.SKILLCHECK_CALL_TIMEOUT_S * calls + 60.0 * calls


def heartbeat_interval_s() -> float:
    """How often a live run (running or queued) beats: often enough never to look stale."""
    return min(HEARTBEAT_S, settings.SKILLCHECK_HEARTBEAT_STALE_S / 3)


class _Execution:
    """The hooks the engine calls for one run, all on the thread running ``run_execute``."""

    def __init__(self, run: Run, snapshot: ReportSnapshot, cancel_event: threading.Event):
        self.run = run
        self.snapshot = snapshot
        self.cancel_event = cancel_event
        self._last_cancel_poll = 0.0
        self._last_heartbeat = time.monotonic()

    def on_results(self, results: list[ScoredRun]) -> None:
        """The answers that arrived together, committed in one transaction: a commit per
        task was most of the writing thread's time in a fast run."""
        with transaction.atomic():
            for result in results:
                task_save(run=self.run, result=result)
            run_count_tasks(run=self.run, results=results)
        self._last_heartbeat = time.monotonic()
        self.snapshot.extend(results)
        self.snapshot.write()

    def on_batches(self, records: list[dict[str, Any]]) -> None:
        """Submitted batches are committed at once: a killed process resumes by polling them."""
        self.run.batches = records
        Run.objects.filter(pk=self.run.pk).update(batches=records, heartbeat_at=timezone.now())
        self._last_heartbeat = time.monotonic()

    def on_cached(self, results: list[ScoredRun]) -> None:
        tasks_save_cached(run=self.run, results=results)
        self._last_heartbeat = time.monotonic()
        self.snapshot.extend(results)
        self.snapshot.write(force=True)

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if now - self._last_cancel_poll < CANCEL_POLL_S:
            return False
        self._last_cancel_poll = now
        return Run.objects.filter(pk=self.run.pk, cancel_requested=True).exists()

    def on_tick(self) -> None:
        """Beat while long tasks are in flight, so the run does not look interrupted."""
        now = time.monotonic()
        if now - self._last_heartbeat >= heartbeat_interval_s():
            self._last_heartbeat = now
            Run.objects.filter(pk=self.run.pk).update(heartbeat_at=timezone.now())
        if self.snapshot.due():
            self.snapshot.write()  # a throttled write still pending goes out within ~1 s

    def on_finish(self, outcome: RunOutcome) -> str:
        run = self.run
        run.refresh_from_db()
        run_recount(run=run)
        run.status = outcome.status
        run.error = outcome.error or ""
        run.finished_at = timezone.now()
        run.heartbeat_at = run.finished_at
        run.save()
        self.snapshot.update_metadata(**run_metadata(run))
        self.snapshot.write(force=True)
        return str(self.snapshot.path)


def _fail(run: Run, error: str, listeners: Iterable[Listener]) -> Run:
    run.status = Run.Status.FAILED
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    logger.error("run %s failed: %s", run.run_id, error)
    for listener in listeners:
        listener({"type": "error", "run_id": run.run_id, "error": error})
    return run


def run_execute(
    *,
    run: Run,
    listeners: Iterable[Listener] = (),
    cancel_event: threading.Event | None = None,
    abort_event: threading.Event | None = None,
    auditors: dict[str, Auditor] | None = None,
    task_timeout: float | None = None,
    cancel_grace_s: float | None = None,
    catalog: Catalog | None = None,
) -> Run:
    """Run every task of ``run`` that is missing or failed, to the end or a cancel. Blocking.

    ``catalog``: the run's catalog when the caller has just loaded it (parsing it again
    costs a quarter of a second at 1,000 scenarios).

    ``cancel_event`` stops launching (in-flight tasks get a grace period); ``abort_event``
    also stops waiting for them. A fresh run and a resumed one are the same thing here:
    finished tasks are skipped, failed ones are retried (their old rows are dropped first),
    and the JSON is rewritten from the database before the first task, so it never stays
    behind after a kill.
    """
    listeners = list(listeners)
    run.refresh_from_db()
    run_claim(run=run)
    try:
        catalog = catalog or selectors.catalog_load(path=run.catalog_path or None)
        registry = auditor_services.auditors_or_registry(auditors)
        plan_check_models(run.models, registry)
        tasks = build_tasks(
            catalog, domains=run.domains or None, models=run.models, epochs=run.epochs
        )
        tasks = plan_only(tasks, run.task_keys)
    except (CatalogError, RunRequestError, KeyError) as exc:  # UnknownDomains is a KeyError
        message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
        return _fail(run, str(message), listeners)

    failed = run.tasks.filter(errored=True)
    if run.errors_only:
        # Retry errors: only the failed tasks run again; missing ones stay for a resume.
        retry = set(failed.values_list("scenario_id", "skill", "model", "epoch"))
        tasks = [t for t in tasks if t.key in retry]
    failed.delete()
    done = set(run.tasks.values_list("scenario_id", "skill", "model", "epoch"))
    remaining = [t for t in tasks if t.key not in done]
    run.total = len(done | {t.key for t in tasks})
    run_recount(run=run)
    run.error = ""
    run.started_at = run.started_at or timezone.now()
    run.finished_at = None
    run.heartbeat_at = timezone.now()
    run.report_path = str(run_report_path(run))
    run.isolation = auditor_services.auditors_isolation(auditors=registry, models=run.models)
    # Not a full save: a cancel requested from another process meanwhile must survive.
    run.save(
        update_fields=[
            *("total", "completed", "failed", "input_tokens", "output_tokens", "cost_usd"),
            *("cache_write_tokens", "cache_read_tokens"),
            "cached",
            *("error", "started_at", "finished_at", "heartbeat_at", "report_path"),
            "isolation",
        ]
    )

    snapshot = run_snapshot(run=run)
    cancel_event = cancel_event or threading.Event()
    execution = _Execution(run, snapshot, cancel_event)
    batch_options = {}
    if run.batch:
        batch_options = {
            "batches": run.batches,
            "on_batches": execution.on_batches,
            "batch_size": settings.SKILLCHECK_BATCH_SIZE,
            "poll_s": settings.SKILLCHECK_BATCH_POLL_S,
        }
    engine = (BatchEngine if run.batch else RunEngine)(
        remaining,
        registry,
        catalog.taxonomy,
        run_id=run.run_id,
        concurrency=run.concurrency,
        listeners=listeners,
        cancel_event=cancel_event,
        abort_event=abort_event,
        should_cancel=execution.should_cancel,
        on_results=execution.on_results,
        on_tick=execution.on_tick,
        on_finish=execution.on_finish,
        task_timeout_s=task_timeout if task_timeout is not None else task_timeout_s(),
        cancel_grace_s=(
            cancel_grace_s if cancel_grace_s is not None else settings.SKILLCHECK_CANCEL_GRACE_S
        ),
        total=run.total,
        initial_completed=run.completed,
        initial_failed=run.failed,
        cache=selectors.StoredResultCache() if run.use_cache else None,
        on_cached=execution.on_cached,
        fingerprinter=Fingerprinter(
            catalog, catalog.taxonomy, model_ids(dict(settings.SKILLCHECK_MODELS))
        ),
        **batch_options,
    )
    try:
        snapshot.write(force=True)
        engine.run()
    except BaseException as exc:
        # Ctrl-C outside the engine's loop, or a failure before it started: never leave
        # the run looking alive.
        run.refresh_from_db()
        if run.status == Run.Status.RUNNING:
            _fail(run, f"{type(exc).__name__}: {exc}", [])
        raise
    run.refresh_from_db()
    return run
