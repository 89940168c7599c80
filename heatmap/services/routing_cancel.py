"""Cancel a routing run: the process executing it stops after the answers in flight.

A run that nobody is executing (pending, queued for a slot, or killed) is marked cancelled
at once, as an audit run is (``services.cancel``).
"""

from __future__ import annotations

from heatmap.models import RoutingRun, RunStatus

NOBODY_EXECUTES = (RunStatus.PENDING, RunStatus.QUEUED, RunStatus.INTERRUPTED)


def routing_run_cancel(*, run: RoutingRun) -> None:
    RoutingRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    run.refresh_from_db()
    if run.status in NOBODY_EXECUTES or run.is_stale:
        RoutingRun.objects.filter(pk=run.pk).update(status=RunStatus.CANCELLED)
        run.refresh_from_db()
