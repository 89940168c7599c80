"""The run actions ``heatmap.views`` and ``heatmap.api`` call, under their former module's name.

Each action has a module of its own now (``start``, ``resume``, ``retry``, ``cancel``,
``rerun_stale``); this face goes once those two modules import them from there.
"""

from heatmap.services.cancel import run_cancel
from heatmap.services.rerun_stale import run_start_stale
from heatmap.services.resume import run_restart
from heatmap.services.retry import run_retry_errors_start

__all__ = ["run_cancel", "run_restart", "run_retry_errors_start", "run_start_stale"]
