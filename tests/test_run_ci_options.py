"""``run_scored`` and ``compare_runs`` for CI: JUnit, Markdown, ``--fail-under``, exit codes,
and the original CLI's ``-s``, ``--skill``, ``--list`` and ``-o``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from junitparser import JUnitXml

from heatmap.models import Run, TaskResult
from skillcheck.gates import ExitCode
from tests.test_compare_runs import REGRESSED, two_runs
from tests.test_run_scored_command import auditors, isolated  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.django_db]
DOMAIN = "competitive-intelligence"


def run_command(*args: str) -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command("run_scored", *args, stdout=out)
    except SystemExit as exc:
        return out.getvalue(), int(exc.code or 0)
    return out.getvalue(), 0


def test_junit_counts_the_runs_failed_checks(auditors, tmp_path):  # noqa: F811
    junit, markdown = tmp_path / "ci" / "junit.xml", tmp_path / "summary.md"
    out, code = run_command(
        *("--models", "heuristic,sonnet", "--domains", DOMAIN, "--json"),
        *("--junit-xml", str(junit), "--markdown", str(markdown)),
    )
    assert code == 0
    data = json.loads(out)
    run = Run.objects.get()
    document = JUnitXml.fromfile(str(junit))
    fails = sum(s["fails"] for s in data["skills"])
    assert fails > 0 and document.failures == fails
    checks = sum(t.checks.count() for t in TaskResult.objects.all())
    assert document.tests == checks
    text = markdown.read_text()
    assert f"`{run.run_id}`" in text and "| sonnet |" in text and "Most failed checks" in text


def test_fail_under_is_a_gate(auditors):  # noqa: F811
    # The stub "sonnet" fails every check, "heuristic" passes every one: 50 %.
    args = ("--models", "heuristic,sonnet", "--domains", DOMAIN)
    assert run_command(*args, "--fail-under", "50")[1] == 0
    assert run_command(*args, "--fail-under", "50.1")[1] == ExitCode.GATE_FAILED


def test_an_errored_task_is_a_junit_error_and_not_run_tasks_are_skipped(auditors, tmp_path):  # noqa: F811
    auditors["heuristic"].fail_on = lambda request: request.scenario.id.endswith("1")
    junit = tmp_path / "junit.xml"
    _, code = run_command("--models", "heuristic", "--domains", DOMAIN, "--junit-xml", str(junit))
    assert code == 0
    document = JUnitXml.fromfile(str(junit))
    errored = TaskResult.objects.exclude(error="").count()
    assert errored and document.errors % errored == 0 and document.errors > 0


def test_scenario_and_skill_choose_the_tasks(auditors, corpus_dir):  # noqa: F811
    run_command("--models", "heuristic", "-s", "ci-1", "--scenario", "ci-2")
    assert {t.scenario_id for t in TaskResult.objects.all()} == {"ci-1", "ci-2"}
    TaskResult.objects.all().delete()
    run_command("--models", "heuristic", "-s", "ci-1,ci-2", "--skill", "apify-ultimate-scraper")
    rows = set(TaskResult.objects.values_list("scenario_id", "skill"))
    assert rows == {("ci-1", "apify-ultimate-scraper"), ("ci-2", "apify-ultimate-scraper")}
    with pytest.raises(CommandError, match="unknown scenario"):
        run_command("--models", "heuristic", "-s", "nope")
    with pytest.raises(CommandError, match="unknown skill"):
        run_command("--models", "heuristic", "--skill", "nope")


def test_output_is_the_reports_folder(auditors, tmp_path):  # noqa: F811
    run_command("--models", "heuristic", "-s", "ci-1", "-o", str(tmp_path / "out"))
    run = Run.objects.get()
    assert (tmp_path / "out" / f"scored_run_{run.run_id}.json").is_file()


def test_list_prints_domains_scenarios_and_skills(auditors):  # noqa: F811
    out, code = run_command("--list", "--json")
    domains = {d["id"]: d for d in json.loads(out)["domains"]}
    ci = {s["id"]: s["skills"] for s in domains[DOMAIN]["scenarios"]}
    assert ci["ci-1"] == ["apify-competitor-intelligence", "apify-ultimate-scraper"]
    assert code == 0 and not Run.objects.exists()
    text, _ = run_command("--list")
    assert DOMAIN in text and "ci-1" in text


@pytest.mark.usefixtures("catalog")
def test_compare_writes_junit_failing_the_regressions_and_markdown(tmp_path):
    base, new = two_runs(REGRESSED)
    junit, markdown = tmp_path / "c.xml", tmp_path / "c.md"
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "compare_runs",
            base.run_id,
            new.run_id,
            "--junit-xml",
            str(junit),
            "--markdown",
            str(markdown),
            "--fail-on-regression",
            stdout=out,
        )
    assert exit_info.value.code == ExitCode.GATE_FAILED
    document = JUnitXml.fromfile(str(junit))
    assert document.failures == 2  # WF-1 and SEC-1 lost their pass
    assert document.skipped == 1  # the task only in the new run
    text = markdown.read_text()
    assert "**2 regressions**, 1 improvements" in text
    assert "| web-price-tracker | 2 | 1 | 0 |" in text


def test_tasks_a_stopped_run_never_ran_are_skipped_cases(corpus_dir):
    from heatmap import exports
    from heatmap.services.catalogs import catalog_for_path
    from skillcheck.catalog import load_catalog

    catalog = load_catalog(corpus_dir)
    run = Run.objects.create(
        run_id="stopped-1",
        status=Run.Status.CANCELLED,
        models=["heuristic"],
        domains=[DOMAIN],
        catalog=catalog_for_path(root=corpus_dir, loaded=False),
        catalog_path=str(corpus_dir),
    )
    document = exports.run_junit_document(run=run)
    tasks = sum(len(s.target_skills) for s in catalog.domains[DOMAIN].scenarios)
    checks = len(catalog.taxonomy.model_checks)
    assert document.tests == document.skipped == tasks * checks
    assert document.failures == document.errors == 0


def test_the_run_page_offers_the_markdown_summary(client, auditors):  # noqa: F811
    run_command("--models", "heuristic,sonnet", "--domains", DOMAIN)
    run = Run.objects.get()
    page = client.get(f"/runs/{run.run_id}/").content.decode()
    assert f"/runs/{run.run_id}/summary.md" in page
    response = client.get(f"/runs/{run.run_id}/summary.md")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert f'filename="skillcheck-{run.run_id}.md"' in response["Content-Disposition"]
    text = response.content.decode()
    assert f"`{run.run_id}`" in text and "| sonnet |" in text
    assert client.get("/runs/nope-1/summary.md").status_code == 404
