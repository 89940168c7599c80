"""Batch mode: a run's API tasks through the Message Batches API, at half the price.

Tasks go out in batches of ``batch_size`` requests. Each submitted batch becomes a record
(``BatchRecord``: its id and the task keys it carries) that ``on_batches`` must persist
before anything is awaited, so a killed process resumes by polling the same batches instead
of paying for them twice. A batch is polled every ``poll_s``; its request counts are the
run's progress; once it has ended its results are read and each task is recorded (database
and JSON, through the engine's ``on_results`` hook) at once. Errored and expired requests
become failed tasks, which a resume (or ``--retry-errors``) sends again; requests a cancel
stopped are left undone.

Cancelling sends a cancel for every open batch, collects what they answered within the grace
period, and leaves the rest of them on the run for a resume to collect.

A batch the API no longer knows (404: its results expired, or the run's API key changed)
fails the tasks it carried that are not done ("batch … not found at the API") and is closed,
so the run ends instead of failing every resume, and a resume or ``--retry-errors`` sends
those tasks again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import anthropic

from skillcheck.auditors.base import AuditResponse
from skillcheck.catalog.files import CatalogError
from skillcheck.results import TaskKey, task_key
from skillcheck.runs.engine import CallEngine, RunEngine, RunOutcome
from skillcheck.runs.tasks import Task, error_result
from skillcheck.scoring import score_response

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 1000
MAX_BATCH_SIZE = 100_000  # the API's limit on requests per batch
DEFAULT_POLL_S = 30.0


@dataclass
class BatchRecord:
    """One submitted batch as the run remembers it (a JSON-ready dict via ``to_dict``)."""

    id: str
    # Task keys (scenario id, skill, model, epoch; older records lack the epoch: 1);
    # custom_id = f"t{index}".
    tasks: list[list[Any]]
    status: str = "submitted"  # submitted | cancelling | collected | lost
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchRecord:
        return cls(
            id=str(data["id"]),
            tasks=[list(key) for key in data.get("tasks") or []],
            status=str(data.get("status") or "submitted"),
            counts=dict(data.get("counts") or {}),
        )

    @property
    def open(self) -> bool:
        return self.status not in ("collected", "lost")


def _custom_id(index: int) -> str:
    return f"t{index}"


def _seconds_between(start: Any, end: Any) -> float:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return max((end - start).total_seconds(), 0.0)
    return 0.0


class BatchCalls(CallEngine):
    """``CallEngine`` with the sending replaced: batches instead of one call per task.

    Every model of the run must be on the Anthropic API (an ``account`` whose client
    submits the batches). What a request is and what its answer means belong to the kind of
    task: ``_batch_params`` (the very request a direct call would send, prompt caching
    included), ``_batch_result`` (an item's result as the task's result) and ``_stored_key``
    (a task key as a batch record stores it, back). ``BatchEngine`` is the audit's,
    ``skillcheck.routing.engine.RoutingBatchEngine`` the routing check's.
    """

    def __init__(
        self,
        *args: Any,
        batches: list[dict[str, Any]] | None = None,
        on_batches: Any = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_s: float = DEFAULT_POLL_S,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.records = [BatchRecord.from_dict(b) for b in batches or []]
        self.on_batches = on_batches
        self.batch_size = max(1, min(int(batch_size), MAX_BATCH_SIZE))
        self.poll_s = poll_s
        self.submitted = 0  # batches this process created

    # --- what the kind of task says -------------------------------------------------------

    def _batch_params(self, task: Any, outcome: RunOutcome) -> dict[str, Any] | None:
        """The Messages request of ``task``; None when it cannot be built (then it is
        recorded as failed here)."""
        raise NotImplementedError

    def _batch_result(self, task: Any, result: Any, batch_id: str, duration_s: float) -> Any:
        """The task's result from a batch item's ``result`` (succeeded, errored, expired)."""
        raise NotImplementedError

    def _stored_key(self, values: list[Any]) -> Any:
        return tuple(values)

    # --- helpers ---------------------------------------------------------------------------

    def _save_records(self) -> None:
        if self.on_batches is not None:
            self.on_batches([r.to_dict() for r in self.records])

    def _client(self, model: str) -> Any:
        return self.auditors[model].account.client()

    def _any_client(self) -> Any:
        return self._client(next(iter(self._api_models())))

    def _api_models(self) -> list[str]:
        return [name for name, a in self.auditors.items() if hasattr(a, "account")]

    def _keys(self, record: BatchRecord) -> list[Any]:
        return [self._stored_key(values) for values in record.tasks]

    def prepare(self) -> None:
        super().prepare()
        not_api = sorted(
            {t.model for t in self.tasks}
            - {
                name
                for name in self._api_models()
                if self.auditors[name].availability().via == "api"
            }
        )
        if not_api:
            raise ValueError(f"batch mode needs models on the Anthropic API: {', '.join(not_api)}")

    # --- submitting -------------------------------------------------------------------------

    def _submit(self, tasks: list[Task], outcome: RunOutcome) -> None:
        """Submit ``tasks`` in batches; each batch's record is saved before the next step."""
        requests: list[dict[str, Any]] = []
        keys: list[list[Any]] = []
        for task in tasks:
            params = self._batch_params(task, outcome)
            if params is None:
                continue
            requests.append({"custom_id": _custom_id(len(keys)), "params": params})
            keys.append(list(task.key))
            if len(keys) == self.batch_size:
                self._create(requests, keys)
                requests, keys = [], []
        if keys:
            self._create(requests, keys)

    def _create(self, requests: list[dict[str, Any]], keys: list[list[Any]]) -> None:
        batch = self._any_client().messages.batches.create(requests=requests)
        self.records.append(BatchRecord(batch.id, keys, counts=self._counts(batch)))
        self.submitted += 1
        self._save_records()  # before any wait: a kill from here on resubmits nothing
        self.emit(
            {
                "type": "batch",
                "run_id": self.run_id,
                "batch_id": batch.id,
                "status": "submitted",
                "requests": len(keys),
            }
        )

    # --- collecting -------------------------------------------------------------------------

    @staticmethod
    def _counts(batch: Any) -> dict[str, int]:
        counts = getattr(batch, "request_counts", None)
        if counts is None:
            return {}
        return {
            name: int(getattr(counts, name, 0) or 0)
            for name in ("processing", "succeeded", "errored", "canceled", "expired")
        }

    def _collect(self, record: BatchRecord, batch: Any, outcome: RunOutcome) -> None:
        """Record every result of an ended batch (canceled requests stay undone)."""
        by_id = {_custom_id(i): key for i, key in enumerate(self._keys(record))}
        tasks = {t.key: t for t in self.tasks}
        duration = _seconds_between(getattr(batch, "created_at", None), batch.ended_at)
        try:
            items = list(self._any_client().messages.batches.results(record.id))
        except anthropic.NotFoundError:
            self._lost(record, outcome)
            return
        for item in items:
            key = by_id.get(item.custom_id)
            task = tasks.get(key) if key else None
            if task is None:
                continue
            result = item.result
            if result.type == "canceled":
                continue
            self._record(task, self._batch_result(task, result, record.id, duration), outcome)
        record.status = "collected"
        self._save_records()

    def _lost(self, record: BatchRecord, outcome: RunOutcome) -> None:
        """The API no longer knows this batch: its tasks not yet done fail, so that a resume
        or ``--retry-errors`` sends them again, and the record is closed."""
        error = (
            f"batch {record.id} not found at the API (its results expired, or the API key "
            "changed); resume or retry errors to send the task again"
        )
        logger.warning("run %s: batch %s not found at the API", self.run_id, record.id)
        tasks, carried = {t.key: t for t in self.tasks}, self._keys(record)
        for key in carried:
            task = tasks.get(key)
            if task is not None and key not in self._done:
                self._record(task, self._failure(task, error, 0.0), outcome)
        record.status = "lost"
        self._save_records()

    def _poll(self, outcome: RunOutcome) -> None:
        client = self._any_client()
        for record in [r for r in self.records if r.open]:
            try:
                batch = client.messages.batches.retrieve(record.id)
            except anthropic.NotFoundError:
                self._lost(record, outcome)
                continue
            counts = self._counts(batch)
            if counts != record.counts:
                record.counts = counts
                self._save_records()
                self.emit(
                    {
                        "type": "batch",
                        "run_id": self.run_id,
                        "batch_id": record.id,
                        "status": batch.processing_status,
                        "counts": counts,
                        "completed": self.completed,
                        "failed": self.failed,
                        "total": self.total,
                    }
                )
            if batch.processing_status == "ended":
                self._collect(record, batch, outcome)

    def _cancel_open(self) -> None:
        client = self._any_client()
        for record in self.records:
            if record.open and record.status != "cancelling":
                try:
                    client.messages.batches.cancel(record.id)
                except Exception:
                    logger.warning("run %s: cancelling batch %s failed", self.run_id, record.id)
                record.status = "cancelling"
        self._save_records()

    # --- the loop ---------------------------------------------------------------------------

    def _record(self, task: Task, result: Any, outcome: RunOutcome) -> None:
        self._done.add(task.key)
        super()._record(task, result, outcome)

    def _loop(self, outcome: RunOutcome) -> None:
        """Submit what no open batch carries, poll until every batch is collected.

        Requests a cancel stopped in a batch of an earlier process are sent again (once);
        those of this process's own batches are left for a resume.
        """
        self._done: set[Any] = set()
        sent_here: set[Any] = set()
        cancel_deadline: float | None = None
        while True:
            if cancel_deadline is None and self._cancelled():
                outcome.status = "cancelled"
                self._cancel_open()
                cancel_deadline = time.monotonic() + self.cancel_grace_s
            if cancel_deadline is None:
                covered = {k for r in self.records if r.open for k in self._keys(r)}
                fresh = [
                    t
                    for t in self.tasks
                    if t.key not in covered and t.key not in self._done and t.key not in sent_here
                ]
                if fresh:
                    sent_here.update(t.key for t in fresh)
                    self._submit(fresh, outcome)
            if not any(r.open for r in self.records):
                if cancel_deadline is None and any(
                    t.key not in self._done and t.key not in sent_here for t in self.tasks
                ):
                    continue
                break
            self._poll(outcome)
            if not any(r.open for r in self.records):
                continue
            if cancel_deadline is not None and (
                self.abort_event.is_set() or time.monotonic() > cancel_deadline
            ):
                break
            if self.on_tick is not None:
                self.on_tick()
            self._wait()

    def _wait(self) -> None:
        """Sleep until the next poll, waking early for a cancel (and ticking meanwhile)."""
        deadline = time.monotonic() + self.poll_s
        while (left := deadline - time.monotonic()) > 0:
            if self.cancel_event.wait(min(left, 1.0)) or self._cancelled():
                return
            if self.on_tick is not None:
                self.on_tick()


def batch_error(result: Any, model: str, batch_id: str) -> str:
    """What went wrong with a batch item that did not succeed."""
    detail = ""
    inner = getattr(getattr(result, "error", None), "error", None)
    if inner is not None:
        detail = f": {getattr(inner, 'type', '')} {getattr(inner, 'message', '')}"
    return f"{model} via batch {batch_id}: request {result.type}{detail}"


class BatchEngine(BatchCalls, RunEngine):
    """The audit through Message Batches: each request is the auditor's ``message_params``
    of the task's prompt, each answer scored as a direct call's would be."""

    def _batch_params(self, task: Task, outcome: RunOutcome) -> dict[str, Any] | None:
        prompts = self.prompt_book()
        try:
            request = prompts.request(task.scenario, task.skill, task.model)
        except CatalogError as exc:
            error = f"cannot read skill {task.skill.name}: {exc}"
            self._record(task, error_result(task, error, 0.0, self.taxonomy), outcome)
            return None
        params: dict[str, Any] = self.auditors[task.model].message_params(request)
        return params

    def _batch_result(self, task: Task, result: Any, batch_id: str, duration_s: float) -> Any:
        from skillcheck.auditors.anthropic_api import read_message

        if result.type == "succeeded":
            model_id = self.auditors[task.model].model_id
            response = read_message(result.message, model_id, batch=True)
            response.duration_s = duration_s
        else:
            error = batch_error(result, task.model, batch_id)
            response = AuditResponse(error=error, duration_s=duration_s)
        scored = score_response(
            response, task.scenario, task.skill, self.taxonomy, model=task.model
        )
        scored.batch = True
        scored.epoch = task.epoch
        return scored

    def _stored_key(self, values: list[Any]) -> TaskKey:
        return task_key(values)
