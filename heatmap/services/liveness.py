"""Whether a run is still going on: queued runs beat, stopped ones are marked, stale ones found.

A run's row says which process holds it (host, pid) and when it last showed a sign of life.
The worker keeps a queued run fresh and hands back the runs it cannot finish; anyone (a page,
``run_scored``, a resume) marks the runs nothing is executing any more ``interrupted``. Audit
runs and routing runs live by the same rules; ``kind`` (``dispatch.AUDIT`` or
``dispatch.ROUTING``) says which table a run id is in.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models.functions import Coalesce
from django.utils import timezone

from heatmap.models import UNFINISHED, RoutingRun, Run, RunStatus
from heatmap.services.dispatch import AUDIT, ROUTING
from heatmap.services.plans import RunRequestError
from skillcheck import processes

LiveModel = type[Run] | type[RoutingRun]
RUN_MODELS: dict[str, LiveModel] = {AUDIT: Run, ROUTING: RoutingRun}


def run_queue(*, run_id: str, kind: str = AUDIT) -> None:
    """A run handed to this process waits for a free execution slot: ``queued``."""
    RUN_MODELS[kind].objects.filter(run_id=run_id, status=RunStatus.PENDING).update(
        status=RunStatus.QUEUED, heartbeat_at=timezone.now()
    )


def run_queued_beat(*, run_id: str, kind: str = AUDIT) -> bool:
    """Keep a queued run fresh while it waits; False once it is no longer queued (cancelled)."""
    return bool(
        RUN_MODELS[kind]
        .objects.filter(run_id=run_id, status=RunStatus.QUEUED)
        .update(heartbeat_at=timezone.now())
    )


def run_beat(*, run_id: str, kind: str = AUDIT) -> None:
    """A running run shows a sign of life (its executing process calls this every few s)."""
    RUN_MODELS[kind].objects.filter(run_id=run_id).update(heartbeat_at=timezone.now())


def run_stop_unfinished(*, run_ids: Iterable[str], reason: str, kind: str = AUDIT) -> int:
    """Mark runs this process was holding, but can no longer finish, ``cancelled`` at once.

    For a process shutting down: its queued runs, and any run whose engine did not stop in
    time. They can be resumed straight away (no heartbeat to wait for).
    """
    runs = RUN_MODELS[kind].objects.filter(run_id__in=list(run_ids), status__in=UNFINISHED)
    return runs.update(status=RunStatus.CANCELLED, error=reason, finished_at=timezone.now())


def run_mark_stale_interrupted(*, kind: str = AUDIT) -> int:
    """Unfinished runs that are not going on any more become ``interrupted`` (``is_stale``):
    those whose owner process on this host is gone, and those nothing touched for a while."""
    model = RUN_MODELS[kind]
    running_here = model.objects.filter(
        status=RunStatus.RUNNING, owner_host=processes.this_host(), owner_pid__isnull=False
    ).values_list("pk", "owner_pid")
    dead = [pk for pk, pid in running_here if pid is not None and not processes.process_alive(pid)]
    orphaned = model.objects.filter(pk__in=dead, status=RunStatus.RUNNING).update(
        status=RunStatus.INTERRUPTED
    )
    cutoff = timezone.now() - timedelta(seconds=settings.SKILLCHECK_HEARTBEAT_STALE_S)
    stale = model.objects.filter(status__in=UNFINISHED).alias(
        seen_alive_at=Coalesce("heartbeat_at", "started_at", "created_at")
    )
    return orphaned + stale.filter(seen_alive_at__lt=cutoff).update(status=RunStatus.INTERRUPTED)


def run_claim(*, run: Run | RoutingRun) -> None:
    """Make this process the one executing ``run``, or refuse with ``RunRequestError``.

    One conditional UPDATE: the run becomes ``running`` under this process only if its
    status and owner are still the ones just read. Of two processes resuming the same run at
    once, on SQLite as on PostgreSQL, exactly one changes the row; the other is refused here,
    before it deletes, counts or calls anything.
    """
    if run.status == RunStatus.RUNNING and not run.is_stale:
        raise RunRequestError(_taken(run))
    claimed = (
        type(run)
        ._default_manager.filter(
            pk=run.pk, status=run.status, owner_host=run.owner_host, owner_pid=run.owner_pid
        )
        .update(
            status=RunStatus.RUNNING,
            owner_host=processes.this_host(),
            owner_pid=os.getpid(),
            heartbeat_at=timezone.now(),
        )
    )
    run.refresh_from_db()
    if not claimed:
        raise RunRequestError(_taken(run))


def _taken(run: Run | RoutingRun) -> str:
    who = f" by process {run.owner_pid} on {run.owner_host}" if run.owner_pid else ""
    return (
        f"run {run.run_id} is already running{who}; "
        "only one process executes a run at a time (this one made no calls)"
    )


def run_refuse_unfinished(*, run: Run | RoutingRun) -> None:
    """``RunRequestError`` when ``run`` cannot be resumed because it has not stopped: still
    running (on this host, its process is alive; on another, its heartbeat is fresh),
    waiting for a worker, or queued. Call ``run_mark_stale_interrupted`` first."""
    run_id = run.run_id
    if run.status == RunStatus.RUNNING:
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
    if run.status == RunStatus.PENDING:
        raise RunRequestError(f"run {run_id} is waiting for a worker to start it")
    if run.status == RunStatus.QUEUED:
        raise RunRequestError(f"run {run_id} is queued: it starts when an execution slot frees")
