"""Cancel a routing run: the process executing it stops after the answers in flight."""

from __future__ import annotations

from heatmap.models import RoutingRun


def routing_run_cancel(*, run: RoutingRun) -> None:
    RoutingRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    if run.status == RoutingRun.Status.PENDING:
        RoutingRun.objects.filter(pk=run.pk).update(status=RoutingRun.Status.CANCELLED)
    run.refresh_from_db()
