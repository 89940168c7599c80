"""Ctrl-C and SIGTERM for the commands that run a run: cancel first, abort on the second."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def cancel_on_signals(
    cancel: threading.Event, abort: threading.Event, say: Callable[[str], object]
) -> Iterator[None]:
    """First Ctrl-C or SIGTERM: stop launching; a second one: stop waiting for in-flight.

    Why two steps: the calls in flight are paid for, and waiting for them saves their answers
    (a resume does not ask them again); the second signal is for when waiting is not worth it.
    Off the main thread (signals cannot be caught there) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if cancel.is_set():
            abort.set()
            say("Stopping now; unfinished tasks are left for --resume.")
            return
        cancel.set()
        say("Cancelling: no new tasks; waiting for tasks in flight (Ctrl-C again to stop now).")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
