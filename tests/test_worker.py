from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.db import database_sync_to_async

from heatmap import worker

pytestmark = pytest.mark.both_databases


@pytest.fixture
def blocking_runs(monkeypatch):
    """Runs that hold their thread until released, as long model calls do."""
    release = threading.Event()
    started = threading.Semaphore(0)

    def execute(run_id, listener):
        started.release()
        release.wait(10)

    monkeypatch.setattr(worker, "_execute_blocking", execute)
    yield started, release
    release.set()


@pytest.mark.django_db(transaction=True)  # database_sync_to_async closes old connections
async def test_long_runs_leave_the_consumers_database_threads_free(blocking_runs):
    started, release = blocking_runs
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=2))
    runs = [asyncio.ensure_future(worker.run_work(f"r{i}")) for i in range(4)]
    for _ in range(4):
        assert await asyncio.to_thread(started.acquire, True, 5)

    # A consumer's database read runs on the loop's default executor; it must not queue
    # behind the four runs still in progress.
    assert await asyncio.wait_for(database_sync_to_async(lambda: "read")(), timeout=2) == "read"
    assert not any(run.done() for run in runs)
    release.set()
    await asyncio.wait_for(asyncio.gather(*runs), timeout=5)
