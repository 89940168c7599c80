"""Repeated samples (epochs): K calls per task, stored, reported, cached and resumed as samples."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from heatmap.models import Run, TaskResult
from heatmap.services.execution import run_execute
from heatmap.services.resume import run_resume
from skillcheck.report_checks import ReportFieldError, check_row
from skillcheck.reports import load_scored_report
from skillcheck.results import ScoredRun
from skillcheck.runs import build_tasks
from tests.fakes import fake_claude_count

pytestmark = [pytest.mark.django_db]

DOMAIN = "price-tracking"


def run(*args: str, models: str = "haiku") -> dict:
    out = io.StringIO()
    call_command(
        "run_scored", "--models", models, "--domains", DOMAIN, "--json", *args,
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    return json.loads(out.getvalue())


def test_build_tasks_samples_each_model_k_times_and_the_heuristic_once(catalog):
    one = build_tasks(catalog, domains=[DOMAIN], models=["haiku", "heuristic"])
    three = build_tasks(catalog, domains=[DOMAIN], models=["haiku", "heuristic"], epochs=3)
    pairs = len(one) // 2
    assert len([t for t in three if t.model == "haiku"]) == 3 * pairs
    assert len([t for t in three if t.model == "heuristic"]) == pairs
    assert {t.epoch for t in three if t.model == "haiku"} == {1, 2, 3}
    assert len({t.key for t in three}) == len(three)
    with pytest.raises(ValueError, match="1 to 10"):
        build_tasks(catalog, domains=[DOMAIN], models=["haiku"], epochs=11)


def test_k_samples_are_k_calls_and_a_rerun_with_the_same_k_reuses_them_all(fake_haiku_log):
    first = run("--epochs", "3")
    pairs = first["total"] // 3
    assert first["epochs"] == 3 and fake_claude_count(fake_haiku_log) == first["total"] > 0
    rows = TaskResult.objects.filter(run__run_id=first["run_id"])
    assert sorted(set(rows.values_list("epoch", flat=True))) == [1, 2, 3]
    report = load_scored_report(Run.objects.get(run_id=first["run_id"]).report_path)
    assert sorted(r.epoch for r in report.results) == sorted([1, 2, 3] * pairs)
    raw = json.loads(Path(Run.objects.get(run_id=first["run_id"]).report_path).read_text())
    assert {row["epoch"] for row in raw["results"]} == {1, 2, 3}

    again = run("--epochs", "3")
    assert fake_claude_count(fake_haiku_log) == first["total"]
    assert again["cached"] == again["total"]
    more = run("--epochs", "4")  # the fourth sample is new: one call per pair
    assert (
        fake_claude_count(fake_haiku_log) == first["total"] + pairs and more["cached"] == 3 * pairs
    )


def test_dry_run_counts_samples_and_the_heuristic_once(fake_haiku_log):
    dry = run("--epochs", "5", "--dry-run", models="haiku,heuristic")
    one = run("--dry-run", models="haiku,heuristic")
    assert dry["epochs"] == 5
    assert dry["per_model"]["haiku"] == 5 * one["per_model"]["haiku"]
    assert dry["per_model"]["heuristic"] == one["per_model"]["heuristic"]
    assert dry["estimated_cost_usd"]["haiku"] > one["estimated_cost_usd"]["haiku"]


def test_resume_runs_the_missing_samples_only(fake_haiku_log):
    first = run("--epochs", "2")
    run_row = Run.objects.get(run_id=first["run_id"])
    run_row.tasks.filter(epoch=2).delete()  # as if killed before the second samples
    Run.objects.filter(pk=run_row.pk).update(status=Run.Status.INTERRUPTED)
    before = fake_claude_count(fake_haiku_log)
    finished = run_execute(run=run_resume(run_id=first["run_id"]))
    assert finished.status == Run.Status.COMPLETED and finished.completed == first["total"]
    assert finished.tasks.filter(epoch=2).count() == first["total"] // 2
    assert (
        fake_claude_count(fake_haiku_log) == before + first["total"] // 2
    )  # only the missing samples


def test_report_rows_without_epoch_are_epoch_1_and_bad_epochs_are_refused():
    row = {"scenario_id": "s", "skill": "k", "model": "m", "checks": []}
    assert ScoredRun.from_dict(row).epoch == 1
    assert ScoredRun.from_dict({**row, "epoch": 4}).to_dict()["epoch"] == 4
    for bad in (0, 11, "2", True):
        with pytest.raises(ReportFieldError, match="epoch"):
            check_row({**row, "epoch": bad}, "results[0].")


def test_api_and_run_controls_take_epochs(client, catalog, dispatched):
    response = client.post(
        "/api/heatmap/run",
        {"models": ["heuristic"], "domains": [DOMAIN], "epochs": 3},
        content_type="application/json",
    )
    assert response.status_code in (200, 201, 202), response.content
    run_row = Run.objects.get(run_id=response.json()["run_id"])
    assert run_row.epochs == 3
    bad = client.post(
        "/api/heatmap/run",
        {"models": ["heuristic"], "domains": [DOMAIN], "epochs": 11},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "epochs" in bad.json()["error"]
    page = client.get("/heatmap/")
    assert b'name="epochs"' in page.content
