"""Batch mode through the real SDK against the Messages + Batches stub: submit, poll, collect,
errored and expired requests, cancel, and a process killed while waiting."""

from __future__ import annotations

import io
import json
import math
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from heatmap.models import Run
from heatmap.services import plans
from heatmap.services.execution import run_execute
from heatmap.services.resume import run_resume
from heatmap.services.retry import run_retry_errors
from heatmap.services.start import run_create
from skillcheck.auditors.pricing import cost_usd
from skillcheck.auditors.registry import build_registry
from tests.fakes import stub_config
from tests.fakes.anthropic_stub import AnthropicStub
from tests.processes import child_env, manage, manage_popen, migrate

pytestmark = pytest.mark.both_databases

DOMAIN = "competitive-intelligence"
MODELS = {"sonnet": "claude-sonnet-4-6", "haiku": "claude-haiku-4-5"}


@pytest.fixture
def batch_settings(settings, tmp_path):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    settings.SKILLCHECK_MODELS = MODELS
    settings.SKILLCHECK_BATCH_SIZE = 5
    settings.SKILLCHECK_BATCH_POLL_S = 0.05
    return settings


def registry(stub: AnthropicStub):
    return build_registry(stub_config(stub.base_url, models=MODELS))


def batch_run(corpus_dir: Path, auditors, models=("sonnet", "haiku")) -> Run:
    return run_create(
        domains=[DOMAIN],
        models=list(models),
        catalog_path=corpus_dir,
        auditors=auditors,
        batch=True,
        use_cache=False,
    )


@pytest.mark.django_db
def test_a_batch_run_completes_at_half_price(corpus_dir, batch_settings):
    with AnthropicStub(batch_polls_to_end=2) as stub:
        auditors = registry(stub)
        run = run_execute(run=batch_run(corpus_dir, auditors), auditors=auditors)

        assert run.status == "completed" and run.failed == 0
        assert run.completed == run.total
        assert stub.batch_creates == math.ceil(run.total / 5)
        assert not [r for r in stub.requests if r.path == "/v1/messages"]  # no direct call
        assert [b["status"] for b in run.batches] == ["collected"] * stub.batch_creates
        for task in run.tasks.all():
            assert task.batch
            fresh = task.input_tokens - task.cache_write_tokens - task.cache_read_tokens
            full = cost_usd(
                MODELS[task.model],
                fresh,
                task.output_tokens,
                task.cache_write_tokens,
                task.cache_read_tokens,
            )
            assert task.cost_usd == pytest.approx(full / 2)
        report = json.loads(Path(run.report_path).read_text())
        assert all(r["cost_info"]["batch"] for r in report["results"])
        # A batch request is the request a direct call would send: cache breakpoints included.
        [first] = [r for r in stub.requests if r.path == "/v1/messages/batches"][:1]
        params = first.body["requests"][0]["params"]
        assert params["messages"][0]["content"][-1]["text"].startswith("# User prompt")


@pytest.mark.django_db
def test_errored_and_expired_requests_fail_their_tasks_and_a_retry_redoes_them(
    corpus_dir, batch_settings
):
    with AnthropicStub() as stub:
        outcomes = iter(["errored", "expired"])
        stub.batch_outcome = lambda custom_id, params: next(outcomes, "succeeded")
        auditors = registry(stub)
        run = run_execute(run=batch_run(corpus_dir, auditors), auditors=auditors)

        assert run.status == "completed"
        errors = list(run.tasks.exclude(error="").values_list("error", flat=True))
        assert len(errors) == 2
        assert any("request errored: api_error" in e for e in errors)
        assert any("request expired" in e for e in errors)
        creates = stub.batch_creates

        run = run_retry_errors(run_id=run.run_id, auditors=auditors)
        run = run_execute(run=run, auditors=auditors)

        assert run.failed == 0 and run.completed == run.total
        assert stub.batch_creates == creates + 1  # only the two failed tasks, in one batch
        last = [r for r in stub.requests if r.path == "/v1/messages/batches"][-1]
        assert len(last.body["requests"]) == 2


@pytest.mark.django_db
def test_cancel_cancels_the_batches_and_resume_collects_them(corpus_dir, batch_settings):
    batch_settings.SKILLCHECK_CANCEL_GRACE_S = 0.2
    with AnthropicStub(batch_polls_to_end=0) as stub:  # batches end only when told
        auditors = registry(stub)
        run = batch_run(corpus_dir, auditors)
        polled: list[dict] = []

        def cancel_once_polled(event):
            polled.append(event)
            if event["type"] == "batch":
                Run.objects.filter(pk=run.pk).update(cancel_requested=True)

        run = run_execute(run=run, auditors=auditors, listeners=[cancel_once_polled])

        assert run.status == "cancelled"
        cancels = [r for r in stub.requests if r.path.endswith("/cancel")]
        assert len(cancels) == stub.batch_creates
        assert run.completed == 0  # the stub's cancelled batches answered nothing

        creates = stub.batch_creates
        batch_settings.SKILLCHECK_CANCEL_GRACE_S = 10
        stub.batch_polls_to_end = 1
        run = run_resume(run_id=run.run_id, auditors=auditors)
        run = run_execute(run=run, auditors=auditors)
        # The cancelled batches ended with every request canceled: those tasks went out again.
        assert run.status == "completed" and run.completed == run.total and run.failed == 0
        assert stub.batch_creates == 2 * creates


@pytest.mark.django_db
@pytest.mark.parametrize("again", [run_resume, run_retry_errors])
def test_batches_the_api_no_longer_knows_fail_their_tasks_and_are_sent_again(
    corpus_dir, batch_settings, again
):
    """Issue 21 (8): a stored batch unknown to the API (expired, or another key) failed every
    resume with NotFoundError 404, and --retry-errors found nothing to retry."""
    with AnthropicStub() as stub:
        auditors = registry(stub)
        done = run_execute(run=batch_run(corpus_dir, auditors), auditors=auditors)
        # A run whose process died after submitting batches the API has since forgotten.
        run = batch_run(corpus_dir, auditors)
        forgotten = [
            {"id": f"msgbatch_gone{i}", "tasks": b["tasks"], "status": "submitted"}
            for i, b in enumerate(done.batches)
        ]
        Run.objects.filter(pk=run.pk).update(batches=forgotten)
        run.refresh_from_db()
        creates = stub.batch_creates

        run = run_execute(run=run, auditors=auditors)

        assert run.status == "completed" and run.failed == run.total
        errors = set(run.tasks.values_list("error", flat=True))
        assert all("batch msgbatch_gone" in e and "not found at the API" in e for e in errors)
        assert {b["status"] for b in run.batches} == {"lost"}
        assert stub.batch_creates == creates  # nothing sent again unasked: the tasks failed

        run = again(run_id=run.run_id, auditors=auditors)
        run = run_execute(run=run, auditors=auditors)

        assert run.status == "completed" and run.failed == 0 and run.completed == run.total
        assert stub.batch_creates > creates


@pytest.mark.django_db
def test_batch_mode_needs_api_models(corpus_dir, batch_settings):
    with AnthropicStub() as stub:
        auditors = registry(stub)
        with pytest.raises(plans.RunRequestError, match="not on it: heuristic"):
            batch_run(corpus_dir, auditors, models=("sonnet", "heuristic"))


@pytest.mark.django_db
def test_dry_run_shows_the_batch_price(corpus_dir, settings):
    settings.ANTHROPIC_API_KEY = "sk-test"

    def estimate(*extra: str) -> dict:
        out = io.StringIO()
        options = ["--catalog", str(corpus_dir), "--models", "sonnet,opus", *extra]
        call_command("run_scored", "--dry-run", "--json", *options, stdout=out)
        return json.loads(out.getvalue())

    direct, batch = estimate(), estimate("--batch")
    assert batch["batch"] is True
    for model, cost in direct["estimated_cost_usd"].items():
        assert cost > 0
        assert batch["estimated_cost_usd"][model] == pytest.approx(cost / 2, abs=1e-4)


def test_a_batch_run_killed_while_waiting_resumes_without_resubmitting(corpus_dir, tmp_path):
    with AnthropicStub(batch_polls_to_end=0) as stub:
        env = child_env(
            tmp_path,
            SKILLCHECK_CATALOG=str(corpus_dir),
            SKILLCHECK_BATCH_POLL_S="0.1",
            SKILLCHECK_BATCH_SIZE="4",
            ANTHROPIC_API_KEY="sk-test-key",
            ANTHROPIC_BASE_URL=stub.base_url,
        )
        migrate(env)
        options = ["--batch", "--models", "sonnet", "--domains", DOMAIN, "--run-id", "batch-kill"]
        child = manage_popen("run_scored", *options, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # every batch submitted and polled at least once
            polls = [r for r in stub.requests if r.method == "GET"]
            if stub.batch_creates and len(polls) > 2 * stub.batch_creates:
                break
            time.sleep(0.05)
        creates = stub.batch_creates
        assert creates >= 1
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)

        with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
            [(stored, total)] = conn.execute(
                "SELECT batches, total FROM heatmap_run WHERE run_id = 'batch-kill'"
            ).fetchall()
        assert [b["id"] for b in json.loads(stored)] == list(stub.batches)
        assert stub.batch_creates == math.ceil(total / 4)  # all submitted before the kill

        stub.end_batches()
        # No wait: on this host the killed process is seen gone, so the run resumes at once.
        resumed = manage("run_scored", "--resume", "batch-kill", "--json", env=env, check=True)
        summary = json.loads(resumed.stdout)
        assert summary["status"] == "completed"
        assert summary["completed"] == summary["total"] == total
        assert summary["failed"] == 0
        assert stub.batch_creates == creates  # polled again, never submitted again


@pytest.mark.django_db
def test_the_run_controls_price_and_start_a_batch_run(
    client, catalog, domain_id, dispatched, settings, batch_settings
):
    settings.ANTHROPIC_API_KEY = "sk-test-key"
    settings.SKILLCHECK_CONFIRM_COST_USD = 1000.0
    query = {"domains": [domain_id], "models": ["sonnet"]}

    def estimate(html: str) -> float:
        return float(html.split("Estimated cost: <strong>$")[1].split("<")[0])

    direct = client.get("/run-controls/plan/", query).content.decode()
    batch = client.get("/run-controls/plan/", {**query, "batch": "1"}).content.decode()
    assert "batch: half price, results within hours" in batch
    assert estimate(batch) == pytest.approx(estimate(direct) / 2, abs=0.011)
    assert 'name="batch"' in client.get("/heatmap/").content.decode()

    client.post("/run-controls/start/", {**query, "concurrency": "2", "batch": "on", "next": "/"})
    [run_id] = dispatched
    assert Run.objects.get(run_id=run_id).batch


@pytest.mark.django_db
def test_the_api_refuses_a_batch_run_of_offline_models(client, catalog, domain_id, settings):
    response = client.post(
        "/api/heatmap/run",
        {"domains": [domain_id], "models": ["heuristic"], "batch": True},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "batch mode" in response.json()["error"]
