"""Resume a routing run: make a stopped one (interrupted, cancelled, failed) ready to execute.

Its answered samples are kept; the execution asks the missing ones and those that errored.
A run whose catalog's descriptions changed since it started is refused: its picks answer
another catalog.
"""

from __future__ import annotations

from django.utils import timezone

from heatmap.models import RoutingRun, RunStatus
from heatmap.services import dispatch
from heatmap.services.liveness import run_mark_stale_interrupted, run_refuse_unfinished
from heatmap.services.plans import RunRequestError
from heatmap.services.routing_execution import check_catalog
from heatmap.services.routing_routers import routing_routers
from heatmap.services.routing_start import routers_check_available


def routing_run_resume(*, run_id: str) -> RoutingRun:
    """Back to ``pending`` for the dispatcher or ``run_routing --resume`` to execute."""
    run_mark_stale_interrupted(kind=dispatch.ROUTING)
    run = RoutingRun.objects.select_related("catalog").filter(run_id=run_id).first()
    if run is None:
        raise RunRequestError(f"no routing run {run_id!r}")
    run_refuse_unfinished(run=run)
    picks = run.cases.values_list("picks", flat=True)
    if run.status == RunStatus.COMPLETED and not any(None in (p or []) for p in picks):
        raise RunRequestError(f"routing run {run_id} is complete: nothing to resume")
    descriptions = check_catalog(run)
    routers_check_available(routing_routers(models=run.models, descriptions=descriptions))
    RoutingRun.objects.filter(pk=run.pk).update(
        status=RunStatus.PENDING,
        cancel_requested=False,
        error="",
        finished_at=None,
        heartbeat_at=timezone.now(),
    )
    run.refresh_from_db()
    return run


def routing_run_resume_start(*, run_id: str) -> RoutingRun:
    """Resume a routing run and hand it to the run dispatcher: the web's Resume."""
    run = routing_run_resume(run_id=run_id)
    dispatch.routing_dispatch(run_id=run.run_id)
    return run
