"""Whether a run is still going on: queued runs beat, stopped ones are marked, stale ones found.

A run's row says which process holds it (host, pid) and when it last showed a sign of life.
The worker keeps a queued run fresh and hands back the runs it cannot finish; anyone (a page,
``run_scored``, a resume) marks the runs nothing is executing any more ``interrupted``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models.functions import Coalesce
from django.utils import timezone

from heatmap.models import Run
from skillcheck import processes


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
