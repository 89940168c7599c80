from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from heatmap import selectors
from heatmap.models import Run
from heatmap.services import plans
from heatmap.services.liveness import run_mark_stale_interrupted
from heatmap.services.resume import run_resume
from skillcheck import processes
from tests.heatmap_data import configured_catalog

pytestmark = pytest.mark.both_databases


def make_run(**fields) -> Run:
    return Run.objects.create(
        run_id=f"r-{Run.objects.count()}",
        models=["heuristic"],
        catalog=configured_catalog(),
        **fields,
    )


@pytest.fixture
def long_ago(settings):
    settings.SKILLCHECK_HEARTBEAT_STALE_S = 30
    return timezone.now() - timedelta(seconds=120)


@pytest.mark.django_db
def test_a_pending_run_no_worker_picked_up_is_interrupted(long_ago):
    run = make_run(status=Run.Status.PENDING, created_at=long_ago)
    assert run.is_stale and not run.is_active
    assert run.display_status == Run.Status.INTERRUPTED
    assert selectors.run_active() is None  # an idle page stops polling for it
    assert run_mark_stale_interrupted() == 1
    run.refresh_from_db()
    assert run.status == Run.Status.INTERRUPTED


@pytest.mark.django_db
def test_a_fresh_pending_run_is_active(long_ago):
    run = make_run(status=Run.Status.PENDING)
    assert run.is_active
    assert selectors.run_active() == run
    assert run_mark_stale_interrupted() == 0


@pytest.mark.django_db
def test_a_running_run_with_a_stale_heartbeat_is_interrupted_and_a_fresh_one_is_not(long_ago):
    stale = make_run(status=Run.Status.RUNNING, started_at=long_ago, heartbeat_at=long_ago)
    fresh = make_run(status=Run.Status.RUNNING, started_at=long_ago, heartbeat_at=timezone.now())
    assert run_mark_stale_interrupted() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, fresh.status) == (Run.Status.INTERRUPTED, Run.Status.RUNNING)


@pytest.mark.django_db
def test_finished_runs_are_never_stale(long_ago):
    for status in (Run.Status.COMPLETED, Run.Status.CANCELLED, Run.Status.FAILED):
        assert not make_run(status=status, created_at=long_ago).is_stale
    assert run_mark_stale_interrupted() == 0


@pytest.mark.django_db
def test_resume_refuses_a_run_waiting_for_its_worker():
    make_run(status=Run.Status.PENDING)
    with pytest.raises(plans.RunRequestError, match="waiting for a worker"):
        run_resume(run_id="r-0")


def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def running_run(*, owner_pid: int, owner_host: str | None = None) -> Run:
    """A running run that beat just now, owned by ``owner_pid`` on this host (or another)."""
    return make_run(
        status=Run.Status.RUNNING,
        heartbeat_at=timezone.now(),
        owner_host=owner_host or processes.this_host(),
        owner_pid=owner_pid,
    )


@pytest.mark.django_db
def test_a_run_whose_owner_died_on_this_host_is_interrupted_at_once(long_ago):
    run = running_run(owner_pid=dead_pid())
    assert run.is_stale and run.display_status == Run.Status.INTERRUPTED
    assert run_mark_stale_interrupted() == 1
    run.refresh_from_db()
    assert run.status == Run.Status.INTERRUPTED


@pytest.mark.django_db
def test_a_live_owner_or_one_on_another_host_goes_by_the_heartbeat(long_ago):
    alive = running_run(owner_pid=os.getpid())
    elsewhere = running_run(owner_pid=dead_pid(), owner_host=f"not-{processes.this_host()}")
    assert not alive.is_stale and not elsewhere.is_stale
    assert run_mark_stale_interrupted() == 0
    with pytest.raises(plans.RunRequestError, match=rf"process {os.getpid()} on this host"):
        run_resume(run_id=alive.run_id)
    with pytest.raises(plans.RunRequestError, match=r"still running on host not-"):
        run_resume(run_id=elsewhere.run_id)
    # A live owner that stopped beating (hung, or its id was reused) is interrupted too.
    Run.objects.filter(pk=alive.pk).update(heartbeat_at=long_ago)
    alive.refresh_from_db()
    assert alive.is_stale
