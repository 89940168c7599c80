"""The Claude auditor through the real `anthropic` SDK, against the 127.0.0.1 stub."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from skillcheck.auditors.base import AuditRequest
from skillcheck.auditors.claude import ClaudeAuditor
from skillcheck.auditors.config import AuditorConfig
from skillcheck.auditors.pricing import cost_usd, price_for
from skillcheck.catalog import Catalog, load_catalog
from skillcheck.parser import NOT_SCORED
from skillcheck.scoring import score_task
from tests.fakes import audit_request, stub_config
from tests.fakes.answers import stable
from tests.fakes.anthropic_stub import AnthropicStub, Reply

MODEL_ID = "claude-sonnet-4-6"


@pytest.fixture(scope="module")
def catalog(corpus_dir: Path) -> Catalog:
    return load_catalog(corpus_dir)


@pytest.fixture
def request_(catalog: Catalog) -> AuditRequest:
    return audit_request(catalog, catalog.scenarios[-1])


def api_auditor(base_url: str, model_id: str = MODEL_ID, **overrides) -> ClaudeAuditor:
    config = stub_config(base_url, **{"max_retries": 2, **overrides})
    return ClaudeAuditor("sonnet", model_id, config)


def test_api_request_carries_model_system_prompt_and_key(
    catalog: Catalog, request_: AuditRequest, anthropic_stub: AnthropicStub
):
    auditor = api_auditor(anthropic_stub.base_url)
    assert auditor.availability().via == "api"

    run = score_task(auditor, request_.scenario, request_.skill, catalog.taxonomy)

    assert run.error is None
    assert len(run.checks) == 30
    assert all(c.summary != NOT_SCORED for c in run.checks)
    [sent] = anthropic_stub.requests
    assert sent.path == "/v1/messages"
    # SDK versions send the key as x-api-key or, lately, as a bearer token.
    assert "sk-test-key" in (
        sent.headers.get("x-api-key"),
        sent.headers.get("authorization", "").removeprefix("Bearer "),
    )
    assert sent.body["model"] == MODEL_ID
    assert sent.body["system"] == request_.system_prompt
    # Each call draws its own boundary marker; everything else is the same prompt, in two
    # blocks: the skill's documents, then the scenario.
    [message] = sent.body["messages"]
    assert message["role"] == "user"
    content = "\n".join(block["text"] for block in message["content"])
    assert stable(content) == stable(request_.user_prompt)
    assert sent.body["max_tokens"] == AuditorConfig().max_tokens


def test_tokens_and_cost_come_from_usage(request_: AuditRequest, anthropic_stub: AnthropicStub):
    anthropic_stub.script(Reply(usage={"input_tokens": 1000, "output_tokens": 2000}))

    response = api_auditor(anthropic_stub.base_url).audit(request_)

    assert response.error is None
    assert (response.input_tokens, response.output_tokens) == (1000, 2000)
    assert response.cost_usd == pytest.approx(1000 * 3e-6 + 2000 * 15e-6)
    assert response.model_id == MODEL_ID
    assert response.attempts == 1
    assert response.duration_s > 0


def test_an_unknown_model_costs_nothing_but_still_counts_tokens(
    request_: AuditRequest, anthropic_stub: AnthropicStub
):
    anthropic_stub.script(Reply(usage={"input_tokens": 50, "output_tokens": 60}))

    response = api_auditor(anthropic_stub.base_url, model_id="mystery-model-1").audit(request_)

    assert response.error is None
    assert (response.input_tokens, response.output_tokens, response.cost_usd) == (50, 60, 0.0)


def test_overloaded_then_ok_succeeds_on_the_second_attempt(
    request_: AuditRequest, anthropic_stub: AnthropicStub
):
    anthropic_stub.script(Reply(status=529), Reply())

    response = api_auditor(anthropic_stub.base_url).audit(request_)

    assert response.error is None
    assert response.attempts == 2
    assert len(anthropic_stub.requests) == 2
    assert "```json" in response.text


def test_rate_limit_waits_for_retry_after(request_: AuditRequest, anthropic_stub: AnthropicStub):
    anthropic_stub.script(Reply(status=429, headers={"retry-after": "0.6"}), Reply())
    started = time.monotonic()

    response = api_auditor(anthropic_stub.base_url).audit(request_)

    assert response.error is None
    assert response.attempts == 2
    assert time.monotonic() - started >= 0.6


def test_persistent_server_errors_exhaust_the_retries(
    request_: AuditRequest, anthropic_stub: AnthropicStub
):
    anthropic_stub.script(*[Reply(status=503)] * 5)

    response = api_auditor(anthropic_stub.base_url, max_retries=2).audit(request_)

    assert response.attempts == 3
    assert response.error == (
        "sonnet via api: HTTP 503 api_error after 3 attempts: Service unavailable"
    )
    assert response.text == ""
    assert len(anthropic_stub.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_fail_at_once(
    request_: AuditRequest, anthropic_stub: AnthropicStub, status: int
):
    anthropic_stub.script(Reply(status=status), Reply())

    response = api_auditor(anthropic_stub.base_url, max_retries=3).audit(request_)

    assert response.attempts == 1
    assert response.error is not None
    assert response.error.startswith(f"sonnet via api: HTTP {status} ")
    assert len(anthropic_stub.requests) == 1


def test_a_stalled_server_times_out(request_: AuditRequest, anthropic_stub: AnthropicStub):
    anthropic_stub.script(Reply(stall_s=30), Reply(stall_s=30))
    started = time.monotonic()

    response = api_auditor(anthropic_stub.base_url, timeout_s=0.4, max_retries=1).audit(request_)

    assert response.error == "sonnet via api: timed out after 0.4 s after 2 attempts"
    assert time.monotonic() - started < 4


def test_a_refused_connection_is_retried_then_reported(request_: AuditRequest):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    response = api_auditor(f"http://127.0.0.1:{port}", max_retries=1).audit(request_)

    assert response.attempts == 2
    assert response.error is not None
    assert response.error.startswith("sonnet via api: connection error after 2 attempts")


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("claude-haiku-4-5", 1.0 * 2 + 5.0),
        ("claude-sonnet-4-5-20250929", 3.0 * 2 + 15.0),
        ("claude-opus-4-1", 15.0 * 2 + 75.0),
        ("claude-3-5-haiku-latest", 0.8 * 2 + 4.0),
        ("gpt-4o", 0.0),
    ],
)
def test_prices_by_model_family(model_id: str, expected: float):
    assert cost_usd(model_id, 2_000_000, 1_000_000) == pytest.approx(expected)


def test_cache_tokens_are_priced_as_writes_and_reads():
    price = price_for("claude-sonnet-4-5")
    assert price is not None
    assert cost_usd("claude-sonnet-4-5", 0, 0, 1_000_000, 1_000_000) == pytest.approx(
        3.0 * 1.25 + 3.0 * 0.1
    )


@pytest.mark.parametrize("collecting", [True, False])
def test_creating_the_client_leaves_the_garbage_collector_as_it_found_it(
    anthropic_stub: AnthropicStub, collecting: bool
):
    """The SDK is imported with the collector paused (it is faster); the pause must end."""
    import gc

    from skillcheck.auditors.claude import ApiAccount

    was = gc.isenabled()
    (gc.enable if collecting else gc.disable)()
    try:
        client = ApiAccount(stub_config(anthropic_stub.base_url)).client()
        assert str(client.base_url).startswith(anthropic_stub.base_url)
        assert gc.isenabled() is collecting
    finally:
        (gc.enable if was else gc.disable)()
