"""Run services: create, start, execute (also resumed runs), cancel, resume, staleness.

The ``run_scored`` command, the views, the API and the worker call these; none holds run
logic. The engine is ``skillcheck.runs``: here is what Django adds, namely each finished task
is committed to the database before its progress event goes out, then the run's JSON snapshot
is refreshed; the run's row carries status, counters, heartbeat and the cancel flag, so
another process can watch or stop it.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from heatmap import selectors, worker
from heatmap.models import Run
from heatmap.services import auditors as auditor_services
from heatmap.services.plans import (
    RunRequestError,
    plan_catalog,
    plan_check_models,
    plan_only,
    run_plan,
)
from heatmap.services.reports import (
    default_reports_dir,
    run_count_tasks,
    run_metadata,
    run_recount,
    run_report_path,
    run_snapshot,
    task_save,
    tasks_save_cached,
)
from skillcheck import processes
from skillcheck.auditors import Auditor
from skillcheck.batch import BatchEngine, BatchRecord
from skillcheck.catalog import Catalog, CatalogError
from skillcheck.fingerprints import Fingerprinter, model_ids
from skillcheck.reports import ReportSnapshot, incremental_report_path
from skillcheck.results import ScoredRun
from skillcheck.runids import RunIdError, validate_run_id
from skillcheck.runs import (
    DEFAULT_CONCURRENCY,
    Listener,
    RunEngine,
    RunOutcome,
    build_tasks,
)

logger = logging.getLogger(__name__)

CANCEL_POLL_S = 1.0
HEARTBEAT_S = 5.0


# --- Configuration ------------------------------------------------------------------------


def task_timeout_s() -> float:
    """A safety net above the auditors' own per-call timeouts and retries."""
    if settings.SKILLCHECK_TASK_TIMEOUT_S:
        return float(settings.SKILLCHECK_TASK_TIMEOUT_S)
    calls = settings.SKILLCHECK_MAX_RETRIES + 1
    return settings.SKILLCHECK_CALL_TIMEOUT_S * calls + 60.0 * calls


def heartbeat_interval_s() -> float:
    """How often a live run (running or queued) beats: often enough never to look stale."""
    return min(HEARTBEAT_S, settings.SKILLCHECK_HEARTBEAT_STALE_S / 3)


def new_run_id() -> str:
    return f"{timezone.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def _valid_run_id(run_id: str) -> str:
    try:
        return validate_run_id(run_id)
    except RunIdError as exc:
        raise RunRequestError(str(exc)) from None


def run_create(
    *,
    domains: Sequence[str] | None,
    models: Sequence[str],
    concurrency: int = DEFAULT_CONCURRENCY,
    catalog_path: Path | str | None = None,
    run_id: str | None = None,
    reports_dir: Path | str | None = None,
    auditors: dict[str, Auditor] | None = None,
    catalog: Catalog | None = None,
    use_cache: bool = True,
    task_keys: Iterable[Sequence[str]] | None = None,
    batch: bool = False,
) -> Run:
    """A pending run that remembers everything a later ``--resume`` needs.

    ``batch``: its tasks go through the Message Batches API (``skillcheck.batch``).

    ``use_cache=False`` calls every task even when a stored result matches; ``task_keys``
    makes a run of exactly those (scenario, skill, model) tasks.

    A caller that has the catalog loaded already (the command, the web app's cached copy)
    passes it, so it is not read from disk a second time.
    """
    catalog = catalog or plan_catalog(path=catalog_path)
    task_keys = None if task_keys is None else [list(key) for key in task_keys]
    plan = run_plan(
        catalog=catalog,
        domains=domains,
        models=models,
        concurrency=concurrency,
        auditors=auditors,
        task_keys=task_keys,
        batch=batch,
    )
    run_id = _valid_run_id(run_id or new_run_id())
    if Run.objects.filter(run_id=run_id).exists():
        raise RunRequestError(f"run {run_id} exists already; resume it with --resume {run_id}")
    folder = Path(reports_dir) if reports_dir else default_reports_dir()
    return Run.objects.create(
        run_id=run_id,
        status=Run.Status.PENDING,
        models=plan.models,
        domains=plan.domains,
        concurrency=plan.concurrency,
        total=plan.total,
        catalog_path=str(catalog.root),
        catalog_fingerprint=catalog.fingerprint(),
        catalog_fingerprints=catalog.fingerprints(),
        report_path=str(incremental_report_path(run_id, folder.resolve())),
        use_cache=use_cache,
        task_keys=task_keys,
        batch=batch,
    )


# --- Execution ----------------------------------------------------------------------------


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
    if run.status == Run.Status.RUNNING and not run.is_stale:
        raise RunRequestError(f"run {run.run_id} is already running")
    try:
        catalog = catalog or selectors.catalog_load(path=run.catalog_path or None)
        registry = auditor_services.auditors_or_registry(auditors)
        plan_check_models(run.models, registry)
        tasks = build_tasks(catalog, domains=run.domains or None, models=run.models)
        tasks = plan_only(tasks, run.task_keys)
    except (CatalogError, RunRequestError, KeyError) as exc:  # UnknownDomains is a KeyError
        message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
        return _fail(run, str(message), listeners)

    failed = run.tasks.filter(errored=True)
    if run.errors_only:
        # Retry errors: only the failed tasks run again; missing ones stay for a resume.
        retry = set(failed.values_list("scenario_id", "skill", "model"))
        tasks = [t for t in tasks if t.key in retry]
    failed.delete()
    done = set(run.tasks.values_list("scenario_id", "skill", "model"))
    remaining = [t for t in tasks if t.key not in done]
    run.total = len(done | {t.key for t in tasks})
    run_recount(run=run)
    run.status = Run.Status.RUNNING
    run.error = ""
    run.started_at = run.started_at or timezone.now()
    run.finished_at = None
    run.heartbeat_at = timezone.now()
    run.owner_host, run.owner_pid = processes.this_host(), os.getpid()
    run.report_path = str(run_report_path(run))
    run.isolation = auditor_services.auditors_isolation(auditors=registry, models=run.models)
    # Not a full save: a cancel requested from another process meanwhile must survive.
    run.save(
        update_fields=[
            *("total", "completed", "failed", "input_tokens", "output_tokens", "cost_usd"),
            *("cache_write_tokens", "cache_read_tokens"),
            "cached",
            *("status", "error", "started_at", "finished_at", "heartbeat_at", "report_path"),
            "isolation",
            *("owner_host", "owner_pid"),
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


def run_cancel(*, run: Run) -> None:
    """Ask the process running ``run`` to stop (it polls about once a second).

    A run that nobody is executing (queued for a slot, or killed) is marked cancelled at
    once; a queued one is then skipped when its slot comes.
    """
    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    run.refresh_from_db()
    if run.status in (Run.Status.INTERRUPTED, Run.Status.QUEUED) or run.is_stale:
        Run.objects.filter(pk=run.pk).update(status=Run.Status.CANCELLED)
        run.refresh_from_db()
        if run.batch:
            run_batches_cancel(run=run)


def run_batches_cancel(*, run: Run, auditors: dict[str, Auditor] | None = None) -> int:
    """Cancel the open batches of a run nobody is executing (its process was killed).

    Their finished requests stay readable: a resume collects them and sends the rest again.
    """
    records = [BatchRecord.from_dict(b) for b in run.batches or []]
    open_records = [r for r in records if r.open and r.status != "cancelling"]
    if not open_records:
        return 0
    registry = auditor_services.auditors_or_registry(auditors)
    account = next(
        (getattr(registry[m], "account", None) for m in run.models if m in registry), None
    )
    if account is None:
        return 0
    client = account.client()
    for record in open_records:
        try:
            client.messages.batches.cancel(record.id)
            record.status = "cancelling"
        except Exception:
            logger.warning("run %s: cancelling batch %s failed", run.run_id, record.id)
    Run.objects.filter(pk=run.pk).update(batches=[r.to_dict() for r in records])
    run.refresh_from_db()
    return len(open_records)


def run_queue(*, run_id: str) -> None:
    """A run handed to this process waits for a free execution slot: ``queued``."""
    Run.objects.filter(run_id=run_id, status=Run.Status.PENDING).update(
        status=Run.Status.QUEUED, heartbeat_at=timezone.now()
    )


def run_queued_beat(*, run_id: str) -> bool:
    """Keep a queued run fresh while it waits; False once it is no longer queued (cancelled)."""
    return bool(
        Run.objects.filter(run_id=run_id, status=Run.Status.QUEUED).update(
            heartbeat_at=timezone.now()
        )
    )


def run_stop_unfinished(*, run_ids: Iterable[str], reason: str) -> int:
    """Mark runs this process was holding, but can no longer finish, ``cancelled`` at once.

    For a process shutting down: its queued runs, and any run whose engine did not stop in
    time. They can be resumed straight away (no heartbeat to wait for).
    """
    return Run.objects.filter(run_id__in=list(run_ids), status__in=Run.UNFINISHED).update(
        status=Run.Status.CANCELLED, error=reason, finished_at=timezone.now()
    )


def run_mark_stale_interrupted() -> int:
    """Unfinished runs that are not going on any more become ``interrupted`` (``is_stale``):
    those whose owner process on this host is gone, and those nothing touched for a while."""
    running_here = Run.objects.filter(
        status=Run.Status.RUNNING, owner_host=processes.this_host(), owner_pid__isnull=False
    ).values_list("pk", "owner_pid")
    dead = [pk for pk, pid in running_here if pid is not None and not processes.process_alive(pid)]
    orphaned = Run.objects.filter(pk__in=dead, status=Run.Status.RUNNING).update(
        status=Run.Status.INTERRUPTED
    )
    cutoff = timezone.now() - timedelta(seconds=settings.SKILLCHECK_HEARTBEAT_STALE_S)
    stale = Run.objects.filter(status__in=Run.UNFINISHED).alias(
        seen_alive_at=Coalesce("heartbeat_at", "started_at", "created_at")
    )
    return orphaned + stale.filter(seen_alive_at__lt=cutoff).update(status=Run.Status.INTERRUPTED)


def _fingerprint_warnings(run: Run, catalog: Catalog) -> list[str]:
    before = run.catalog_fingerprints or {}
    now = catalog.fingerprints()
    warnings = []
    for kind in ("skills", "scenarios"):
        old, new = before.get(kind, {}), now[kind]
        singular = kind[:-1]
        changed = sorted(k for k in old if k in new and old[k] != new[k])
        removed = sorted(k for k in old if k not in new)
        if changed:
            warnings.append(f"{singular}(s) changed since the run started: {', '.join(changed)}")
        if removed:
            warnings.append(f"{singular}(s) no longer in the catalog: {', '.join(removed)}")
    return warnings


def run_resume(*, run_id: str, auditors: dict[str, Auditor] | None = None) -> Run:
    """Make an interrupted, cancelled or failed run ready for ``run_execute`` again.

    The returned run carries ``resume_warnings``: skills or scenarios that changed since the
    run started (their finished tasks are kept as they are); and ``catalog_warnings``: what
    the catalog skipped when it loaded.
    """
    run_mark_stale_interrupted()
    run = Run.objects.filter(run_id=_valid_run_id(run_id)).first()
    if run is None:
        recent = ", ".join(Run.objects.values_list("run_id", flat=True)[:5]) or "none"
        raise RunRequestError(f"no run {run_id!r}; recent runs: {recent}")
    if run.status == Run.Status.RUNNING:
        if run.owner_host == processes.this_host() and run.owner_pid:
            raise RunRequestError(
                f"run {run_id} is still running (process {run.owner_pid} on this host); "
                f"cancel it first, or stop that process"
            )
        # On another host a killed process looks alive until its heartbeat goes stale.
        age = int((timezone.now() - run.last_sign_of_life).total_seconds())
        wait = max(settings.SKILLCHECK_HEARTBEAT_STALE_S - age, 1)
        where = f" on host {run.owner_host}" if run.owner_host else ""
        raise RunRequestError(
            f"run {run_id} is still running{where} (last heartbeat {age} s ago); if its "
            f"process was stopped, resume it in about {wait} s, when it counts as interrupted"
        )
    if run.status == Run.Status.PENDING:
        raise RunRequestError(f"run {run_id} is waiting for a worker to start it")
    if run.status == Run.Status.QUEUED:
        raise RunRequestError(f"run {run_id} is queued: it starts when an execution slot frees")
    catalog = plan_catalog(path=run.catalog_path or None)
    plan_check_models(run.models, auditor_services.auditors_or_registry(auditors))
    warnings = _fingerprint_warnings(run, catalog)
    for warning in warnings:
        logger.warning("run %s: %s", run_id, warning)
    _make_pending(run, errors_only=False)
    run.resume_warnings = warnings
    run.catalog_warnings = catalog.warnings
    return run


def _make_pending(run: Run, *, errors_only: bool) -> None:
    run.status = Run.Status.PENDING
    run.cancel_requested = False
    run.error = ""
    run.finished_at = None
    run.heartbeat_at = timezone.now()  # waiting for a worker counts from now
    run.errors_only = errors_only
    run.save(
        update_fields=[
            *("status", "cancel_requested", "error", "finished_at", "heartbeat_at"),
            "errors_only",
        ]
    )


def run_retry_errors(*, run_id: str, auditors: dict[str, Auditor] | None = None) -> Run:
    """Make a finished or stopped run ready to run only its failed tasks again, into itself.

    Tasks that never ran stay missing (``run_resume`` runs those). The returned run carries
    ``resume_warnings`` like a resumed one.
    """
    run = Run.objects.filter(run_id=run_id).first()
    if run is not None and not run.tasks.filter(errored=True).exists():
        raise RunRequestError(f"run {run_id} has no failed tasks to retry")
    run = run_resume(run_id=run_id, auditors=auditors)
    warnings = run.resume_warnings
    _make_pending(run, errors_only=True)
    run.resume_warnings = warnings
    return run


# --- Starting in a worker -----------------------------------------------------------------


def run_start(
    *,
    catalog: Catalog,
    domains: Sequence[str] | None,
    models: Sequence[str],
    concurrency: int = DEFAULT_CONCURRENCY,
    use_cache: bool = True,
    batch: bool = False,
) -> Run:
    """Create the run (the planner validates it) and hand it to a worker: the web's start."""
    run = run_create(
        domains=domains,
        models=models,
        concurrency=concurrency,
        catalog=catalog,
        use_cache=use_cache,
        batch=batch,
    )
    worker.run_dispatch(run.run_id)
    return run


def run_start_stale(*, catalog: Catalog, domain: str | None = None) -> Run:
    """Start a run of exactly the tasks whose shown result is stale: "re-run stale"."""
    keys = selectors.stale_tasks(catalog=catalog, domain=domain)
    if not keys:
        raise RunRequestError("no result is stale: every shown result matches the catalog")
    scenario_domain = {s.id: s.domain for s in catalog.scenarios}
    domains = sorted({scenario_domain[scenario_id] for scenario_id, _, _ in keys})
    run = run_create(
        domains=domains,
        models=sorted({model for _, _, model in keys}),
        catalog=catalog,
        task_keys=keys,
        concurrency=settings.SKILLCHECK_DEFAULT_CONCURRENCY,
    )
    worker.run_dispatch(run.run_id)
    return run


def run_retry_errors_start(*, run_id: str) -> Run:
    """Retry a run's failed tasks in a worker: the run page's "Retry errors" button."""
    run = run_retry_errors(run_id=run_id)
    worker.run_dispatch(run.run_id)
    return run


def run_restart(*, run_id: str) -> Run:
    """Resume a stopped run and hand it to a worker: the web's resume button."""
    run = run_resume(run_id=run_id)
    worker.run_dispatch(run.run_id)
    return run
