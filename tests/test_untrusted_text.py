"""Text from models, reports and catalogs cannot break a run: it is cleaned where it enters.

Written with the ``db`` fixture only, so the same tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from heatmap.models import CheckResult, Run, TaskResult
from heatmap.services.execution import run_execute
from heatmap.services.start import run_create
from skillcheck.reports import load_scored_report
from skillcheck.text import REPLACEMENT
from tests.fakes import fake_claude_calls
from tests.fakes.anthropic_stub import AnthropicStub
from tests.run_helpers import run_scored
from tests.test_anthropic_api import api_auditor

pytestmark = pytest.mark.both_databases

DOMAIN = "competitive-intelligence"
CLEANED = f"{REPLACEMENT} and {REPLACEMENT}"  # what answers.HOSTILE becomes


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path, corpus_dir):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    settings.SKILLCHECK_CATALOG = corpus_dir


@pytest.fixture
def cli_sonnet(settings, fake_claude_bin):
    """``sonnet`` through the fake ``claude`` CLI."""
    settings.SKILLCHECK_CLAUDE_BIN = str(fake_claude_bin)
    settings.ANTHROPIC_API_KEY = ""


def assert_every_task_recorded_clean(run: Run) -> None:
    run.refresh_from_db()
    assert run.status == Run.Status.COMPLETED
    assert run.failed == 0
    assert run.completed == run.total == TaskResult.objects.filter(run=run).count() > 0
    evidence = CheckResult.objects.filter(task__run=run).values_list("evidence", flat=True)
    assert evidence and all(e.endswith(CLEANED) for e in evidence)
    assert all(CLEANED in t.markdown_response for t in run.tasks.all())
    report = load_scored_report(run.report_path)
    assert len(report.results) == run.total
    assert all(c.evidence.endswith(CLEANED) for r in report.results for c in r.checks)


def test_cli_answers_with_a_lone_surrogate_and_nul_complete_every_task(
    db, cli_sonnet, monkeypatch, tmp_path: Path
):
    monkeypatch.setenv("FAKE_CLAUDE_HOSTILE", "1")
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_CLAUDE_LOG", str(log))

    def audit_calls() -> int:
        return len(fake_claude_calls(log))

    run_scored("--models", "sonnet", "--domains", DOMAIN)

    run = Run.objects.get()
    assert_every_task_recorded_clean(run)
    assert audit_calls() == run.total

    run_scored("--resume", run.run_id)  # nothing failed, so nothing is paid for again

    assert audit_calls() == run.total
    assert_every_task_recorded_clean(run)


def test_api_answers_with_a_lone_surrogate_and_nul_complete_every_task(
    db, anthropic_stub: AnthropicStub, corpus_dir
):
    anthropic_stub.hostile = True
    auditors = {"sonnet": api_auditor(anthropic_stub.base_url)}
    run = run_create(
        domains=[DOMAIN], models=["sonnet"], catalog_path=corpus_dir, auditors=auditors
    )

    run = run_execute(run=run, auditors=auditors)

    assert_every_task_recorded_clean(run)


SKILL_MD = """---
name: odd-skill
description: Scrapes public pages. Use when asked to scrape.
---

# Odd skill

Step 1: run the Actor.\x00 Step 2: read the dataset.
"""
SCENARIOS = r"""domain: "odd\ud800domain"
target_skill: odd-skill
scenarios:
  - id: "odd-1"
    name: "Name with \ud800 and \0"
    prompt: "Scrape the prices \udfff of \0 10 shops"
"""


def test_a_catalog_with_surrogates_and_nul_runs_to_the_end(db, tmp_path: Path):
    root = tmp_path / "catalog"
    (root / "skills" / "odd").mkdir(parents=True)
    (root / "skills" / "odd" / "SKILL.md").write_text(SKILL_MD, encoding="utf-8")
    (root / "skills_manifest.yaml").write_text(
        "skills:\n  odd-skill: {path: skills/odd/SKILL.md, category: dispatcher}\n"
    )
    (root / "scenarios").mkdir()
    (root / "scenarios" / "odd.yaml").write_text(SCENARIOS, encoding="utf-8")

    run_scored("--catalog", str(root), "--models", "heuristic")

    run = Run.objects.get()
    assert run.status == Run.Status.COMPLETED and run.completed == run.total == 1
    assert run.domains == [f"odd{REPLACEMENT}domain"]
    task = run.tasks.get()
    assert task.domain == f"odd{REPLACEMENT}domain" and task.error == ""
    assert len(load_scored_report(run.report_path).results) == 1


def test_a_report_with_escaped_surrogates_and_nul_imports(db, tmp_path: Path):
    report = {
        "type": "scored",
        "run_id": "odd-report",
        "models": ["sonnet"],
        "results": [
            {
                "scenario_id": "s1\ud800",
                "skill": "k\u0000",
                "model": "sonnet",
                "markdown_response": "answer \ud800 \u0000",
                "error": None,
                "checks": [{"check_id": "WF-1", "result": "fail", "evidence": "e\ud800\u0000"}],
            }
        ],
    }
    path = tmp_path / "scored_run_odd-report.json"
    path.write_text(json.dumps(report), encoding="utf-8")  # ASCII: the escapes stay escapes

    out = io.StringIO()
    call_command("import_reports", str(path), stdout=out, stderr=out)

    task = TaskResult.objects.get()
    assert (task.scenario_id, task.skill) == (f"s1{REPLACEMENT}", f"k{REPLACEMENT}")
    assert task.markdown_response == f"answer {REPLACEMENT} {REPLACEMENT}"
    assert task.checks.get().evidence == f"e{REPLACEMENT}{REPLACEMENT}"


# --- an answer without a readable JSON block is a failed task -------------------------------


def test_an_unparseable_answer_is_a_failed_task_that_resume_redoes(
    db, cli_sonnet, monkeypatch, tmp_path: Path
):
    answer = tmp_path / "answer.md"
    answer.write_text('## Approach\nI would rather not say.\n\n```json\n{"checks": \n```\n')
    monkeypatch.setenv("FAKE_CLAUDE_ANSWER_FILE", str(answer))

    run_scored("--models", "sonnet", "--domains", DOMAIN)

    run = Run.objects.get()
    assert run.status == Run.Status.COMPLETED
    assert run.failed == run.completed == run.total > 0
    task = run.tasks.first()
    assert task.error.startswith("sonnet: unparseable answer: broken JSON block")
    assert task.markdown_response == answer.read_text()
    assert all(c.result == "unclear" for c in task.checks.all())
    [row] = [
        r
        for r in load_scored_report(run.report_path).results
        if r.key == (task.scenario_id, task.skill, task.model, task.epoch)
    ]
    assert row.error == task.error and row.markdown_response == answer.read_text()

    monkeypatch.delenv("FAKE_CLAUDE_ANSWER_FILE")
    run_scored("--resume", run.run_id)

    run.refresh_from_db()
    assert run.status == Run.Status.COMPLETED and run.failed == 0
    assert run.completed == run.total == run.tasks.count()
    assert not run.tasks.exclude(error="").exists()


def test_an_answer_with_no_json_block_is_a_failed_task(db, cli_sonnet, monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_CLAUDE_RAW_STDOUT", json.dumps({"result": "Just prose."}))

    run_scored("--models", "sonnet", "--domains", DOMAIN)

    run = Run.objects.get()
    assert run.failed == run.total
    assert {t.error for t in run.tasks.all()} == {
        "sonnet: unparseable answer: no JSON block in the answer"
    }
    assert {t.markdown_response for t in run.tasks.all()} == {"Just prose."}
