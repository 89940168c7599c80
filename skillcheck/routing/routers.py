"""Routers: what picks a skill for a prompt, shown the whole catalog.

``LexicalRouter`` is the offline baseline (BM25 over name + description, no model, no
network). ``ApiRouter`` asks a Claude model through the Anthropic API with a forced
``select_skill`` tool call whose input is an enum, so the pick is never parsed out of prose.
A router never raises for a provider failure: the answer carries ``error`` and no pick, and
the run counts it apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from skillcheck.auditors.base import Availability
from skillcheck.auditors.pricing import estimate_tokens, min_cacheable_tokens
from skillcheck.auditors.registry import AuditorConfig
from skillcheck.auditors.retry import CallFailed, Outcome, call_with_retries
from skillcheck.catalog import NO_SKILL
from skillcheck.routing.prompt import FORCED_CHOICE, TOOL_NAME, select_skill_tool

if TYPE_CHECKING:
    from skillcheck.auditors.claude import ClaudeAuditor

LEXICAL = "lexical"
# BM25 score below which the lexical baseline picks "none". Scores are not normalised; this
# suits descriptions of a few dozen words (see the docs' measured baseline).
DEFAULT_LEXICAL_THRESHOLD = 1.0
ROUTER_MAX_TOKENS = 200  # a forced tool call with one enum value is a few dozen tokens
CLI_UNSUPPORTED = (
    "routing needs the Anthropic API (set ANTHROPIC_API_KEY): a pick comes only from a forced "
    "select_skill tool call (tool_choice), which the claude CLI cannot send, and a pick read "
    "from the CLI's free text is not trusted"
)


@dataclass
class RouteAnswer:
    pick: str | None  # a skill name or NO_SKILL; None when the call errored
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0
    duration_s: float = 0.0
    model_id: str = ""


class Router(Protocol):
    name: str
    model_id: str
    # Same prompt, same pick: one sample stands for all K.
    deterministic: bool

    def availability(self) -> Availability: ...

    def route(self, prompt: str) -> RouteAnswer: ...


class LexicalRouter:
    """BM25 (``bm25s``, English stop words, Snowball stemming) of the prompt against each
    skill's name and description; the best skill, or ``none`` below ``threshold``.

    A baseline, not a model: a description that shares the prompt's words wins.
    """

    name = LEXICAL
    model_id = LEXICAL
    deterministic = True

    def __init__(self, descriptions: dict[str, str], threshold: float = DEFAULT_LEXICAL_THRESHOLD):
        import bm25s
        import Stemmer

        self.names = list(descriptions)
        self.threshold = threshold
        self._stemmer = Stemmer.Stemmer("english")
        texts = [f"{name.replace('-', ' ')} {text}" for name, text in descriptions.items()]
        self._index = bm25s.BM25()
        self._index.index(self._tokens(texts), show_progress=False)

    def _tokens(self, texts: list[str]) -> Any:
        import bm25s

        return bm25s.tokenize(
            texts, stopwords="en", stemmer=self._stemmer, show_progress=False, return_ids=False
        )

    def availability(self) -> Availability:
        return Availability(True, "offline BM25 baseline (no model)", via="offline")

    def scores(self, prompt: str) -> dict[str, float]:
        tokens = self._tokens([prompt])[0]
        values = self._index.get_scores(tokens) if tokens else [0.0] * len(self.names)
        return {name: float(value) for name, value in zip(self.names, values, strict=True)}

    def route(self, prompt: str) -> RouteAnswer:
        started = time.monotonic()
        scores = self.scores(prompt)
        best = max(scores, key=lambda name: scores[name])  # first in manifest order on a tie
        pick = best if scores[best] >= self.threshold else NO_SKILL
        return RouteAnswer(pick, duration_s=time.monotonic() - started, model_id=LEXICAL)


def router_params(
    model_id: str, system: str, prompt: str, names: list[str], *, caching: bool = True
) -> dict[str, Any]:
    """The Messages request: the catalog as a cached system prompt, the prompt as the user
    message, and the forced ``select_skill`` tool call."""
    system_block: dict[str, Any] = {"type": "text", "text": system}
    if caching and estimate_tokens(system) >= min_cacheable_tokens(model_id):
        system_block["cache_control"] = {"type": "ephemeral"}
    return {
        "model": model_id,
        "system": [system_block],
        "messages": [{"role": "user", "content": prompt}],
        "tools": [select_skill_tool(names)],
        "tool_choice": FORCED_CHOICE,
        "max_tokens": ROUTER_MAX_TOKENS,
    }


def read_pick(message: Any, names: list[str]) -> str:
    """The skill of the answer's ``select_skill`` call; ``CallFailed`` when there is none or
    it names something outside the enum (a model may still break the schema)."""
    allowed = {*names, NO_SKILL}
    for block in getattr(message, "content", None) or []:
        if getattr(block, "type", "") == "tool_use" and getattr(block, "name", "") == TOOL_NAME:
            value = (getattr(block, "input", None) or {}).get("skill")
            if isinstance(value, str) and value in allowed:
                return value
            raise CallFailed("answer outside the catalog", repr(value)[:200], transient=False)
    raise CallFailed("no select_skill call in the answer", transient=False)


class ApiRouter:
    """A Claude model through the Anthropic API, with the auditor's account (client, adaptive
    concurrency limit) and retry policy."""

    deterministic = False

    def __init__(self, auditor: ClaudeAuditor, system: str, names: list[str]):
        self.auditor = auditor
        self.name = auditor.name
        self.model_id = auditor.model_id
        self.system = system
        self.names = names

    @property
    def account(self) -> Any:
        """The auditor's account: its client submits batches too (``RoutingBatchEngine``)."""
        return self.auditor.account

    def availability(self) -> Availability:
        found = self.auditor.availability()
        if found.via != "api":  # the claude CLI only, or nothing: the fix is the API key
            return Availability(False, f"{self.name}: {CLI_UNSUPPORTED}", via=found.via)
        return found

    def prepare(self, *, concurrency: int) -> None:
        """Before a run's calls: create the client and size the account's adaptive limit."""
        self.auditor.prepare(concurrency=concurrency)

    def params(self, prompt: str) -> dict[str, Any]:
        return router_params(
            self.model_id,
            self.system,
            prompt,
            self.names,
            caching=self.auditor.config.prompt_caching,
        )

    def route(self, prompt: str) -> RouteAnswer:
        started = time.monotonic()
        availability = self.availability()
        if not availability.available:
            return RouteAnswer(None, error=availability.reason, model_id=self.model_id)
        from skillcheck.auditors.anthropic_api import send_message

        client = self.auditor.account.client()
        params = self.params(prompt)
        timeout_s = self.auditor.config.timeout_s

        def call() -> tuple[str, Any]:
            message = send_message(client, params, timeout_s, self.auditor.account.limit)
            return read_pick(message, self.names), message

        try:
            outcome = call_with_retries(call, self.auditor.retry_policy)
        except Exception as exc:  # a bug or a malformed reply must not stop a run
            outcome = Outcome(
                None, CallFailed(type(exc).__name__, str(exc)[:500], transient=False), 1
            )
        duration = time.monotonic() - started
        if outcome.value is None:
            failure = outcome.failure
            detail = f"{failure.summary}: {failure.detail}" if failure and failure.detail else ""
            error = detail or (failure.summary if failure else "failed")
            return RouteAnswer(
                None,
                error=f"{self.name} via api: {error}",
                duration_s=duration,
                model_id=self.model_id,
            )
        pick, message = outcome.value
        return self.answer(pick, message, duration)

    def answer(
        self, pick: str, message: Any, duration_s: float, *, batch: bool = False
    ) -> RouteAnswer:
        """A pick with the message's tokens and cost (``batch``: at the batch rate)."""
        from skillcheck.auditors.anthropic_api import read_message

        usage = read_message(message, self.model_id, batch=batch)
        return RouteAnswer(
            pick,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cost_usd=usage.cost_usd,
            duration_s=duration_s,
            model_id=usage.model_id,
        )


class UnknownRouter(ValueError):
    """A model name that cannot route; the message lists the ones that can."""


def make_routers(
    names: list[str],
    descriptions: dict[str, str],
    config: AuditorConfig,
    *,
    lexical_threshold: float = DEFAULT_LEXICAL_THRESHOLD,
    system: str | None = None,
) -> dict[str, Router]:
    """A router per name: ``lexical``, or a Claude model alias of ``config`` (API only).

    Every API router of the run shares one account (client, concurrency limit) and one
    system prompt (one boundary marker), so the catalog block is the same in every call.
    """
    from skillcheck.auditors.claude import ApiAccount, ClaudeAuditor
    from skillcheck.routing.prompt import build_router_system

    unknown = [n for n in names if n != LEXICAL and n not in config.models]
    if unknown:
        valid = ", ".join([LEXICAL, *config.models])
        raise UnknownRouter(f"unknown router(s): {', '.join(unknown)}; valid: {valid}")
    skill_names = list(descriptions)
    system = system or build_router_system(descriptions)
    account = ApiAccount(config)
    routers: dict[str, Router] = {}
    for name in dict.fromkeys(names):
        if name == LEXICAL:
            routers[name] = LexicalRouter(descriptions, lexical_threshold)
        else:
            auditor = ClaudeAuditor(name, config.models[name], config, account)
            routers[name] = ApiRouter(auditor, system, skill_names)
    return routers
