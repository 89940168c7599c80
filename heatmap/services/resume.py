"""Resume: make a stopped run (interrupted, cancelled, failed) ready to execute again.

Finished tasks are kept; ``run_execute`` runs the missing and failed ones into the same run.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from heatmap.models import Run
from heatmap.services import auditors as auditor_services
from heatmap.services import dispatch
from heatmap.services.liveness import run_mark_stale_interrupted, run_refuse_unfinished
from heatmap.services.plans import RunRequestError, plan_catalog, plan_check_models
from heatmap.services.snapshots import skill_snapshots_save
from heatmap.services.start import valid_run_id
from skillcheck.auditors import Auditor
from skillcheck.catalog import Catalog

logger = logging.getLogger(__name__)


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
    run = Run.objects.filter(run_id=valid_run_id(run_id)).first()
    if run is None:
        recent = ", ".join(Run.objects.values_list("run_id", flat=True)[:5]) or "none"
        raise RunRequestError(f"no run {run_id!r}; recent runs: {recent}")
    run_refuse_unfinished(run=run)
    catalog = plan_catalog(path=run.catalog_path or None)
    plan_check_models(run.models, auditor_services.auditors_or_registry(auditors))
    warnings = _fingerprint_warnings(run, catalog)
    skill_snapshots_save(catalog=catalog)  # a skill edited since: its new text, for compare
    for warning in warnings:
        logger.warning("run %s: %s", run_id, warning)
    run_make_pending(run=run, errors_only=False, was=run.status)
    run.resume_warnings = warnings
    run.catalog_warnings = catalog.warnings
    return run


def run_make_pending(*, run: Run, errors_only: bool, was: str) -> None:
    """Back to ``pending`` for a worker or ``run_scored`` to execute; ``errors_only``: a
    retry of the failed tasks only (``retry``).

    One conditional UPDATE: only if the run is still ``was``, so of two resumes at once only
    one goes on; the other is refused, and calls nothing.
    """
    changes = {
        "status": Run.Status.PENDING,
        "cancel_requested": False,
        "error": "",
        "finished_at": None,
        "heartbeat_at": timezone.now(),  # waiting for a worker counts from now
        "errors_only": errors_only,
    }
    if not Run.objects.filter(pk=run.pk, status=was).update(**changes):
        raise RunRequestError(
            f"run {run.run_id} was already resumed by another process just now; "
            "only one process executes a run at a time"
        )
    for name, value in changes.items():
        setattr(run, name, value)


def run_restart(*, run_id: str) -> Run:
    """Resume a stopped run and hand it to a worker: the web's resume button."""
    run = run_resume(run_id=run_id)
    dispatch.run_dispatch(run_id=run.run_id)
    return run
