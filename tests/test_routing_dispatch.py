"""Routing runs started from the web go through the audits' dispatcher (a thread of this
process on the in-memory channel layer), stop on a cancel from the web, are found
interrupted when their process is gone, and resume from the web."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from heatmap import worker
from heatmap.models import RoutingRun
from skillcheck import processes
from tests.fakes import API_MODELS
from tests.fakes.anthropic_stub import AnthropicStub
from tests.routing_helpers import write_routing_catalog

pytestmark = pytest.mark.django_db(transaction=True)  # the run thread has its own connection


@pytest.fixture
def slow_stub(settings, tmp_path):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    settings.SKILLCHECK_CATALOG = write_routing_catalog(tmp_path / "catalog").root
    settings.SKILLCHECK_RUN_DISPATCHER = "heatmap.worker.run_dispatch"
    settings.SKILLCHECK_MODELS = dict(API_MODELS)
    settings.ANTHROPIC_API_KEY = "sk-test-key"
    settings.SKILLCHECK_MAX_RETRIES = 0
    settings.SKILLCHECK_CLAUDE_BIN = "no-such-claude-binary"
    settings.SKILLCHECK_CANCEL_GRACE_S = 10
    with AnthropicStub(latency_s=1.0) as stub:
        settings.ANTHROPIC_BASE_URL = stub.base_url
        yield stub
    worker.wait_for_background(20)


def post(client, url, body=None):
    response = client.post(url, json.dumps(body or {}), content_type="application/json")
    return response.status_code, response.json()


def wait_until(predicate, timeout=60.0):  # a loaded CI box (load 15 on 2 cores) took over 30 s
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail("timed out")


def answers(run_id: str) -> int:
    run = RoutingRun.objects.get(run_id=run_id)
    return sum(len(picks) for picks in run.cases.values_list("picks", flat=True))


def test_web_cancel_stops_the_run_and_web_resume_finishes_it(client, slow_stub):
    status, started = post(client, "/api/routing/run", {"models": ["haiku"], "runs": 3})
    assert status == 201
    run_id, total = started["run_id"], started["total"] * 3
    wait_until(lambda: answers(run_id) >= 1)
    run = RoutingRun.objects.get(run_id=run_id)
    assert run.status == "running" and run.owner_pid and run.heartbeat_at

    status, _ = post(client, f"/api/routing/run/{run_id}/cancel")
    assert status == 200
    wait_until(lambda: RoutingRun.objects.get(run_id=run_id).status == "cancelled")
    kept = answers(run_id)
    assert 1 <= kept < total
    assert len(slow_stub.requests) == kept  # the answers in flight at the cancel were kept
    assert client.get(f"/api/routing/run/{run_id}").json()["status"] == "cancelled"

    status, resumed = post(client, f"/api/routing/run/{run_id}/resume")
    assert status == 202 and resumed["status"] == "pending"
    wait_until(lambda: RoutingRun.objects.get(run_id=run_id).status == "completed")
    assert answers(run_id) == total
    assert len(slow_stub.requests) == total  # every sample asked exactly once
    status, again = post(client, f"/api/routing/run/{run_id}/resume")
    assert status == 409 and "nothing to resume" in again["error"]


def test_a_routing_run_whose_process_died_shows_interrupted_and_resumes(client, slow_stub):
    _, started = post(client, "/api/routing/run", {"models": ["lexical"], "runs": 1})
    run_id = started["run_id"]
    wait_until(lambda: RoutingRun.objects.get(run_id=run_id).status == "completed")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # As a SIGKILLed process leaves it: running, owned by a process that is gone.
    RoutingRun.objects.filter(run_id=run_id).update(
        status="running", owner_host=processes.this_host(), owner_pid=dead.pid
    )
    RoutingRun.objects.get(run_id=run_id).cases.update(picks=[])
    assert client.get(f"/api/routing/run/{run_id}").json()["status"] == "interrupted"
    assert "interrupted" in client.get(f"/routing/?run={run_id}").content.decode()

    response = client.post(f"/routing/run/{run_id}/resume/")
    assert response.status_code == 302
    wait_until(lambda: RoutingRun.objects.get(run_id=run_id).status == "completed")
    assert answers(run_id) == started["total"]
