"""The CLI auditor's isolation as a run records it: read once per run, stored with the run
and in its report, and shown by ``run_scored --list-models`` and the run page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heatmap.models import Run
from skillcheck.reports import load_scored_report
from tests.fakes import fake_claude_calls
from tests.run_helpers import run_scored

pytestmark = pytest.mark.both_databases

DOMAIN = "competitive-intelligence"


@pytest.fixture(autouse=True)
def cli_models(settings, tmp_path, corpus_dir, fake_claude_bin, monkeypatch):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    settings.SKILLCHECK_CATALOG = corpus_dir
    settings.SKILLCHECK_CLAUDE_BIN = str(fake_claude_bin)
    settings.ANTHROPIC_API_KEY = ""
    monkeypatch.setenv("FAKE_CLAUDE_LOG", str(tmp_path / "calls.jsonl"))
    return tmp_path / "calls.jsonl"


def logged(log: Path) -> tuple[list[dict], list[dict]]:
    """(help calls, audit calls) of the fake CLI."""
    return fake_claude_calls(log, help=True), fake_claude_calls(log)


def test_help_is_read_once_per_run_and_the_isolation_is_recorded(db, cli_models):
    run_scored("--models", "haiku,sonnet", "--domains", DOMAIN, "--concurrency", "4")

    run = Run.objects.get()
    helps, audits = logged(cli_models)
    assert len(helps) == 1
    assert len(audits) == run.total == run.completed > 2
    assert set(run.isolation) == {"haiku", "sonnet"}
    assert run.isolation["sonnet"]["level"] == "full"
    assert "--safe-mode" in run.isolation["sonnet"]["flags"]
    assert load_scored_report(run.report_path).metadata["isolation"] == run.isolation
    assert all(a["cwd_entries"] == [] and "skillcheck-claude-" in a["cwd"] for a in audits)

    run_scored("--models", "sonnet", "--domains", DOMAIN)
    assert len(logged(cli_models)[0]) == 2  # the next run reads it again


def test_a_partial_isolation_is_recorded_and_shown_on_the_run_page(
    db, client, cli_models, monkeypatch
):
    monkeypatch.setenv("FAKE_CLAUDE_FLAGS", "--tools,--strict-mcp-config,--mcp-config")

    run_scored("--models", "sonnet", "--domains", DOMAIN)

    run = Run.objects.get()
    assert run.status == Run.Status.COMPLETED and run.failed == 0
    assert run.isolation["sonnet"]["level"] == "partial"
    page = client.get(f"/runs/{run.run_id}/").content.decode()
    assert "CLI isolation" in page and "sonnet: <strong>partial</strong>" in page
    assert "CLAUDE.md, skills, plugins and hooks load" in page


def test_a_fully_isolated_run_page_says_full(db, client, cli_models):
    run_scored("--models", "sonnet", "--domains", DOMAIN)

    run = Run.objects.get()
    page = client.get(f"/runs/{run.run_id}/").content.decode()
    assert "sonnet: full" in page and "partial" not in page


def test_heuristic_runs_record_no_isolation(db, cli_models):
    run_scored("--models", "heuristic", "--domains", DOMAIN)

    assert Run.objects.get().isolation == {}
    assert not cli_models.exists()  # claude was never asked anything


def test_list_models_says_when_isolation_is_partial(db, cli_models, monkeypatch):
    rows = {r["name"]: r for r in json.loads(run_scored("--list-models", "--json"))}
    assert rows["sonnet"]["isolation"]["level"] == "full"
    assert rows["heuristic"]["isolation"] is None
    assert len(logged(cli_models)[0]) == 1  # once for haiku, sonnet and opus

    monkeypatch.setenv("FAKE_CLAUDE_FLAGS", "")
    out = run_scored("--list-models")
    assert "isolation PARTIAL" in out
    assert "tools stay on" in out
