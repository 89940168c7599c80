"""``POST /api/routing/run`` and friends: start a routing run of the current catalog, follow
it, cancel it."""

from __future__ import annotations

import json

import pytest

from heatmap.models import RoutingRun
from tests.routing_helpers import write_routing_catalog

pytestmark = pytest.mark.django_db
EXECUTED: list[str] = []


def hold(run_id: str, kind: str = "audit") -> None:
    """A dispatcher for tests that executes nothing: the run stays pending."""
    EXECUTED.append(f"held:{run_id}")


def execute_now(run_id: str, kind: str = "audit") -> None:
    """A dispatcher for tests: the routing run executes in the request's thread."""
    from heatmap.selectors.routing import routing_run_get
    from heatmap.services.routing_execution import routing_run_execute

    EXECUTED.append(run_id)
    run = routing_run_get(run_id)
    assert run is not None
    routing_run_execute(run=run)


@pytest.fixture(autouse=True)
def routing_catalog(settings, tmp_path):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    settings.SKILLCHECK_CATALOG = write_routing_catalog(tmp_path / "catalog").root
    settings.SKILLCHECK_RUN_DISPATCHER = "tests.test_routing_web_api.execute_now"


def post(client, url, body):
    response = client.post(url, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_post_starts_a_run_and_status_reports_its_metrics(client):
    status, data = post(client, "/api/routing/run", {"models": ["lexical"], "runs": 2})
    assert status == 201 and data["total"] == 4 and data["run_id"] in EXECUTED
    progress = client.get(f"/api/routing/run/{data['run_id']}").json()
    assert progress["status"] == "completed"
    assert progress["samples_done"] == progress["samples_total"] == 8
    assert set(progress["metrics"]["lexical"]["skills"]) == {
        "job-board",
        "price-watch",
        "review-digest",
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"models": ["nope"]}, "unknown router"),
        ({"models": "lexical", "runs": "3"}, "whole number"),
        ({"runs": 99}, "between 1 and"),
        ([1], "JSON object"),
    ],
)
def test_bad_requests_are_400_with_a_reason(client, body, message):
    status, data = post(client, "/api/routing/run", body)
    assert status == 400 and message in data["error"]


def test_a_claude_model_without_an_api_key_is_a_400_saying_routing_needs_the_api(client, settings):
    settings.ANTHROPIC_API_KEY = ""
    settings.SKILLCHECK_CLAUDE_BIN = "/bin/true"  # a claude CLI: it cannot force the choice
    status, data = post(client, "/api/routing/run", {"models": ["lexical", "haiku"]})
    assert status == 400 and "haiku: routing needs the Anthropic API" in data["error"]
    assert not RoutingRun.objects.exists()


def test_cancel_and_unknown_runs(client, settings):
    settings.SKILLCHECK_RUN_DISPATCHER = "tests.test_routing_web_api.hold"
    _, data = post(client, "/api/routing/run", {})
    status, cancelled = post(client, f"/api/routing/run/{data['run_id']}/cancel", {})
    assert status == 200 and cancelled["status"] == "cancelled"
    assert RoutingRun.objects.get(run_id=data["run_id"]).cancel_requested
    assert client.get("/api/routing/run/nope").status_code == 404
