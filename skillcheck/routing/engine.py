"""Routing calls on the run engine: one task is one sample of a case row, asked of its router.

``RoutingEngine`` is ``skillcheck.runs.CallEngine`` (the audits' worker threads, cancel with a
grace period, abort, per-task timeout, heartbeat ticks, answers saved before their events go
out) with a router's ``route`` as the call. ``RoutingBatchEngine`` sends the same requests
through Message Batches with the audits' batch loop (``skillcheck.batch.BatchCalls``): its
records are saved before any wait, so a killed run resumes by polling the same batches.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from skillcheck.auditors.retry import CallFailed
from skillcheck.batch import BatchCalls, batch_error
from skillcheck.routing.routers import RouteAnswer, Router, read_pick
from skillcheck.runs.engine import CallEngine, Event, RunOutcome

logger = logging.getLogger(__name__)

RouteKey = tuple[str, str, int]  # (case id, model, sample)


@dataclass(frozen=True)
class RouteTask:
    """One call: the ``sample``-th answer of the case row ``row`` (its index in the report).

    A deterministic router's one call stands for every sample the row lacks (``copies``).
    """

    row: int
    case_id: str
    model: str
    prompt: str
    sample: int
    copies: int = 1

    @property
    def key(self) -> RouteKey:
        return (self.case_id, self.model, self.sample)


@dataclass
class RoutedSample:
    """A task's answer as the engine records it."""

    task: RouteTask
    answer: RouteAnswer
    finished_at: str = ""

    @property
    def error(self) -> str | None:
        return self.answer.error

    @property
    def duration_s(self) -> float:
        return self.answer.duration_s


class RoutingEngine(CallEngine):
    """Asks each task's router; ``auditors`` are the routers by model name."""

    auditors: dict[str, Router]

    def _work(self, task: RouteTask) -> RoutedSample:
        started = time.monotonic()
        try:
            answer = self.auditors[task.model].route(task.prompt)
        except Exception as exc:  # a router bug must not stop the run
            logger.warning("routing run %s: %s raised", self.run_id, task.key, exc_info=True)
            answer = RouteAnswer(
                None, error=f"{type(exc).__name__}: {exc}", duration_s=time.monotonic() - started
            )
        return RoutedSample(task, answer)

    def _failure(self, task: RouteTask, error: str, duration_s: float) -> RoutedSample:
        return RoutedSample(task, RouteAnswer(None, error=error, duration_s=duration_s))

    def _progress(self, task: RouteTask, status: str, result: Any = None) -> Event:
        return {
            "type": "progress",
            "run_id": self.run_id,
            "case_id": task.case_id,
            "model": task.model,
            "sample": task.sample,
            "status": status,
            "pick": result.answer.pick if result else None,
            "error": result.error if result else None,
            "completed": self.completed,
            "failed": self.failed,
            "total": self.total,
        }


class RoutingBatchEngine(BatchCalls, RoutingEngine):
    """Routing through Message Batches: each request is the router's own ``params`` (the
    forced ``select_skill`` call, the cached catalog block), priced at the batch rate."""

    def _batch_params(self, task: RouteTask, outcome: RunOutcome) -> dict[str, Any] | None:
        params: dict[str, Any] = self.auditors[task.model].params(task.prompt)  # type: ignore[attr-defined]
        return params

    def _batch_result(
        self, task: RouteTask, result: Any, batch_id: str, duration_s: float
    ) -> RoutedSample:
        router: Any = self.auditors[task.model]
        if result.type != "succeeded":
            error = batch_error(result, task.model, batch_id)
            return self._failure(task, error, duration_s)
        try:
            pick = read_pick(result.message, router.names)
        except CallFailed as exc:
            error = f"{task.model} via batch {batch_id}: {exc.summary}"
            return self._failure(task, error, duration_s)
        return RoutedSample(task, router.answer(pick, result.message, duration_s, batch=True))

    def _stored_key(self, values: list[Any]) -> RouteKey:
        case_id, model, sample = values
        return (str(case_id), str(model), int(sample))
