"""The one run engine: calls with bounded concurrency (``CallEngine``), and the audit of
scenarios × skills × models on it (``RunEngine``); the routing check runs on it too
(``skillcheck.routing.engine``).

Framework-free. The ``run_scored`` command and the web app both drive it through
``heatmap.services.execution.run_execute``; persistence comes in through the ``on_result`` hook (or
``on_results``, which saves the answers that arrived together in one go), which runs on the
coordinating thread (the caller's) before that task's progress event goes out, so one thread
writes and listeners only ever hear about results that are already saved.

Counters in events: ``completed`` is every finished task (ok or error), ``failed`` the ones
that ended with an error, ``total`` the whole run's size (a resumed run counts what it already
had).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from skillcheck.auditors.base import Auditor
from skillcheck.cache import ResultCache, reused
from skillcheck.catalog.model import Taxonomy
from skillcheck.fingerprints import Fingerprint, Fingerprinter, model_ids
from skillcheck.results import ScoredRun, utc_now_iso
from skillcheck.runs.tasks import Task, error_result
from skillcheck.scoring import PromptBook, score_task

logger = logging.getLogger(__name__)

MIN_CONCURRENCY = 1
MAX_CONCURRENCY = 64
DEFAULT_CONCURRENCY = 3
POLL_S = 0.2
# After the first answer of a pass, the coordinating thread waits this long for more, and
# saves what came together in one transaction: woken once per answer, it contended with the
# workers for the GIL on every wake (twice the context switches, 0.4 ms of CPU per task).
GROUP_WINDOW_S = 0.02

Event = dict[str, Any]
Listener = Callable[[Event], None]


@dataclass
class RunOutcome:
    status: str  # completed | cancelled | failed
    results: list[ScoredRun] = field(default_factory=list)
    completed: int = 0
    failed: int = 0
    error: str | None = None
    # Tasks launched but neither finished nor recorded (abandoned on abort); resume redoes them.
    abandoned: int = 0
    # Tasks not sent because the cache held a matching successful result (counted as done).
    cached: int = 0


@dataclass
class _InFlight:
    task: Any
    started: float


class CallEngine:
    """Runs tasks on worker threads, at most ``concurrency`` at once, and reports events.

    What a task is and what answering it means belong to a subclass: ``RunEngine`` audits
    (scenario × skill × model × epoch), ``skillcheck.routing.engine.RoutingEngine`` asks a
    router for a pick. A task needs a hashable ``key`` and a ``model`` naming its entry of
    ``auditors`` (whatever answers it); a result an ``error`` (empty when it succeeded) and
    ``finished_at``. Subclasses give ``_work`` (one call, never raising), ``_failure`` (the
    result of a task that timed out) and ``_progress`` (a task's event).

    Workers only call ``_work``; everything else (hooks, listeners) happens on the thread
    that calls ``run()``. Cancelling stops launching; in-flight tasks get ``cancel_grace_s``
    to finish (their results are kept), then are abandoned and left for a resume. ``abort()``
    abandons them at once.
    """

    def __init__(
        self,
        tasks: Sequence[Any],
        auditors: dict[str, Any],
        *,
        run_id: str,
        concurrency: int = DEFAULT_CONCURRENCY,
        listeners: Iterable[Listener] = (),
        cancel_event: threading.Event | None = None,
        abort_event: threading.Event | None = None,
        should_cancel: Callable[[], bool] | None = None,
        on_result: Callable[[Any], None] | None = None,
        on_results: Callable[[list[Any]], None] | None = None,
        on_tick: Callable[[], None] | None = None,
        on_finish: Callable[[RunOutcome], str | None] | None = None,
        task_timeout_s: float | None = None,
        cancel_grace_s: float = 30.0,
        total: int | None = None,
        initial_completed: int = 0,
        initial_failed: int = 0,
    ) -> None:
        if not MIN_CONCURRENCY <= concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be between {MIN_CONCURRENCY} and {MAX_CONCURRENCY}")
        missing = sorted({t.model for t in tasks} - set(auditors))
        if missing:
            raise ValueError(f"no auditor for model(s): {', '.join(missing)}")
        self.tasks = list(tasks)
        self.auditors = auditors
        self.run_id = run_id
        self.concurrency = concurrency
        self.listeners = list(listeners)
        self.cancel_event = cancel_event or threading.Event()
        self.abort_event = abort_event or threading.Event()
        self.should_cancel = should_cancel
        self.on_result = on_result
        self.on_results = on_results
        self.on_tick = on_tick
        self.on_finish = on_finish
        self.task_timeout_s = task_timeout_s
        self.cancel_grace_s = cancel_grace_s
        self.total = len(self.tasks) + initial_completed if total is None else total
        self.completed = initial_completed
        self.failed = initial_failed
        # Shared with the workers, under ``_lock``: the tasks not started yet (popped from
        # the end), those started and not recorded, and those started but not yet announced.
        self._lock = threading.Lock()
        self._pending: list[Any] = []
        self._in_flight: dict[Any, _InFlight] = {}
        self._started: list[Any] = []
        self._finished: queue.SimpleQueue = queue.SimpleQueue()

    # --- control, from any thread ----------------------------------------------------------

    def cancel(self) -> None:
        self.cancel_event.set()

    def abort(self) -> None:
        """Cancel and stop waiting for in-flight tasks (a second Ctrl-C)."""
        self.cancel_event.set()
        self.abort_event.set()

    # --- the run -------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("run %s: a listener failed on %s", self.run_id, event["type"])

    def _cancelled(self) -> bool:
        if self.cancel_event.is_set() or self.abort_event.is_set():
            return True
        if self.should_cancel is not None and self.should_cancel():
            self.cancel_event.set()
            return True
        return False

    def _work(self, task: Any) -> Any:
        """One task's call, on a worker thread; a failure is a result, never an exception."""
        raise NotImplementedError

    def _failure(self, task: Any, error: str, duration_s: float) -> Any:
        """The result of a task that timed out (or could not be sent)."""
        raise NotImplementedError

    def _progress(self, task: Any, status: str, result: Any = None) -> Event:
        raise NotImplementedError

    def _stamp(self, task: Any, result: Any) -> None:
        """Before a result is saved: when it finished."""
        result.finished_at = result.finished_at or utc_now_iso()

    def _record(self, task: Any, result: Any, outcome: RunOutcome) -> None:
        self._record_all([(task, result)], outcome)

    def _record_all(self, finished: list[tuple[Any, Any]], outcome: RunOutcome) -> None:
        """Save finished tasks (``on_results`` once for all, else ``on_result`` each), then
        count them and send their events: a listener hears only of saved results."""
        if not finished:
            return
        for task, result in finished:
            self._stamp(task, result)
        if self.on_results is not None:
            self.on_results([result for _, result in finished])
        elif self.on_result is not None:
            for _, result in finished:
                self.on_result(result)
        for task, result in finished:
            outcome.results.append(result)
            self.completed += 1
            if result.error:
                self.failed += 1
            self.emit(self._progress(task, "error" if result.error else "ok", result))

    def prepare(self) -> None:
        """Fixed costs before the first worker starts: each auditor's
        ``prepare(concurrency=...)`` if it has one (the API auditor imports the SDK and
        creates its client there, instead of in a worker while the others wait)."""
        for name in dict.fromkeys(t.model for t in self.tasks):
            prepare = getattr(self.auditors[name], "prepare", None)
            if prepare is not None:
                prepare(concurrency=self.concurrency)

    def run(self) -> RunOutcome:
        outcome = RunOutcome(status="completed")
        self.emit({"type": "started", "run_id": self.run_id, "total": self.total})
        try:
            self._reuse_cached(outcome)
            self.prepare()
            self._loop(outcome)
        except Exception as exc:
            logger.exception("run %s failed", self.run_id)
            outcome.status = "failed"
            outcome.error = f"{type(exc).__name__}: {exc}"
        finally:
            self._stop_workers()
        outcome.completed, outcome.failed = self.completed, self.failed
        report = None
        if self.on_finish is not None:
            try:
                report = self.on_finish(outcome)
            except Exception as exc:
                logger.exception("run %s: finishing failed", self.run_id)
                outcome.status = "failed"
                outcome.error = outcome.error or f"{type(exc).__name__}: {exc}"
        if outcome.status == "failed":
            self.emit({"type": "error", "run_id": self.run_id, "error": outcome.error})
        else:
            self.emit(
                {
                    "type": "completed",
                    "run_id": self.run_id,
                    "total_results": self.completed,
                    "report": report,
                    "status": outcome.status,
                }
            )
        return outcome

    def _reuse_cached(self, outcome: RunOutcome) -> None:
        """Record the tasks a cache can answer before any is sent (``RunEngine`` does)."""

    def _serve(self) -> None:
        """A worker: take the next task, audit it, hand the answer over, until none is left.

        Workers take their next task themselves, the moment they are free: a slot does not
        wait for the coordinating thread (busy saving answers, or waiting for the GIL) to
        refill it. A cancel empties ``_pending``, so the workers stop taking tasks.
        """
        while True:
            with self._lock:
                if not self._pending or self.cancel_event.is_set():
                    return
                task = self._pending.pop()
                self._in_flight[task.key] = _InFlight(task, time.monotonic())
                self._started.append(task)
            self._finished.put((task, self._work(task)))

    def _start_workers(self, count: int) -> None:
        for _ in range(count):
            threading.Thread(target=self._serve, daemon=True, name=f"run-{self.run_id}").start()

    def _stop_workers(self) -> None:
        """Workers take no more tasks (each leaves after the one it is on)."""
        with self._lock:
            self._pending.clear()

    def _announce_started(self) -> None:
        """The ``running`` events of the tasks workers took since the last pass."""
        with self._lock:
            started, self._started = self._started, []
        for task in started:
            self.emit(self._progress(task, "running"))

    def _loop(self, outcome: RunOutcome) -> None:
        if not self.tasks:
            return
        if self._cancelled():  # cancelled before it started: nothing is sent
            outcome.status = "cancelled"
            return
        with self._lock:
            self._pending = list(reversed(self.tasks))  # pop() from the end: catalog order
        self._start_workers(min(self.concurrency, len(self.tasks)))
        cancel_deadline: float | None = None
        while True:
            if cancel_deadline is None and self._cancelled():
                outcome.status = "cancelled"
                self._stop_workers()
                cancel_deadline = time.monotonic() + self.cancel_grace_s
            try:
                item = self._finished.get(timeout=POLL_S)
            except queue.Empty:
                item = None
            if item is not None:
                time.sleep(GROUP_WINDOW_S)
            # The answers that arrived together (at most a slot's worth, so cancel checks and
            # ticks keep coming) are saved together.
            arrived: list[tuple[Task, ScoredRun]] = []
            while item is not None:
                arrived.append(item)
                if len(arrived) >= self.concurrency:
                    break
                try:
                    item = self._finished.get_nowait()
                except queue.Empty:
                    item = None
            self._announce_started()  # a task's start is announced before its end
            with self._lock:
                # A late answer from a task already timed out or abandoned is dropped.
                finished = [(t, r) for t, r in arrived if self._in_flight.pop(t.key, None)]
            self._record_all(finished, outcome)
            now = time.monotonic()
            if self.task_timeout_s is not None:
                with self._lock:
                    overdue = [
                        self._in_flight.pop(key)
                        for key, flight in list(self._in_flight.items())
                        if now - flight.started > self.task_timeout_s
                    ]
                for flight in overdue:
                    error = f"timed out after {self.task_timeout_s:g} s"
                    result = self._failure(flight.task, error, now - flight.started)
                    self._record(flight.task, result, outcome)
                # A worker stuck in a timed-out task keeps it; a new one takes its slot.
                self._start_workers(len(overdue))
            with self._lock:
                if (
                    self._in_flight
                    and cancel_deadline is not None
                    and (self.abort_event.is_set() or now > cancel_deadline)
                ):
                    outcome.abandoned = len(self._in_flight)
                    self._in_flight.clear()
                left = bool(self._pending or self._in_flight)
            if not left:
                break
            if self.on_tick is not None:
                self.on_tick()


class RunEngine(CallEngine):
    """The audit: each task is a scenario, a target skill, a model and a sample, scored by
    the model's auditor against the taxonomy.

    Every result is stamped with its task's fingerprint. With a ``cache``, the engine first
    asks it for stored successful results matching the tasks' fingerprints: those tasks are
    not sent; their copies are recorded at once (``on_cached`` saves them in one go, else
    ``on_result`` one by one), count as completed, and one ``cached`` event says how many.
    """

    def __init__(
        self,
        tasks: Sequence[Task],
        auditors: dict[str, Auditor],
        taxonomy: Taxonomy,
        *,
        cache: ResultCache | None = None,
        on_cached: Callable[[list[ScoredRun]], None] | None = None,
        fingerprinter: Fingerprinter | None = None,
        **options: Any,
    ) -> None:
        super().__init__(tasks, auditors, **options)
        self.taxonomy = taxonomy
        self.cache = cache
        self.on_cached = on_cached
        self.fingerprinter = fingerprinter or Fingerprinter(
            None,
            taxonomy,
            model_ids({n: a.model_id for n, a in auditors.items() if hasattr(a, "model_id")}),
        )
        self.prompts: PromptBook | None = None

    def _work(self, task: Task) -> ScoredRun:
        started = time.monotonic()
        try:
            result = score_task(
                self.auditors[task.model],
                task.scenario,
                task.skill,
                self.taxonomy,
                prompts=self.prompts,
            )
            if result.model != task.model:
                result.model = task.model
            result.epoch = task.epoch
        except Exception as exc:
            logger.warning("run %s: task %s raised", self.run_id, task.key, exc_info=True)
            error = f"{type(exc).__name__}: {exc}"
            result = error_result(task, error, time.monotonic() - started, self.taxonomy)
        return result

    def _progress(self, task: Task, status: str, result: ScoredRun | None = None) -> Event:
        return {
            "type": "progress",
            "run_id": self.run_id,
            "scenario_id": task.scenario.id,
            "skill": task.skill.name,
            "model": task.model,
            "epoch": task.epoch,
            "status": status,
            "duration_s": round(result.duration_s, 3) if result else None,
            "error": result.error if result else None,
            "completed": self.completed,
            "failed": self.failed,
            "total": self.total,
        }

    def fingerprint(self, task: Task) -> Fingerprint:
        return self.fingerprinter.of(task.scenario, task.skill, task.model)

    def _failure(self, task: Task, error: str, duration_s: float) -> ScoredRun:
        return error_result(task, error, duration_s, self.taxonomy)

    def _stamp(self, task: Task, result: ScoredRun) -> None:
        super()._stamp(task, result)
        result.fingerprint = result.fingerprint or self.fingerprint(task)

    def prompt_book(self) -> PromptBook:
        """The run's prompts, built on first use (``prepare`` does, before the workers)."""
        if self.prompts is None:
            self.prompts = PromptBook(self.taxonomy, (t.key for t in self.tasks))
        return self.prompts

    def prepare(self) -> None:
        """The run's prompts first, then the auditors' own preparation."""
        self.prompt_book()
        super().prepare()

    def _reuse_cached(self, outcome: RunOutcome) -> None:
        """Record the tasks the cache can answer, and keep only the others to send."""
        if self.cache is None or not self.tasks:
            return
        prints = {task.key: self.fingerprint(task) for task in self.tasks}
        wanted = {key: fp.key for key, fp in prints.items() if fp.key}
        hits = self.cache.lookup(wanted) if wanted else {}
        if not hits:
            return
        copies = [
            reused(hits[task.key][0], source_run=hits[task.key][1], fingerprint=prints[task.key])
            for task in self.tasks
            if task.key in hits
        ]
        if self.on_cached is not None:
            self.on_cached(copies)
        elif self.on_result is not None:
            for copy in copies:
                self.on_result(copy)
        outcome.results.extend(copies)
        outcome.cached = len(copies)
        self.completed += len(copies)
        self.tasks = [task for task in self.tasks if task.key not in hits]
        self.emit(
            {
                "type": "cached",
                "run_id": self.run_id,
                "cached": len(copies),
                "completed": self.completed,
                "failed": self.failed,
                "total": self.total,
            }
        )


def execute_tasks(
    tasks: Sequence[Task],
    auditors: dict[str, Auditor],
    taxonomy: Taxonomy,
    *,
    run_id: str,
    concurrency: int = DEFAULT_CONCURRENCY,
    listeners: Iterable[Listener] = (),
    **options: Any,
) -> RunOutcome:
    """Run ``tasks`` to the end (or cancellation) and return what happened; see ``RunEngine``."""
    engine = RunEngine(
        tasks,
        auditors,
        taxonomy,
        run_id=run_id,
        concurrency=concurrency,
        listeners=listeners,
        **options,
    )
    return engine.run()
