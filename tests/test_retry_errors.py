"""Retry only the failed tasks of a run, into the same run: command and run page button."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from heatmap.models import Run
from heatmap.services import auditors as auditor_services
from heatmap.services.execution import run_execute
from tests.run_helpers import StubAuditor

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

DOMAINS = "price-tracking,general-scraping"


@pytest.fixture
def heuristic(monkeypatch, settings, tmp_path, example_catalog_dir):
    settings.SKILLCHECK_CATALOG = example_catalog_dir
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    auditor = StubAuditor("heuristic", fail_on=lambda request: request.skill.name == "web-scraper")
    monkeypatch.setattr(auditor_services, "auditor_registry", lambda: {"heuristic": auditor})
    return auditor


def run_command(*args: str) -> dict:
    out = io.StringIO()
    call_command("run_scored", *args, "--json", stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


def test_retry_errors_runs_only_the_failed_tasks_into_the_same_run(heuristic):
    first = run_command("--models", "heuristic", "--domains", DOMAINS)
    run = Run.objects.get(run_id=first["run_id"])
    failed = set(run.tasks.exclude(error="").values_list("scenario_id", "skill", "model"))
    assert failed and first["failed"] == len(failed) < first["total"]
    ok_rows = set(run.tasks.filter(error="").values_list("pk", flat=True))
    heuristic.fail_on = None
    heuristic.calls.clear()
    again = run_command("--retry-errors", run.run_id)
    assert again["run_id"] == run.run_id and again["failed"] == 0
    assert again["completed"] == again["total"] == first["total"]
    assert {(s, k, "heuristic") for s, k in heuristic.calls} == failed
    assert ok_rows <= set(run.tasks.values_list("pk", flat=True))  # the others were kept


def test_retry_errors_of_a_run_without_errors_is_refused(heuristic):
    heuristic.fail_on = None
    first = run_command("--models", "heuristic", "--domains", DOMAINS)
    with pytest.raises(CommandError, match="no failed tasks"):
        run_command("--retry-errors", first["run_id"])


def test_retry_errors_button_on_the_run_page(heuristic, client, dispatched):
    first = run_command("--models", "heuristic", "--domains", DOMAINS)
    page = client.get(reverse("heatmap:run-progress", args=[first["run_id"]]))
    url = reverse("heatmap:run-retry-errors", args=[first["run_id"]])
    assert url in page.content.decode() and "Retry errors" in page.content.decode()
    client.post(url)
    run = Run.objects.get(run_id=first["run_id"])
    assert dispatched == [run.run_id] and run.errors_only and run.status == "pending"
    heuristic.fail_on = None
    run_execute(run=run)
    run.refresh_from_db()
    assert run.failed == 0 and run.completed == run.total


def test_retry_errors_refused_on_the_run_page_without_the_cli_path(client, catalog, settings):
    from tests.heatmap_data import add_task, make_run

    settings.ANTHROPIC_API_KEY = ""
    settings.SKILLCHECK_CLAUDE_BIN = "/opt/private-tools/bin/claude"
    run = make_run(models=["haiku"], total=1, failed=1)
    scenario = next(iter(catalog.domains.values())).scenarios[0]
    add_task(
        run,
        scenario_id=scenario.id,
        skill=scenario.specialist,
        model="haiku",
        error="haiku: timed out",
    )
    url = reverse("heatmap:run-retry-errors", args=[run.run_id])
    page = client.post(url, {"next": f"/runs/{run.run_id}/"}, follow=True).content.decode()
    assert "not available" in page
    assert "/opt/private-tools" not in page
