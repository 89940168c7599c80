"""Where runs execute: the run worker's job, and how the web process hands a run to it.

``run_work`` drives the blocking engine in a thread and broadcasts each event to the run's
group; a routing run (``kind=ROUTING``) goes exactly the same way, through
``routing_run_execute``. With a real channel layer (Redis) the web process sends the run id
to the named channel ``run-worker`` and ``manage.py runworker run-worker`` executes it
(``RunWorkerConsumer``). The in-memory layer cannot cross processes, so there the web process
runs the same ``run_work`` itself, on its own event loop: one process, nothing else to start.
Everything a second process needs to know (status, counters, cancel) is in the database.

The worker sits above the services: it calls them, and they reach it only through the
``SKILLCHECK_RUN_DISPATCHER`` setting, whose default is ``run_dispatch`` here
(``heatmap.services.dispatch``).

A process executes at most ``SKILLCHECK_MAX_RUNS_PER_PROCESS`` runs at once; a run handed to
it beyond that is ``queued`` (its heartbeat kept fresh) until a slot frees. Under daphne,
``install_shutdown_hook`` makes SIGTERM and SIGINT stop this process's runs before it exits
(``shutdown``): no new task starts, tasks in flight get a short grace, and every run the
process held ends ``cancelled``, resumable at once. Under ``runworker``, ``RunWorker`` does
the same, after it stops taking runs from the channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.worker import Worker
from django.conf import settings
from django.db import close_old_connections

from heatmap import selectors
from heatmap.models import Run
from heatmap.selectors.routing import routing_run_get
from heatmap.services import execution, liveness
from heatmap.services.dispatch import AUDIT, ROUTING
from heatmap.services.routing_execution import routing_run_execute
from skillcheck.auditors.claude_cli import cli_calls_stop

logger = logging.getLogger(__name__)

RUN_WORKER_CHANNEL = "run-worker"
SEND_TIMEOUT_S = 10.0
SHUTDOWN_SEND_TIMEOUT_S = 1.0
MAX_RUNS_AT_ONCE = 16
SHUTDOWN_REASON = "the server shut down; resume the run to finish it"

# The web server's event loop, recorded by the ASGI application on its first call; in-process
# runs are scheduled on it so their events reach WebSocket consumers on the same loop.
_web_loop: asyncio.AbstractEventLoop | None = None
# Strong references to in-process run tasks, so they are not garbage-collected mid-run.
_background: set[Any] = set()


@dataclass
class _Held:
    """A run this process holds: waiting for a slot or executing, and how to stop it."""

    kind: str = AUDIT
    cancel: threading.Event = field(default_factory=threading.Event)
    abort: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


class _Runs:
    """This process's execution slots, the runs it holds, and whether it is stopping."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[str, _Held] = {}
        self.stopping = threading.Event()
        self._slots: threading.BoundedSemaphore | None = None

    @property
    def slots(self) -> threading.BoundedSemaphore:
        with self.lock:
            if self._slots is None:
                size = getattr(settings, "SKILLCHECK_MAX_RUNS_PER_PROCESS", MAX_RUNS_AT_ONCE)
                self._slots = threading.BoundedSemaphore(int(size))
            return self._slots


_runs = _Runs()


def run_group(run_id: str) -> str:
    return f"run_{run_id}"


def bind_web_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _web_loop
    _web_loop = loop


def _take_slot(run_id: str, kind: str) -> bool:
    """Wait for a free execution slot, the run ``queued`` meanwhile; False if it must not run.

    It must not when the process is stopping (the run is marked cancelled) or the run was
    cancelled while it waited.
    """
    slots = _runs.slots
    if not _runs.stopping.is_set() and slots.acquire(blocking=False):
        return True
    liveness.run_queue(run_id=run_id, kind=kind)
    while not _runs.stopping.is_set():
        if slots.acquire(timeout=execution.heartbeat_interval_s()):
            if not _runs.stopping.is_set():
                return True
            slots.release()
            break
        if not _runs.stopping.is_set() and not liveness.run_queued_beat(run_id=run_id, kind=kind):
            return False  # cancelled while it waited
    liveness.run_stop_unfinished(run_ids=[run_id], reason=SHUTDOWN_REASON, kind=kind)
    return False


READY = (Run.Status.PENDING, Run.Status.QUEUED)


def _execute(run_id: str, held: _Held, listener: Any) -> None:
    """Execute the run if it is still waiting (not cancelled, or deleted in the admin, while
    it waited for the slot)."""
    if held.kind == ROUTING:
        routing = routing_run_get(run_id)
        if routing is not None and routing.status in READY:
            routing_run_execute(
                run=routing, listeners=(listener,), cancel_event=held.cancel, abort_event=held.abort
            )
        return
    run = selectors.run_get(run_id=run_id)
    if run is not None and run.status in READY:
        execution.run_execute(
            run=run, listeners=(listener,), cancel_event=held.cancel, abort_event=held.abort
        )


def _execute_blocking(run_id: str, listener: Any, kind: str = AUDIT) -> None:
    close_old_connections()
    held = _Held(kind)
    with _runs.lock:
        _runs.held[run_id] = held
    try:
        if not _take_slot(run_id, kind):
            return
        try:
            _execute(run_id, held, listener)
        finally:
            _runs.slots.release()
    except Exception:
        logger.exception("run %s: execution failed", run_id)
    finally:
        with _runs.lock:
            if _runs.held.get(run_id) is held:
                del _runs.held[run_id]
        held.done.set()
        close_old_connections()


async def run_work(run_id: str, kind: str = AUDIT) -> None:
    """Execute one run in a thread of its own; send every engine event to the run's group.

    Runs block a thread for their whole length, so they do not use the event loop's default
    executor, which Channels' database_sync_to_async also uses: a few long runs there would
    starve the WebSocket consumers' database reads and freeze live progress. The thread is a
    daemon: a process that stops has marked its runs (``shutdown``) and need not wait for it.
    """
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    group = run_group(run_id)

    def listener(event: dict[str, Any]) -> None:
        # Called on the engine's thread: hand the send to this loop and wait, so events keep
        # their order and a slow layer slows the engine instead of piling up messages.
        message = {"type": "run.event", "event": event}
        future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        timeout = SHUTDOWN_SEND_TIMEOUT_S if _runs.stopping.is_set() else SEND_TIMEOUT_S
        try:
            future.result(timeout=timeout)
        except Exception:
            logger.warning("run %s: could not broadcast %s", run_id, event.get("type"))

    finished = loop.create_future()

    def execute() -> None:
        try:
            _execute_blocking(run_id, listener, kind)
        finally:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(_resolve, finished)

    threading.Thread(target=execute, name=f"run-{run_id}", daemon=True).start()
    await finished


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


def shutdown(*, grace_s: float | None = None, timeout_s: float = 5.0) -> list[str]:
    """Stop every run this process holds and mark it ``cancelled``; the ids of those runs.

    No run starts from now on. Queued runs are cancelled at once; executing runs stop
    launching tasks, their tasks in flight get ``grace_s`` (``SKILLCHECK_SHUTDOWN_GRACE_S``)
    to finish and are then abandoned (resume redoes them): their ``claude`` processes are
    ended (``cli_calls_stop``), and the engine records the run as cancelled. A run still not
    stopped ``timeout_s`` later is marked cancelled here.
    """
    if grace_s is None:
        grace_s = float(getattr(settings, "SKILLCHECK_SHUTDOWN_GRACE_S", 3.0))
    _runs.stopping.set()
    with _runs.lock:
        held = dict(_runs.held)
    if not held:
        return []
    logger.warning("shutting down: stopping %d run(s): %s", len(held), ", ".join(held))
    for entry in held.values():
        entry.cancel.set()
    _wait_all(held.values(), grace_s)
    for entry in held.values():
        entry.abort.set()
    stopped = cli_calls_stop()
    if stopped:
        logger.warning("shutting down: ended %d claude process group(s)", stopped)
    _wait_all(held.values(), timeout_s)
    late = [run_id for run_id, entry in held.items() if not entry.done.is_set()]
    try:
        if late:
            logger.warning("shutting down: run(s) did not stop in time: %s", ", ".join(late))
            for kind in (AUDIT, ROUTING):
                ids = [run_id for run_id in late if held[run_id].kind == kind]
                liveness.run_stop_unfinished(run_ids=ids, reason=SHUTDOWN_REASON, kind=kind)
    finally:
        close_old_connections()
    return list(held)


def _wait_all(entries: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for entry in list(entries):
        entry.done.wait(max(0.0, deadline - time.monotonic()))


def install_shutdown_hook() -> bool:
    """Under daphne, run ``shutdown`` before the server stops (SIGTERM, SIGINT); True if so.

    Daphne stops its Twisted reactor on those signals; a "before shutdown" trigger that
    returns a Deferred makes the reactor wait for it, so the runs are marked before the
    process exits. Django imports ``daphne.server`` whenever daphne is an installed app, so
    the trigger is registered in other processes too (tests), where the reactor never runs
    and it never fires; ``manage.py`` commands other than runserver go without daphne.
    """
    if "daphne.server" not in sys.modules:
        return False
    from twisted.internet import reactor, threads

    # The stubs type ``reactor`` as the zope interface, whose methods have no ``self``.
    reactor.addSystemEventTrigger(
        "before",
        "shutdown",  # type: ignore[arg-type]
        threads.deferToThread,
        shutdown,
    )
    return True


class RunWorker(Worker):
    """Channels' worker for ``manage.py runworker``, stopping its runs on SIGTERM and SIGINT.

    Channels' own worker dies on SIGTERM (and unwinds on Ctrl-C) with its runs left
    ``running``: they look alive until their heartbeat goes stale, and only then can they be
    resumed. Here a signal first stops listening, so runs not yet taken stay on the channel
    for another worker, then ``shutdown`` hands back the runs this process holds
    (``cancelled``, resumable at once) while the event loop still broadcasts their last
    events, and the process exits.
    """

    async def handle(self) -> None:
        loop = asyncio.get_running_loop()
        signalled = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, signalled.set)
        listeners = [asyncio.ensure_future(self.listener(channel)) for channel in self.channels]
        stop = asyncio.ensure_future(signalled.wait())
        await asyncio.wait([*listeners, stop], return_when=asyncio.FIRST_COMPLETED)
        for task in (*listeners, stop):
            task.cancel()
        await asyncio.gather(*listeners, stop, return_exceptions=True)
        if not signalled.is_set():  # a listener failed (the channel layer): raise its error
            for listener in listeners:
                if not listener.cancelled():
                    listener.result()
            return
        logger.warning("signal received: no new runs; stopping this worker's runs")
        await asyncio.to_thread(shutdown)


def _keep(task: Any) -> None:
    _background.add(task)
    task.add_done_callback(_background.discard)


def _start_in_process(run_id: str, kind: str) -> None:
    loop = _web_loop
    if loop is not None and loop.is_running():
        _keep(asyncio.run_coroutine_threadsafe(run_work(run_id, kind), loop))
        return
    # No web server loop (a management command, the test client): a thread with its own loop.
    thread = threading.Thread(
        target=asyncio.run, args=(run_work(run_id, kind),), name=f"run-{run_id}", daemon=True
    )
    thread.start()
    _keep_thread(thread)


def _keep_thread(thread: threading.Thread) -> None:
    _background.add(thread)


def run_dispatch(run_id: str, kind: str = AUDIT) -> None:
    """Hand a created run (``kind``: an audit run, or a routing run) to whoever executes
    runs for this deployment.

    The default ``SKILLCHECK_RUN_DISPATCHER``: services call it through that setting.
    """
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        _start_in_process(run_id, kind)
    else:
        message = {"type": "run.execute", "run_id": run_id, "kind": kind}
        async_to_sync(layer.send)(RUN_WORKER_CHANNEL, message)


def wait_for_background(timeout: float = 30.0) -> None:
    """Wait for in-process runs to finish (tests, and shutting down cleanly)."""
    for item in list(_background):
        if isinstance(item, threading.Thread):
            item.join(timeout)
            _background.discard(item)
        else:
            try:
                item.result(timeout)
            except Exception:
                logger.warning("background run ended with an error", exc_info=True)
