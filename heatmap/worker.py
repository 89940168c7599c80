"""Where runs execute: the run worker's job, and how the web process hands a run to it.

``run_work`` drives the blocking engine in a thread and broadcasts each event to the run's
group. With a real channel layer (Redis) the web process sends the run id to the named
channel ``run-worker`` and ``manage.py runworker run-worker`` executes it
(``RunWorkerConsumer``). The in-memory layer cannot cross processes, so there the web process
runs the same ``run_work`` itself, on its own event loop: one process, nothing else to start.
Everything a second process needs to know (status, counters, cancel) is in the database.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import close_old_connections

logger = logging.getLogger(__name__)

RUN_WORKER_CHANNEL = "run-worker"
SEND_TIMEOUT_S = 10.0
MAX_RUNS_AT_ONCE = 16

# Runs block a thread for their whole length. They get threads of their own, not the event
# loop's default executor, which Channels' database_sync_to_async also uses: a few long runs
# there would starve the WebSocket consumers' database reads and freeze live progress.
_run_threads = ThreadPoolExecutor(max_workers=MAX_RUNS_AT_ONCE, thread_name_prefix="run")

# The web server's event loop, recorded by the ASGI application on its first call; in-process
# runs are scheduled on it so their events reach WebSocket consumers on the same loop.
_web_loop: asyncio.AbstractEventLoop | None = None
# Strong references to in-process run tasks, so they are not garbage-collected mid-run.
_background: set[Any] = set()


def run_group(run_id: str) -> str:
    return f"run_{run_id}"


def bind_web_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _web_loop
    _web_loop = loop


def _execute_blocking(run_id: str, listener: Any) -> None:
    from heatmap import selectors
    from heatmap.services import runs

    close_old_connections()
    try:
        run = selectors.run_get(run_id=run_id)
        if run is None:
            raise LookupError(f"no run {run_id!r}")
        runs.run_execute(run=run, listeners=(listener,))
    except Exception:
        logger.exception("run %s: execution failed", run_id)
    finally:
        close_old_connections()


async def run_work(run_id: str) -> None:
    """Execute one run in a worker thread; send every engine event to the run's group."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    group = run_group(run_id)

    def listener(event: dict[str, Any]) -> None:
        # Called on the engine's thread: hand the send to this loop and wait, so events keep
        # their order and a slow layer slows the engine instead of piling up messages.
        message = {"type": "run.event", "event": event}
        future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
        try:
            future.result(timeout=SEND_TIMEOUT_S)
        except Exception:
            logger.warning("run %s: could not broadcast %s", run_id, event.get("type"))

    await loop.run_in_executor(_run_threads, _execute_blocking, run_id, listener)


def _keep(task: Any) -> None:
    _background.add(task)
    task.add_done_callback(_background.discard)


def _start_in_process(run_id: str) -> None:
    loop = _web_loop
    if loop is not None and loop.is_running():
        _keep(asyncio.run_coroutine_threadsafe(run_work(run_id), loop))
        return
    # No web server loop (a management command, the test client): a thread with its own loop.
    thread = threading.Thread(
        target=asyncio.run, args=(run_work(run_id),), name=f"run-{run_id}", daemon=True
    )
    thread.start()
    _keep_thread(thread)


def _keep_thread(thread: threading.Thread) -> None:
    _background.add(thread)


def run_dispatch(run_id: str) -> None:
    """Hand a created run to whoever executes runs for this deployment."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        _start_in_process(run_id)
    else:
        async_to_sync(layer.send)(RUN_WORKER_CHANNEL, {"type": "run.execute", "run_id": run_id})


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
