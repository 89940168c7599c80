"""Runs: scenarios × skills × models. ``tasks`` says what a run does, ``engine`` does it (the
one engine, for the command line and the web), ``estimates`` says beforehand what it would
cost. This face names what callers use.
"""

from skillcheck.runs.engine import (
    DEFAULT_CONCURRENCY,
    MAX_CONCURRENCY,
    MIN_CONCURRENCY,
    CallEngine,
    Event,
    Listener,
    RunEngine,
    RunOutcome,
    execute_tasks,
)
from skillcheck.runs.estimates import (
    EXPECTED_OUTPUT_TOKENS,
    CostEstimate,
    cached_tasks,
    estimate_cost,
    estimate_costs,
)
from skillcheck.runs.tasks import Task, build_tasks, check_epochs, error_result, model_epochs

__all__ = [
    "DEFAULT_CONCURRENCY",
    "EXPECTED_OUTPUT_TOKENS",
    "MAX_CONCURRENCY",
    "MIN_CONCURRENCY",
    "CallEngine",
    "CostEstimate",
    "Event",
    "Listener",
    "RunEngine",
    "RunOutcome",
    "Task",
    "build_tasks",
    "cached_tasks",
    "check_epochs",
    "error_result",
    "estimate_cost",
    "estimate_costs",
    "execute_tasks",
    "model_epochs",
]
