"""Handing a created run to whatever executes runs in this deployment.

The services do not know the worker: it sits above them and calls them (``run_execute``), so
a service importing it would close a circle. The executor is a setting instead,
``SKILLCHECK_RUN_DISPATCHER``: the dotted path of a function taking a run id, as Django names
its email or cache backends. The default, ``heatmap.worker.run_dispatch``, runs the run in a
thread of this process on the in-memory channel layer, and sends it to the ``run-worker``
channel (``manage.py runworker``) on a real one (Redis). A routing run goes the same way,
with ``kind=ROUTING`` (an audit run's call names no kind).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

AUDIT = "audit"
ROUTING = "routing"


def run_dispatch(*, run_id: str) -> None:
    """Hand the run to the configured executor; it returns once the run is handed over."""
    import_string(settings.SKILLCHECK_RUN_DISPATCHER)(run_id)


def routing_dispatch(*, run_id: str) -> None:
    """Hand a created (or resumed) routing run to the same executor."""
    import_string(settings.SKILLCHECK_RUN_DISPATCHER)(run_id, kind=ROUTING)
