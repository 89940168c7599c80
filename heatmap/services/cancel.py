"""Cancel: ask the process executing a run to stop, or stop a run nobody executes."""

from __future__ import annotations

import logging

from heatmap.models import Run
from heatmap.services import auditors as auditor_services
from skillcheck.auditors import Auditor
from skillcheck.batch import BatchRecord

logger = logging.getLogger(__name__)


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
