"""The Claude auditor through the `claude` CLI, driven against tests/fakes/fake_claude."""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path

import pytest

from skillcheck.auditors.base import AuditRequest
from skillcheck.auditors.claude import UNAVAILABLE_REASON, ClaudeAuditor
from skillcheck.auditors.claude_cli import read_result
from skillcheck.auditors.config import AuditorConfig
from skillcheck.auditors.retry import CallFailed, RetryPolicy
from skillcheck.catalog import Catalog, load_catalog
from skillcheck.parser import NOT_SCORED
from skillcheck.scoring import score_task
from tests.fakes import audit_request, fake_claude_calls
from tests.fakes.answers import token_counts

MODEL_ID = "claude-sonnet-4-5"
ISOLATION_FLAGS = [
    *("--tools", ""),
    *("--strict-mcp-config", "--mcp-config", '{"mcpServers": {}}'),
    *("--max-turns", "1"),
    "--safe-mode",
    *("--setting-sources", ""),
]


@pytest.fixture(scope="module")
def catalog(corpus_dir: Path) -> Catalog:
    return load_catalog(corpus_dir)


@pytest.fixture
def request_(catalog: Catalog) -> AuditRequest:
    return audit_request(catalog, catalog.scenarios[0])


@pytest.fixture
def call_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_claude_bin: Path) -> Path:
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_CLAUDE_LOG", str(log))
    return log


def cli_auditor(alias: str = "sonnet", model_id: str = MODEL_ID, **overrides) -> ClaudeAuditor:
    settings = {"max_retries": 2, "backoff_base_s": 0.01, "backoff_cap_s": 0.05, "timeout_s": 20}
    settings.update(overrides)
    return ClaudeAuditor(alias, model_id, AuditorConfig(models={alias: model_id}, **settings))


def process_gone(pid: int) -> bool:
    """True when the process no longer exists or is a zombie nobody has reaped yet."""
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State"))
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "Z" in state.split(":", 1)[1].split()[0]


def test_cli_runs_with_the_agreed_argv_and_scores_every_check(
    catalog: Catalog, request_: AuditRequest, call_log: Path
):
    auditor = cli_auditor()
    assert auditor.availability().via == "cli"

    run = score_task(auditor, request_.scenario, request_.skill, catalog.taxonomy)

    assert run.error is None
    assert len(run.checks) == len(catalog.taxonomy.model_checks) == 30
    assert all(c.summary != NOT_SCORED for c in run.checks)
    assert run.risk_level in ("LOW", "MEDIUM", "HIGH", "CRITICAL")
    [call] = fake_claude_calls(call_log)
    assert call["argv"] == [
        "-p",
        "--model",
        MODEL_ID,
        "--system-prompt",
        request_.system_prompt,
        "--output-format",
        "json",
        "--no-session-persistence",
        *ISOLATION_FLAGS,
    ]
    assert call["stdin_len"] == len(request_.user_prompt)
    expected_in, expected_out = token_counts(
        request_.system_prompt, request_.user_prompt, run.markdown_response
    )
    assert (run.input_tokens, run.output_tokens) == (expected_in, expected_out)
    assert run.cost_usd == pytest.approx((expected_in * 3 + expected_out * 15) / 1e6, abs=1e-6)
    assert run.duration_s > 0


def test_verdicts_are_repeatable_per_model_and_differ_between_models(
    catalog: Catalog, request_: AuditRequest, fake_claude_bin: Path
):
    def results(model_id: str) -> list[str]:
        run = score_task(
            cli_auditor(model_id=model_id), request_.scenario, request_.skill, catalog.taxonomy
        )
        return [c.result for c in run.checks]

    assert results("claude-haiku-4-5") == results("claude-haiku-4-5")
    assert results("claude-haiku-4-5") != results("claude-opus-4-1")


def test_response_records_model_and_attempts(request_: AuditRequest, fake_claude_bin: Path):
    response = cli_auditor().audit(request_)

    assert response.error is None
    assert response.model_id == MODEL_ID
    assert response.attempts == 1
    assert "## Verdict" in response.text


def test_transient_cli_failures_are_retried_until_success(
    request_: AuditRequest, call_log: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FAKE_CLAUDE_FAIL_TIMES", "2")

    response = cli_auditor(max_retries=3).audit(request_)

    assert response.error is None
    assert response.attempts == 3
    assert len(fake_claude_calls(call_log)) == 3


def test_exhausted_retries_end_in_an_error_result(
    request_: AuditRequest, call_log: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FAKE_CLAUDE_FAIL_TIMES", "10")

    response = cli_auditor(max_retries=2).audit(request_)

    assert response.attempts == 3
    assert response.error is not None
    assert response.error.startswith("sonnet via cli: exit 1 after 3 attempts: ")
    assert "fake transient failure" in response.error
    assert response.text == ""
    assert len(fake_claude_calls(call_log)) == 3


def test_a_hung_cli_is_killed_with_its_children_at_the_timeout(
    request_: AuditRequest, call_log: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FAKE_CLAUDE_HANG", "1")
    auditor = cli_auditor(timeout_s=1, max_retries=1)
    auditor.prepare(concurrency=1)  # reads --help before the clock starts
    started = time.monotonic()

    response = auditor.audit(request_)

    elapsed = time.monotonic() - started
    assert response.error == "sonnet via cli: timed out after 1 s after 2 attempts"
    assert response.attempts == 2
    assert 2.0 <= elapsed < 5.0
    pids = [pid for call in fake_claude_calls(call_log) for pid in (call["pid"], call["child_pid"])]
    assert len(pids) == 4
    deadline = time.monotonic() + 3
    while not all(process_gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if not process_gone(pid)] == []


def test_an_authentication_error_answer_is_not_retried(
    request_: AuditRequest, call_log: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FAKE_CLAUDE_IS_ERROR", "1")

    response = cli_auditor(max_retries=3).audit(request_)

    assert response.attempts == 1
    assert response.error == (
        "sonnet via cli: CLI answered with an error after 1 attempt: "
        "Invalid API key · Please run /login"
    )


def test_an_overloaded_error_answer_is_retried(
    request_: AuditRequest, call_log: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FAKE_CLAUDE_IS_ERROR", 'API Error: 529 {"type":"overloaded_error"}')

    response = cli_auditor(max_retries=2).audit(request_)

    assert response.attempts == 3
    assert "overloaded_error" in (response.error or "")
    assert len(fake_claude_calls(call_log)) == 3


def test_non_json_output_is_an_error(
    request_: AuditRequest, fake_claude_bin: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("FAKE_CLAUDE_RAW_STDOUT", "Hello! I am not JSON.")

    response = cli_auditor().audit(request_)

    assert response.error == (
        "sonnet via cli: CLI output is not JSON after 1 attempt: Hello! I am not JSON."
    )


def test_a_hostile_answer_comes_back_verbatim(
    request_: AuditRequest, fake_claude_bin: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    hostile = '## Verdict\n<script>alert(1)</script>\n```json\n{"checks": {}}\n```\n'
    answer_file = tmp_path / "answer.md"
    answer_file.write_text(hostile)
    monkeypatch.setenv("FAKE_CLAUDE_ANSWER_FILE", str(answer_file))

    response = cli_auditor().audit(request_)

    assert response.error is None
    assert response.text == hostile


@pytest.mark.parametrize(
    ("stderr", "transient"),
    [
        ("API Error: Connection error", True),
        ("something odd happened", True),
        ("API Error: 401 invalid x-api-key", False),
        ("error: unknown option '--bogus'", False),
    ],
)
def test_nonzero_exit_is_transient_unless_the_error_is_permanent(stderr: str, transient: bool):
    with pytest.raises(CallFailed) as failed:
        read_result("", stderr, 1, MODEL_ID)
    assert failed.value.transient is transient
    assert failed.value.summary == "exit 1"


@pytest.mark.parametrize(
    ("returncode", "text", "transient"),
    [
        (1, "API Error: Request was aborted.", True),
        (1, "Invalid API key · Please run /login", False),
        (0, "API Error: Request was aborted.", False),
        (0, "API Error: 529 overloaded", True),
    ],
)
def test_an_error_answer_with_a_nonzero_exit_is_transient_unless_permanent(
    returncode: int, text: str, transient: bool
):
    stdout = json.dumps({"type": "result", "subtype": "success", "is_error": True, "result": text})
    with pytest.raises(CallFailed) as failed:
        read_result(stdout, "", returncode, MODEL_ID)
    assert failed.value.transient is transient
    assert failed.value.detail == text


def test_usage_counts_cached_input_tokens(request_: AuditRequest):
    stdout = json.dumps(
        {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "result": "ok",
            "total_cost_usd": 0.25,
            "usage": {
                "input_tokens": 10,
                "output_tokens": 7,
                "cache_creation_input_tokens": 100,
                "cache_read_input_tokens": 1000,
            },
        }
    )
    response = read_result(stdout, "", 0, MODEL_ID)
    assert (response.input_tokens, response.output_tokens, response.cost_usd) == (1110, 7, 0.25)


def test_unavailable_without_binary_or_key(request_: AuditRequest, tmp_path: Path):
    missing = str(tmp_path / "no-such-claude")
    auditor = cli_auditor(claude_bin=missing)

    availability = auditor.availability()
    response = auditor.audit(request_)

    assert not availability.available
    assert availability.reason.startswith(UNAVAILABLE_REASON)
    assert UNAVAILABLE_REASON == "claude CLI not found and ANTHROPIC_API_KEY not set"
    assert missing in availability.reason
    assert response.error is not None and UNAVAILABLE_REASON in response.error
    assert response.attempts == 0


def test_available_through_an_explicit_executable_path(fake_claude_bin: Path, tmp_path: Path):
    auditor = cli_auditor(claude_bin=str(fake_claude_bin))
    assert auditor.availability().via == "cli"
    assert auditor.availability().available


def test_api_key_wins_over_the_cli(fake_claude_bin: Path):
    auditor = cli_auditor(anthropic_api_key="sk-test")
    assert auditor.availability().via == "api"


def test_backoff_is_full_jitter_under_the_cap():
    policy = RetryPolicy(base_s=1.0, cap_s=5.0, rng=random.Random(7))
    for retry in range(6):
        ceiling = min(5.0, 2.0**retry)
        delays = [policy.delay(retry) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8
    assert policy.delay(0, retry_after_s=2.5) == 2.5
    assert policy.delay(0, retry_after_s=3600) == 60.0


# --- isolation ------------------------------------------------------------------------------


def test_each_call_runs_in_a_new_empty_temporary_folder(
    request_: AuditRequest, call_log: Path, monkeypatch: pytest.MonkeyPatch
):
    auditor = cli_auditor()

    auditor.audit(request_)
    auditor.audit(request_)

    first, second = fake_claude_calls(call_log)
    for call in (first, second):
        assert Path(call["cwd"]).name.startswith("skillcheck-claude-")
        assert Path(call["cwd"]).parent == Path(tempfile.gettempdir())
        assert call["cwd_entries"] == []
        assert not Path(call["cwd"]).exists()  # removed after the call
    assert first["cwd"] != second["cwd"]
    assert Path.cwd() != Path(first["cwd"])


def test_help_is_read_once_for_every_model_and_call_of_a_registry(
    request_: AuditRequest, call_log: Path
):
    from skillcheck.auditors.registry import build_registry

    config = AuditorConfig(
        models={"haiku": "claude-haiku-4-5", "sonnet": MODEL_ID},
        max_retries=0,
        timeout_s=20,
    )
    registry = build_registry(config)
    for name in ("haiku", "sonnet"):
        registry[name].prepare(concurrency=2)
        registry[name].audit(request_)
        registry[name].audit(request_)

    assert len(fake_claude_calls(call_log, help=True)) == 1
    assert len(fake_claude_calls(call_log)) == 4
    assert fake_claude_calls(call_log, help=True)[0]["cwd_entries"] == []


@pytest.mark.parametrize(
    ("offered", "flags", "missing"),
    [
        (
            "--tools,--strict-mcp-config,--mcp-config",
            ["--tools", "", "--strict-mcp-config", "--mcp-config", '{"mcpServers": {}}'],
            ["CLAUDE.md, skills, plugins and hooks load (no --safe-mode or --setting-sources)"],
        ),
        (
            "--tools,--strict-mcp-config,--mcp-config,--setting-sources",
            ["--tools", "", "--strict-mcp-config", "--mcp-config", '{"mcpServers": {}}'],
            [],
        ),
        (
            "--bare",
            [],
            ["tools stay on", "MCP servers load", "--bare would need ANTHROPIC_API_KEY"],
        ),
        ("", [], ["tools stay on", "MCP servers load", "no --safe-mode or --setting-sources"]),
    ],
)
def test_an_older_cli_is_run_with_what_it_offers_and_reported_partial(
    request_: AuditRequest,
    call_log: Path,
    monkeypatch: pytest.MonkeyPatch,
    offered: str,
    flags: list[str],
    missing: list[str],
):
    monkeypatch.setenv("FAKE_CLAUDE_FLAGS", offered)
    auditor = cli_auditor()

    response = auditor.audit(request_)
    isolation = auditor.isolation()

    assert response.error is None  # no flag the CLI does not know
    [call] = fake_claude_calls(call_log)
    assert call["argv"][call["argv"].index("--no-session-persistence") + 1 :][: len(flags)] == flags
    assert "--max-turns" in call["argv"]
    assert isolation["level"] == ("full" if not missing else "partial")
    for part in missing:
        assert any(part in item for item in isolation["missing"]), isolation["missing"]
    if missing:
        assert isolation["summary"].startswith("isolation PARTIAL: ")


def test_bare_is_used_only_when_the_cli_gets_an_api_key():
    from skillcheck.auditors.claude_cli import isolation_from_help

    help_text = "  --tools <tools...>\n  --strict-mcp-config\n  --mcp-config <c...>\n  --bare\n"

    without_key = isolation_from_help(help_text)
    with_key = isolation_from_help(help_text, api_key_in_env=True)

    assert "--bare" not in without_key.flags and not without_key.full
    assert "--bare" in with_key.flags and with_key.full


def test_disallowed_tools_in_help_is_not_taken_for_tools():
    from skillcheck.auditors.claude_cli import isolation_from_help

    isolation = isolation_from_help("  --allowedTools <tools...>\n  --disallowedTools <tools...>\n")

    assert "--tools" not in isolation.flags
    assert "tools stay on (no --tools flag)" in isolation.missing
