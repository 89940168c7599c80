from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.db import database_sync_to_async

from heatmap import worker
from skillcheck.auditors import claude_cli

pytestmark = pytest.mark.both_databases


@pytest.fixture
def blocking_runs(monkeypatch):
    """Runs that hold their thread until released, as long model calls do."""
    release = threading.Event()
    started = threading.Semaphore(0)

    def execute(run_id, listener, kind):
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


# --- execution slots and shutdown --------------------------------------------------------------


@pytest.fixture
def one_slot(monkeypatch, settings, example_catalog_dir, tmp_path):
    """A process with one execution slot, a hanging auditor, a short staleness limit."""
    from tests.run_helpers import StubAuditor

    settings.SKILLCHECK_MAX_RUNS_PER_PROCESS = 1
    settings.SKILLCHECK_HEARTBEAT_STALE_S = 1.5
    settings.SKILLCHECK_CATALOG = example_catalog_dir
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    # A run thread of an earlier test still finishing would release its slot into this
    # test's semaphore (it reads ``worker._runs`` again at the end) and give a second slot.
    worker.wait_for_background(10)
    monkeypatch.setattr(worker, "_runs", worker._Runs())
    monkeypatch.setattr(claude_cli, "_live", claude_cli._LiveCalls())  # shutdown closes it
    auditor = StubAuditor("stub", hang_on=lambda request: True)
    monkeypatch.setattr("heatmap.services.auditors.auditor_registry", lambda: {"stub": auditor})
    yield auditor
    auditor.release.set()
    worker.wait_for_background(10)


def start_two():
    """Two runs for one slot: the first is running before the second is handed over, so
    which one waits does not depend on how the threads are scheduled."""
    first = start()
    wait_until(lambda: status(first) == "running")
    second = start()
    wait_until(lambda: status(second) == "queued")
    return first, second


def start(domain: str = "price-tracking"):
    from django.conf import settings

    from heatmap.services.start import run_start
    from skillcheck.catalog import load_catalog

    catalog = load_catalog(settings.SKILLCHECK_CATALOG)
    return run_start(catalog=catalog, domains=[domain], models=["stub"], concurrency=1)


def status(run) -> str:
    run.refresh_from_db()
    return run.display_status


def wait_until(predicate, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_run_waiting_for_a_free_slot_is_queued_not_interrupted(one_slot, client):
    import time

    first, second = start_two()
    time.sleep(2.5)  # longer than the staleness limit: the waiting run's heartbeat is kept

    from heatmap.services.liveness import run_mark_stale_interrupted

    assert run_mark_stale_interrupted() == 0
    assert (status(first), status(second)) == ("running", "queued")
    assert "queued" in client.get(f"/runs/{second.run_id}/").content.decode()
    assert client.get(f"/api/heatmap/run/{second.run_id}").json()["status"] == "queued"

    one_slot.release.set()  # the first run finishes; the second gets the slot
    wait_until(lambda: status(first) == "completed" and status(second) == "completed")


@pytest.mark.django_db(transaction=True)
def test_a_queued_run_cancelled_while_waiting_never_starts(one_slot):
    from heatmap.services.cancel import run_cancel

    first, second = start_two()
    run_cancel(run=second)
    assert status(second) == "cancelled"
    one_slot.release.set()
    wait_until(lambda: status(first) == "completed")
    worker.wait_for_background(10)
    assert status(second) == "cancelled" and second.tasks.count() == 0


@pytest.mark.django_db(transaction=True)
def test_shutdown_cancels_running_and_queued_runs_within_seconds(one_slot, settings):
    import time

    from heatmap.services.resume import run_resume

    settings.SKILLCHECK_SHUTDOWN_GRACE_S = 0.5
    first, second = start_two()

    began = time.monotonic()
    stopped = worker.shutdown()
    took = time.monotonic() - began

    assert sorted(stopped) == sorted([first.run_id, second.run_id])
    assert took < 4, took
    assert (status(first), status(second)) == ("cancelled", "cancelled")
    for run in (first, second):  # resumable at once, without waiting for a stale heartbeat
        assert run_resume(run_id=run.run_id).status == "pending"
    third = start()
    wait_until(lambda: status(third) == "cancelled")  # a stopping process starts nothing
