"""Retry errors: run only a run's failed tasks again, into the same run."""

from __future__ import annotations

from heatmap.models import Run
from heatmap.services import dispatch
from heatmap.services.plans import RunRequestError
from heatmap.services.resume import run_make_pending, run_resume
from skillcheck.auditors import Auditor


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
    run_make_pending(run=run, errors_only=True, was=Run.Status.PENDING)
    run.resume_warnings = warnings
    return run


def run_retry_errors_start(*, run_id: str) -> Run:
    """Retry a run's failed tasks in a worker: the run page's "Retry errors" button."""
    run = run_retry_errors(run_id=run_id)
    dispatch.run_dispatch(run_id=run.run_id)
    return run
