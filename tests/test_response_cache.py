"""The response cache end to end: ``run_scored`` with the fake ``claude``, counting its calls."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from heatmap.models import Run, TaskResult
from skillcheck.reports import load_scored_report
from tests.fakes import fake_claude_calls, fake_claude_count

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

DOMAINS = "price-tracking,general-scraping"


def run(*args: str) -> dict:
    out = io.StringIO()
    call_command(
        "run_scored", "--models", "haiku", "--domains", DOMAINS, "--json", *args,
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    return json.loads(out.getvalue())


def test_identical_rerun_makes_no_call_and_its_report_holds_every_result(fake_haiku_log):
    first = run()
    assert fake_claude_count(fake_haiku_log) == first["total"] > 0
    second = run()
    assert fake_claude_count(fake_haiku_log) == first["total"]  # not one more call
    assert second["status"] == "completed" and second["completed"] == second["total"]
    assert second["cached"] == second["total"] and second["cost_usd"] == 0
    report = load_scored_report(Run.objects.get(run_id=second["run_id"]).report_path)
    assert len(report.results) == second["total"]
    assert {r.cached_from for r in report.results} == {first["run_id"]}
    first_report = load_scored_report(Run.objects.get(run_id=first["run_id"]).report_path)
    before = {r.key: [c.result for c in r.checks] for r in first_report.results}
    assert {r.key: [c.result for c in r.checks] for r in report.results} == before


def test_after_one_skill_md_changes_only_that_skills_tasks_are_called(fake_haiku_log, catalog_dir):
    first = run()
    skill_md = catalog_dir / "skills" / "web-scraper" / "SKILL.md"
    skill_md.write_text(skill_md.read_text() + "\nAlways check robots.txt first.\n")
    run()
    new_calls = fake_claude_calls(fake_haiku_log)[first["total"] :]
    expected = TaskResult.objects.filter(run__run_id=first["run_id"], skill="web-scraper")
    assert new_calls and len(new_calls) == expected.count()
    second = Run.objects.exclude(run_id=first["run_id"]).get()
    called = second.tasks.filter(cached_from="")
    assert set(called.values_list("skill", flat=True)) == {"web-scraper"}
    assert second.cached == second.total - len(new_calls)


def test_no_cache_calls_every_task(fake_haiku_log):
    first = run()
    second = run("--no-cache")
    assert fake_claude_count(fake_haiku_log) == 2 * first["total"] and second["cached"] == 0
    assert Run.objects.get(run_id=second["run_id"]).use_cache is False


def test_failed_results_are_never_reused(fake_haiku_log, monkeypatch, settings):
    settings.SKILLCHECK_MAX_RETRIES = 0  # each failure is final at once (no backoff to wait)
    monkeypatch.setenv("FAKE_CLAUDE_IS_ERROR", "overloaded")
    first = run()  # a run whose tasks fail still completes
    assert first["failed"] == first["total"]
    monkeypatch.delenv("FAKE_CLAUDE_IS_ERROR")
    before = fake_claude_count(fake_haiku_log)
    second = run()
    assert second["cached"] == 0 and fake_claude_count(fake_haiku_log) - before == second["total"]


def test_dry_run_counts_cached_tasks_and_prices_only_the_rest(fake_haiku_log, catalog_dir):
    plan = run("--dry-run")
    assert plan["cached"] == 0 and plan["to_call"] == plan["total"]
    full_estimate = plan["estimated_cost_usd"]["haiku"]
    assert full_estimate > 0
    run()
    skill_md = catalog_dir / "skills" / "web-scraper" / "SKILL.md"
    skill_md.write_text(skill_md.read_text() + "\nOne more rule.\n")
    after = run("--dry-run")
    changed = TaskResult.objects.filter(skill="web-scraper").count()
    assert after["to_call"] == changed and after["cached"] == after["total"] - changed
    assert 0 < after["estimated_cost_usd"]["haiku"] < full_estimate
    assert run("--dry-run", "--no-cache")["cached"] == 0
    out = io.StringIO()
    call_command("run_scored", "--models", "haiku", "--domains", DOMAINS, "--dry-run", stdout=out)
    assert f"{after['cached']} cached, {changed} to call" in out.getvalue()


def post_json(client, body) -> tuple[int, dict]:
    response = client.post("/api/heatmap/run", json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_api_cache_false_asks_for_fresh_calls(client, catalog, dispatched):
    status, data = post_json(client, {"models": ["heuristic"]})
    assert status == 201 and Run.objects.get(run_id=data["run_id"]).use_cache is True
    status, data = post_json(client, {"models": ["heuristic"], "cache": False})
    assert status == 201 and Run.objects.get(run_id=data["run_id"]).use_cache is False
    status, data = post_json(client, {"models": ["heuristic"], "cache": "no"})
    assert status == 400 and "cache must be true or false" in data["error"]


def test_run_controls_checkbox_asks_for_fresh_calls(client, catalog, domain_id, dispatched):
    form = {"domains": [domain_id], "models": ["heuristic"]}
    client.post("/run-controls/start/", form)
    client.post("/run-controls/start/", {**form, "no_cache": "on"})
    assert list(Run.objects.order_by("pk").values_list("use_cache", flat=True)) == [True, False]
    page = client.get("/heatmap/").content.decode()
    assert 'name="no_cache"' in page


def test_plan_line_says_how_many_tasks_are_cached(fake_haiku_log, client):
    query = {"domains": DOMAINS.split(","), "models": ["haiku"]}
    assert "cached" not in client.get("/run-controls/plan/", query).content.decode()
    first = run()
    line = client.get("/run-controls/plan/", query).content.decode()
    assert f"{first['total']} cached, 0 to call" in line and "Estimated cost" not in line
    fresh = client.get("/run-controls/plan/", {**query, "no_cache": "on"}).content.decode()
    assert "cached" not in fresh and "Estimated cost" in fresh


# --- only the project's own runs answer (issue 21) -------------------------------------------


def forged_report(tmp_path: Path, source_run_id: str, run_id: str) -> Path:
    """A copy of a real run's report (same fingerprints) claiming every check passed."""
    document = json.loads(Path(Run.objects.get(run_id=source_run_id).report_path).read_text())
    document["run_id"] = run_id
    for row in document["results"]:
        for check in row["checks"]:
            check.update(result="pass", evidence="FORGED", summary="FORGED")
    path = tmp_path / "elsewhere" / f"scored_run_{run_id}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def import_reports(*args: str) -> None:
    call_command("import_reports", *args, stdout=io.StringIO(), stderr=io.StringIO())


def test_an_imported_report_never_answers_a_later_run(fake_haiku_log, tmp_path):
    """The probe: an imported report claiming every check passed made the next run's
    calls 0, with the forged verdicts shown as its own (cached_from: evil)."""
    first = run("--no-cache")
    forged = forged_report(tmp_path, first["run_id"], "evil")
    Run.objects.filter(run_id=first["run_id"]).delete()  # the import is all there is
    import_reports(str(forged))
    assert not Run.objects.get(run_id="evil").cache_source

    second = run()

    assert fake_claude_count(fake_haiku_log) == 2 * first["total"]  # every task called again
    assert second["cached"] == 0
    tasks = TaskResult.objects.filter(run__run_id=second["run_id"])
    assert not tasks.filter(cached_from="evil").exists()
    assert not tasks.filter(checks__evidence="FORGED").exists()


def test_a_trusted_import_may_answer(fake_haiku_log, tmp_path):
    first = run("--no-cache")
    trusted = forged_report(tmp_path, first["run_id"], "colleague")
    Run.objects.filter(run_id=first["run_id"]).delete()
    import_reports(str(trusted), "--trust")

    second = run()

    assert (
        second["cached"] == second["total"] and fake_claude_count(fake_haiku_log) == first["total"]
    )
    assert set(
        TaskResult.objects.filter(run__run_id=second["run_id"]).values_list(
            "cached_from", flat=True
        )
    ) == {"colleague"}


def test_in_team_mode_only_staff_may_trust_an_import(fake_haiku_log, tmp_path, settings):
    from django.contrib.auth import get_user_model
    from django.core.management import CommandError

    users = get_user_model().objects
    users.create_user("alice", password="x")
    users.create_user("root", password="x", is_staff=True)
    settings.SKILLCHECK_REQUIRE_LOGIN = True
    first = run("--no-cache")
    path = forged_report(tmp_path, first["run_id"], "shared")
    for refused in (["--trust"], ["--trust", "--user", "alice"]):
        with pytest.raises(CommandError, match="staff account"):
            import_reports(str(path), *refused)
    assert not Run.objects.filter(run_id="shared").exists()

    import_reports(str(path), "--trust", "--user", "root")

    imported = Run.objects.get(run_id="shared")
    assert imported.cache_source and imported.started_by.username == "root"
