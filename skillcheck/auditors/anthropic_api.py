"""One call of the Anthropic Messages API through the official SDK.

The SDK's own retries are off (``max_retries=0``): our retry loop decides, so the CLI and
the API behave alike and the attempt count is ours to report. SDK errors become
``CallFailed`` with a status-based transient flag and the server's ``retry-after``.
"""

from __future__ import annotations

from typing import Any

import anthropic

from skillcheck.auditors.base import AuditRequest, AuditResponse
from skillcheck.auditors.pricing import cache_breakpoints, cost_usd
from skillcheck.auditors.ratelimit import AdaptiveLimit
from skillcheck.auditors.retry import CallFailed

CACHE_BREAKPOINT = {"type": "ephemeral"}
TRANSIENT_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
THROTTLED_STATUSES = frozenset({429, 529})
DETAIL_CHARS = 500


def make_client(api_key: str, base_url: str, timeout_s: float) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key=api_key, base_url=base_url or None, max_retries=0, timeout=timeout_s
    )


def _retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (delta seconds), if given."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name) if headers is not None else None
        if raw is None:
            continue
        try:
            return max(float(raw) * scale, 0.0)
        except ValueError:
            continue
    return None


def _failure(exc: anthropic.APIError, timeout_s: float) -> CallFailed:
    if isinstance(exc, anthropic.APITimeoutError):
        return CallFailed(f"timed out after {timeout_s:g} s", transient=True)
    if isinstance(exc, anthropic.APIConnectionError):
        return CallFailed("connection error", str(exc)[:DETAIL_CHARS], transient=True)
    if isinstance(exc, anthropic.APIStatusError):
        kind = getattr(exc, "type", None) or ""
        message = getattr(exc, "api_message", None) or str(exc)
        summary = f"HTTP {exc.status_code}" + (f" {kind}" if kind else "")
        return CallFailed(
            summary,
            str(message)[:DETAIL_CHARS],
            transient=exc.status_code in TRANSIENT_STATUSES,
            retry_after_s=_retry_after(exc.response.headers),
            throttled=exc.status_code in THROTTLED_STATUSES,
        )
    return CallFailed(type(exc).__name__, str(exc)[:DETAIL_CHARS], transient=False)


def message_params(
    model_id: str, request: AuditRequest, max_tokens: int, *, caching: bool = True
) -> dict[str, Any]:
    """The Messages request for one audit, laid out stable-first for prompt caching.

    System prompt (the taxonomy: the same for every task), then the skill's documents (the
    same for every scenario of the skill), then the scenario last, with cache breakpoints
    where ``pricing.cache_breakpoints`` puts them.
    """
    system_breakpoint, skill_breakpoint = cache_breakpoints(model_id, request, caching=caching)
    system: str | list[dict[str, Any]] = request.system_prompt
    if system_breakpoint:
        system = [
            {"type": "text", "text": request.system_prompt, "cache_control": CACHE_BREAKPOINT}
        ]
    content: str | list[dict[str, Any]] = request.user_prompt
    if request.skill_block and request.scenario_block:
        skill: dict[str, Any] = {"type": "text", "text": request.skill_block}
        if skill_breakpoint:
            skill["cache_control"] = CACHE_BREAKPOINT
        content = [skill, {"type": "text", "text": request.scenario_block}]
    return {
        "model": model_id,
        "system": system,
        "messages": [{"role": "user", "content": content}],
        "max_tokens": max_tokens,
    }


def call_api(
    client: anthropic.Anthropic,
    params: dict[str, Any],
    timeout_s: float,
    limit: AdaptiveLimit | None = None,
) -> AuditResponse:
    """Send one Messages request (``message_params``); return text, tokens and priced cost,
    or raise ``CallFailed``."""
    return read_message(send_message(client, params, timeout_s, limit), params["model"])


def send_message(
    client: anthropic.Anthropic,
    params: dict[str, Any],
    timeout_s: float,
    limit: AdaptiveLimit | None = None,
) -> Any:
    """Send one Messages request; return the SDK's message, or raise ``CallFailed``.

    With ``limit``, the call waits for a slot first and reports how the server answered
    (429/529, ``retry-after``, ``anthropic-ratelimit-*`` headers), so the account's calls
    adapt together.
    """
    if limit is not None:
        limit.acquire()
    try:
        raw = client.messages.with_raw_response.create(**params)
        message = raw.parse()
    except anthropic.APIError as exc:
        failure = _failure(exc, timeout_s)
        if limit is not None:
            headers = exc.response.headers if isinstance(exc, anthropic.APIStatusError) else None
            limit.release(
                throttled=failure.throttled,
                overloaded=getattr(exc, "status_code", None) == 529,
                retry_after_s=failure.retry_after_s,
                headers=headers,
            )
        raise failure from None
    except BaseException:
        if limit is not None:
            limit.release()
        raise
    if limit is not None:
        limit.release(headers=raw.headers)
    return message


def read_message(message: Any, model_id: str, *, batch: bool = False) -> AuditResponse:
    """Text, tokens and priced cost of one answered message (``batch``: at the batch rate)."""
    text = "".join(
        getattr(block, "text", "") or ""
        for block in message.content
        if getattr(block, "type", "") == "text"
    )
    usage = message.usage
    fresh = usage.input_tokens or 0
    cache_write = getattr(usage, "cache_creation_input_tokens", None) or 0
    cache_read = getattr(usage, "cache_read_input_tokens", None) or 0
    output = usage.output_tokens or 0
    return AuditResponse(
        text=text,
        input_tokens=fresh + cache_write + cache_read,
        output_tokens=output,
        cost_usd=cost_usd(model_id, fresh, output, cache_write, cache_read, batch=batch),
        model_id=getattr(message, "model", None) or model_id,
        cache_write_tokens=cache_write,
        cache_read_tokens=cache_read,
    )
