"""``manage.py run_scored`` in-process: options, output, exit codes, cancel and resume."""

from __future__ import annotations

import io
import json
import os
import re
import signal

import pytest
from django.core.management import CommandError, call_command

from heatmap.models import Run, TaskResult
from heatmap.services import auditors as auditor_services
from heatmap.services import plans
from heatmap.services.execution import run_execute
from heatmap.services.start import run_create
from tests.run_helpers import StubAuditor

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

DOMAIN = "competitive-intelligence"


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path, corpus_dir):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    settings.SKILLCHECK_CATALOG = corpus_dir


@pytest.fixture
def auditors(monkeypatch):
    registry = {
        "heuristic": StubAuditor("heuristic"),
        "sonnet": StubAuditor("sonnet", result="fail"),
        "opus": StubAuditor("opus", available=False),
    }
    monkeypatch.setattr(auditor_services, "auditor_registry", lambda: registry)
    return registry


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("run_scored", *args, stdout=out)
    return out.getvalue()


def test_run_prints_id_and_total_first_then_tables(auditors):
    out = run_command("--models", "heuristic,sonnet", "--domains", DOMAIN)
    run = Run.objects.get()
    first = out.splitlines()[0]
    assert first.startswith(f"Run {run.run_id}: {run.total} tasks")
    assert run.status == "completed" and run.completed == run.total
    assert TaskResult.objects.count() == run.total
    assert "top failing checks" in out and "tokens in/out" in out
    # One unit per column, named in the header.
    assert "pass %" in out and "failed checks" in out and "failed tasks" in out
    assert not re.search(r"\d%", out)
    assert f"Report: {run.report_path}" in out
    assert out.count("] ok ") == run.total  # plain progress lines when not a terminal


def test_default_model_is_sonnet_when_available_else_heuristic(auditors):
    run_command("--domains", DOMAIN)
    assert Run.objects.get().models == ["sonnet"]
    auditors["sonnet"].available = False
    run_command("--domains", DOMAIN)
    assert Run.objects.order_by("-pk").first().models == ["heuristic"]


def test_dry_run_counts_per_model_and_calls_nothing(auditors):
    out = run_command("--models", "heuristic,opus", "--dry-run", "--json")
    data = json.loads(out)
    assert data["per_model"]["heuristic"] == data["per_model"]["opus"] == data["pairs"]
    assert data["total"] == 2 * data["pairs"]
    assert data["estimated_cost_usd"]["heuristic"] == 0.0
    assert Run.objects.count() == 0 and auditors["heuristic"].calls == []


def test_dry_run_table(auditors):
    out = run_command("--models", "heuristic", "--domains", DOMAIN, "--dry-run")
    assert "scenario-skill pairs" in out and "estimated cost" in out


def test_list_models_gives_reasons(auditors):
    rows = json.loads(run_command("--list-models", "--json"))
    opus = next(r for r in rows if r["name"] == "opus")
    assert opus["available"] is False and "switched off" in opus["reason"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--models", "gpt"], r"unknown model\(s\): gpt; valid models: heuristic, sonnet, opus"),
        (["--models", "opus"], "opus is not available: opus is switched off"),
        (["--domains", "nowhere"], r"unknown domain\(s\): nowhere; valid domains: .*wf"),
        (["--concurrency", "100"], "from 1 to 64"),
        (["--resume", "nope"], "no run 'nope'"),
        (["--resume", "../x"], r"invalid run id '\.\./x'"),
        (["--run-id", "a/b"], r"invalid run id 'a/b': a run id has 1 to 64 characters"),
        (["--run-id", "x" * 65], "invalid run id"),
        (["--resume", "x", "--models", "heuristic"], "drop --models"),
        (["--resume", "x", "--concurrency", "8"], "drop --concurrency"),
        (["--models", ","], "--models needs at least one name"),
        (["--domains", ""], "--domains needs at least one name"),
    ],
)
def test_invalid_input_is_a_clear_error_with_exit_code_2(auditors, args, message):
    with pytest.raises(CommandError, match=message) as info:
        run_command(*args)
    assert info.value.returncode == 2


def test_json_summary(auditors):
    data = json.loads(
        run_command("--models", "heuristic,sonnet", "--domains", DOMAIN, "--json", "--run-id", "j1")
    )
    assert data["run_id"] == "j1" and data["status"] == "completed"
    assert data["completed"] == data["total"] and data["resume_command"] is None
    assert {m["name"] for m in data["models"]} == {"heuristic", "sonnet"}
    sonnet = next(m for m in data["models"] if m["name"] == "sonnet")
    assert sonnet["pass_pct"] == 0.0 and sonnet["top_failing"]


def test_sigint_cancels_cleanly_prints_resume_and_resume_finishes(auditors):
    fired = []

    def interrupt(request):
        if len(auditors["heuristic"].calls) == 3 and not fired:
            fired.append(True)
            os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C does
        return False

    auditors["heuristic"].fail_on = interrupt
    auditors["heuristic"].delay_s = 0.05
    out = io.StringIO()
    with pytest.raises(SystemExit) as info:
        call_command(
            "run_scored",
            "--models",
            "heuristic",
            "--concurrency",
            "1",
            "--run-id",
            "c1",
            stdout=out,
        )
    assert info.value.code == 130
    run = Run.objects.get(run_id="c1")
    assert run.status == "cancelled" and 3 <= run.completed < run.total
    assert "python manage.py run_scored --resume c1" in out.getvalue()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored

    auditors["heuristic"].fail_on = None
    calls_before = len(auditors["heuristic"].calls)
    run_command("--resume", "c1")
    run.refresh_from_db()
    assert run.status == "completed" and run.completed == run.total == run.tasks.count()
    assert len(auditors["heuristic"].calls) - calls_before == run.total - calls_before


def test_end_to_end_heuristic_and_two_fake_claude_models_over_the_real_corpus(
    fake_claude_bin, settings, corpus_dir
):
    settings.ANTHROPIC_API_KEY = ""
    settings.SKILLCHECK_CLAUDE_BIN = "claude"
    data = json.loads(
        run_command("--models", "heuristic,haiku,sonnet", "--concurrency", "8", "--json")
    )
    run = Run.objects.get(run_id=data["run_id"])
    pairs = sum(len(s.target_skills) for s in plans.plan_catalog(path=corpus_dir).scenarios)
    assert data["status"] == "completed" and data["total"] == 3 * pairs
    assert data["completed"] == data["total"] and data["failed"] == 0
    assert set(run.tasks.values_list("model", flat=True)) == {"heuristic", "haiku", "sonnet"}
    assert data["input_tokens"] > 0 and data["cost_usd"] > 0
    claude_rows = run.tasks.exclude(model="heuristic")
    assert not claude_rows.filter(risk_level="UNKNOWN").exists()


class TerminalStream(io.StringIO):
    """What ``run_scored`` writes to when its stdout is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_redraws_one_line(auditors):
    auditors["heuristic"].delay_s = 0.05
    out = TerminalStream()
    call_command(
        "run_scored", "--models", "heuristic", "--domains", DOMAIN, "--concurrency", "1", stdout=out
    )
    run = Run.objects.get()
    bar_lines = [line for line in out.getvalue().split("\n") if "auditing" in line]
    assert len(bar_lines) == 1, f"the bar took {len(bar_lines)} lines instead of redrawing one"
    assert f"{run.total}/{run.total}" in bar_lines[0]
    assert "] ok " not in out.getvalue()  # no plain progress lines on a terminal


def test_dry_run_summary_line_counts_in_singular_and_plural(auditors):
    one = run_command("--models", "heuristic", "--domains", DOMAIN, "--dry-run")
    assert one.splitlines()[0].startswith("1 domain × ")
    assert " × 1 model = " in one.splitlines()[0]
    two = run_command("--models", "heuristic,sonnet", "--dry-run")
    assert " domains × " in two.splitlines()[0] and " × 2 models = " in two.splitlines()[0]


class ClosedPipe(io.StringIO):
    """A pipe whose reader went away after ``lines`` lines, as ``run_scored | head`` does."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.lines = lines

    def write(self, text: str) -> int:
        if self.getvalue().count("\n") >= self.lines:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_plain_progress_goes_quiet_when_its_pipe_closes_and_the_run_goes_on(auditors, caplog):
    from heatmap.management.commands._progress import PlainProgress

    stream = ClosedPipe(lines=2)
    progress = PlainProgress(stream)
    run = run_create(domains=[DOMAIN], models=["heuristic"])
    run = run_execute(run=run, listeners=[progress])
    assert run.status == "completed" and run.completed == run.total
    assert stream.getvalue().count("\n") == 2
    assert "a listener failed" not in caplog.text


def test_dry_run_names_the_models_that_cannot_run_here(auditors):
    out = run_command("--models", "heuristic,opus", "--domains", DOMAIN, "--dry-run")
    assert "opus is not available here: opus is switched off for this test" in out
    data = json.loads(run_command("--models", "heuristic,opus", "--dry-run", "--json"))
    assert data["unavailable"] == {"opus": "opus is switched off for this test"}


def test_dry_run_in_batch_mode_names_the_models_a_batch_cannot_take(auditors):
    dry = ("--models", "heuristic", "--domains", DOMAIN, "--batch", "--dry-run")
    assert "heuristic is not available here: batch mode" in run_command(*dry)
    data = json.loads(run_command(*dry, "--json"))
    assert "Anthropic API" in data["unavailable"]["heuristic"]
    with pytest.raises(CommandError, match="batch mode sends tasks through the Anthropic API"):
        run_command(*dry[:-1])


def test_start_line_counts_one_domain_in_singular(auditors):
    out = run_command("--models", "heuristic", "--domains", DOMAIN)
    assert "(catalog apify-skills; heuristic; 1 domain; concurrency 3)" in out.splitlines()[0]
