"""Claude as an auditor: the Anthropic API when a key is set, else the Claude Code CLI.

The provider is chosen at each call (not at construction), so a key or a binary that
appears later is picked up. Every provider failure ends as ``AuditResponse.error`` after
bounded retries; ``audit`` itself never raises for one.
"""

from __future__ import annotations

import gc
import threading
import time
from types import ModuleType
from typing import TYPE_CHECKING, Any

from skillcheck.auditors.base import AuditRequest, AuditResponse, Availability
from skillcheck.auditors.claude_cli import Isolation, detect_isolation, resolve_binary, run_cli
from skillcheck.auditors.config import AuditorConfig
from skillcheck.auditors.ratelimit import AdaptiveLimit
from skillcheck.auditors.retry import CallFailed, Outcome, RetryPolicy, call_with_retries

if TYPE_CHECKING:
    import anthropic

UNAVAILABLE_REASON = "claude CLI not found and ANTHROPIC_API_KEY not set"


def _import_sdk() -> ModuleType:
    """The API module, imported on first use with the cyclic garbage collector paused.

    Imported late: the SDK takes a second or two to import, and CLI-only or offline runs (and
    every web request that only lists models) never need it. Paused: building the SDK's
    ~1,500 pydantic models sets off 340 collections that find 763 objects to free in all; the
    import takes 9 % less CPU without them (1.70 instead of 1.87 s, median of 5, here).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        from skillcheck.auditors import anthropic_api
    finally:
        if collecting:
            gc.enable()
    return anthropic_api


class ApiAccount:
    """One Anthropic account as the auditors share it: one client (one connection pool)
    and one adaptive concurrency limit, whichever model a call is for; and, for the CLI, the
    isolation flags read once from ``claude --help`` (a registry serves one run)."""

    def __init__(self, config: AuditorConfig):
        self.config = config
        self.limit = AdaptiveLimit()
        self._client: anthropic.Anthropic | None = None
        self._lock = threading.Lock()
        self._isolation: dict[str, Isolation] = {}  # binary -> its isolation

    def cli_isolation(self, binary: str) -> Isolation:
        with self._lock:
            if binary not in self._isolation:
                self._isolation[binary] = detect_isolation(binary)
            return self._isolation[binary]

    def client(self) -> anthropic.Anthropic:
        with self._lock:
            if self._client is None:
                self._client = _import_sdk().make_client(
                    self.config.anthropic_api_key,
                    self.config.anthropic_base_url,
                    self.config.timeout_s,
                )
            return self._client


class ClaudeAuditor:
    """``duration_s`` is the wall time of the whole audit, retries and backoff included;
    tokens and cost are those of the attempt that answered."""

    def __init__(
        self, alias: str, model_id: str, config: AuditorConfig, account: ApiAccount | None = None
    ):
        self.name = alias
        self.model_id = model_id
        self.config = config
        self.retry_policy = RetryPolicy(
            max_retries=max(config.max_retries, 0),
            base_s=config.backoff_base_s,
            cap_s=config.backoff_cap_s,
        )
        self.account = account or ApiAccount(config)

    def __repr__(self) -> str:
        return f"ClaudeAuditor({self.name!r}, {self.model_id!r})"

    def availability(self) -> Availability:
        if self.config.anthropic_api_key:
            return Availability(True, f"Anthropic API, model {self.model_id}", via="api")
        binary = resolve_binary(self.config.claude_bin)
        if binary:
            return Availability(True, f"claude CLI at {binary}, model {self.model_id}", via="cli")
        return Availability(
            False, f"{UNAVAILABLE_REASON} (looked for {self.config.claude_bin!r})", via=""
        )

    def prepare(self, *, concurrency: int) -> None:
        """Before a run's workers start: import the SDK, create the client, size the limit;
        or read the CLI's isolation flags."""
        via = self.availability().via
        if via == "api":
            self.account.client()
            self.account.limit.configure(concurrency)
        elif via == "cli":
            self.isolation()

    def isolation(self) -> dict[str, Any] | None:
        """How calls are isolated, for the run's record: the CLI's flags and what is
        missing; None through the API (no tools, no local files to isolate from)."""
        if self.availability().via != "cli":
            return None
        return self.account.cli_isolation(self._binary()).to_dict()

    def _binary(self) -> str:
        return resolve_binary(self.config.claude_bin) or self.config.claude_bin

    def message_params(self, request: AuditRequest) -> dict:
        """The API request for ``request`` (also what a batch carries for it)."""
        from skillcheck.auditors.anthropic_api import message_params

        return message_params(
            self.model_id, request, self.config.max_tokens, caching=self.config.prompt_caching
        )

    def audit(self, request: AuditRequest) -> AuditResponse:
        started = time.monotonic()
        availability = self.availability()
        if not availability.available:
            return AuditResponse(
                error=f"{self.name}: {availability.reason}", model_id=self.model_id, attempts=0
            )
        timeout_s = self.config.timeout_s
        if availability.via == "api":
            from skillcheck.auditors.anthropic_api import call_api

            client = self.account.client()
            params = self.message_params(request)

            def call() -> AuditResponse:
                return call_api(client, params, timeout_s, self.account.limit)
        else:
            binary = self._binary()
            isolation = self.account.cli_isolation(binary)

            def call() -> AuditResponse:
                return run_cli(
                    binary,
                    self.model_id,
                    request.system_prompt,
                    request.user_prompt,
                    timeout_s,
                    isolation,
                )

        try:
            outcome = call_with_retries(call, self.retry_policy)
        except Exception as exc:  # a bug or a malformed reply must not stop a run
            failure = CallFailed(type(exc).__name__, str(exc)[:500], transient=False)
            outcome = Outcome(None, failure, 1)
        duration = time.monotonic() - started
        calls = outcome.attempts + outcome.throttled
        if outcome.value is not None:
            response = outcome.value
            response.duration_s = duration
            response.attempts = calls
            response.model_id = response.model_id or self.model_id
            return response
        return AuditResponse(
            duration_s=duration,
            error=self._error_message(availability.via, outcome.failure, calls),
            model_id=self.model_id,
            attempts=calls,
        )

    def _error_message(self, via: str, failure: CallFailed | None, attempts: int) -> str:
        summary = failure.summary if failure else "failed"
        plural = "attempt" if attempts == 1 else "attempts"
        message = f"{self.name} via {via}: {summary} after {attempts} {plural}"
        if failure and failure.detail:
            message += f": {failure.detail}"
        return message
