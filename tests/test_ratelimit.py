"""Adaptive concurrency for the API: backing off on 429/529 and growing back, with the real
SDK against the stub where it matters."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from skillcheck.auditors.claude import ApiAccount, ClaudeAuditor
from skillcheck.auditors.ratelimit import QUIET_AFTER_LIMIT_S, AdaptiveLimit, spent_budget_pause_s
from skillcheck.auditors.registry import build_registry
from skillcheck.catalog import Catalog, load_catalog
from skillcheck.runs import build_tasks, execute_tasks
from tests.fakes import audit_request, stub_config
from tests.fakes.anthropic_stub import AnthropicStub, Reply


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def catalog(corpus_dir: Path) -> Catalog:
    return load_catalog(corpus_dir)


def test_a_rejected_call_lowers_the_limit_to_the_calls_still_in_flight():
    limit = AdaptiveLimit(32, clock=Clock())
    for _ in range(10):
        limit.acquire()
    for _ in range(2):  # two calls rejected: eight stay in flight
        limit.release(throttled=True, retry_after_s=1)
    assert int(limit.limit) == 8
    assert limit.throttled == 2


def test_an_overloaded_answer_halves_the_limit():
    limit = AdaptiveLimit(16, clock=Clock())
    for _ in range(15):
        limit.acquire()
    limit.release(throttled=True, overloaded=True)
    assert int(limit.limit) == 8


def test_one_rejection_never_more_than_halves_the_limit():
    limit = AdaptiveLimit(16, clock=Clock())
    for _ in range(2):
        limit.acquire()
    limit.release(throttled=True)  # one call left in flight: the others wait out retry-after
    assert int(limit.limit) == 8


def test_the_limit_grows_back_after_a_quiet_spell_and_not_before():
    clock = Clock()
    limit = AdaptiveLimit(8, clock=clock)
    for _ in range(5):
        limit.acquire()
    limit.release(throttled=True, retry_after_s=1)  # 4 in flight -> limit 4
    for _ in range(4):
        limit.release()
    assert int(limit.limit) == 4  # still within the quiet spell
    clock.now += QUIET_AFTER_LIMIT_S + 0.1
    for _ in range(40):
        limit.acquire()
        limit.release()
    assert int(limit.limit) == 8  # back to the ceiling, never beyond


def test_a_spent_budget_in_the_headers_pauses_new_calls():
    reset = (datetime.now(UTC) + timedelta(seconds=20)).isoformat().replace("+00:00", "Z")
    headers = {
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": reset,
        "anthropic-ratelimit-tokens-remaining": "5000",
    }
    assert spent_budget_pause_s(headers) == pytest.approx(20, abs=1)
    assert spent_budget_pause_s({"anthropic-ratelimit-requests-remaining": "7"}) is None

    clock = Clock()
    limit = AdaptiveLimit(4, clock=clock)
    limit.acquire()
    limit.release(headers=headers)
    assert limit.paused_until == pytest.approx(clock.now + 20, abs=1)
    clock.now += 21
    limit.acquire()  # the pause is over: returns at once
    assert limit.in_flight == 1


def test_rate_limited_retries_do_not_use_up_the_attempts(
    catalog: Catalog, anthropic_stub: AnthropicStub
):
    anthropic_stub.script(
        *[Reply(status=429, headers={"retry-after": "0"})] * 4, Reply(status=529), Reply()
    )
    auditor = ClaudeAuditor(
        "sonnet", "claude-sonnet-4-6", stub_config(anthropic_stub.base_url, max_retries=1)
    )

    response = auditor.audit(audit_request(catalog, catalog.scenarios[0]))

    assert response.error is None  # max_retries=1, yet five throttled calls did not fail it
    assert response.attempts == 6
    assert len(anthropic_stub.requests) == 6


def test_a_real_failure_still_gets_only_its_attempts(
    catalog: Catalog, anthropic_stub: AnthropicStub
):
    anthropic_stub.script(Reply(status=429, headers={"retry-after": "0"}), *[Reply(status=503)] * 3)
    auditor = ClaudeAuditor(
        "sonnet", "claude-sonnet-4-6", stub_config(anthropic_stub.base_url, max_retries=1)
    )

    response = auditor.audit(audit_request(catalog, catalog.scenarios[0]))

    assert response.error is not None and "HTTP 503" in response.error
    assert len(anthropic_stub.requests) == 3  # one throttled call + two counted attempts


def test_models_of_one_account_share_its_client_and_limit():
    registry = build_registry(stub_config("http://127.0.0.1:9", max_retries=1))
    sonnet, haiku = registry["sonnet"], registry["haiku"]
    assert isinstance(sonnet, ClaudeAuditor) and isinstance(haiku, ClaudeAuditor)
    assert sonnet.account is haiku.account
    assert isinstance(sonnet.account, ApiAccount)


def test_a_run_against_a_concurrency_limited_account_fails_no_task(catalog: Catalog):
    tasks = build_tasks(catalog, domains=None, models=["sonnet", "haiku"])[:24]
    with AnthropicStub(latency_s=0.05, max_concurrent=3, retry_after_s=0.05) as stub:
        registry = build_registry(stub_config(stub.base_url, max_retries=1))
        outcome = execute_tasks(tasks, registry, catalog.taxonomy, run_id="r", concurrency=12)

    assert outcome.status == "completed"
    assert outcome.failed == 0
    assert stub.rate_limited > 0  # it did run into the limit...
    assert stub.peak_concurrent == 3
    assert registry["sonnet"].account.limit.lowest < 12  # ...and backed off from 12


def test_the_engine_prepares_each_auditor_once_before_any_task(catalog: Catalog):
    events: list[str] = []

    class Preparing:
        def __init__(self, name: str) -> None:
            self.name = name

        def availability(self):
            from skillcheck.auditors.base import Availability

            return Availability(True, via="offline")

        def prepare(self, *, concurrency: int) -> None:
            events.append(f"prepare {self.name} {concurrency} {threading.current_thread().name}")

        def audit(self, request):
            from skillcheck.auditors.base import AuditResponse

            events.append("audit")
            return AuditResponse(text="")

    tasks = build_tasks(catalog, domains=None, models=["a", "b"])[:6]
    auditors = {"a": Preparing("a"), "b": Preparing("b")}
    execute_tasks(tasks, auditors, catalog.taxonomy, run_id="r", concurrency=5)

    main = threading.current_thread().name
    assert events[:2] == [f"prepare a 5 {main}", f"prepare b 5 {main}"]
    assert events[2:] == ["audit"] * 6


def test_the_system_prompt_is_built_once_per_run(catalog: Catalog, monkeypatch):
    import skillcheck.scoring

    built = []
    original = skillcheck.scoring.build_system_prompt
    monkeypatch.setattr(
        skillcheck.scoring, "build_system_prompt", lambda t: built.append(1) or original(t)
    )
    from tests.run_helpers import StubAuditor

    tasks = build_tasks(catalog, domains=None, models=["s"])[:10]
    execute_tasks(tasks, {"s": StubAuditor("s")}, catalog.taxonomy, run_id="r", concurrency=3)
    assert len(built) == 1
