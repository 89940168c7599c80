"""The one parser of auditor answers: Markdown analysis ending in a fenced JSON block.

Answers are untrusted data. Whatever comes back (HTML, megabytes, broken JSON, odd Unicode)
is kept as it is and turned into a full set of check results; nothing here raises.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from skillcheck.prompt import RISK_LEVELS
from skillcheck.results import CheckResult

RESULT_VALUES = ("pass", "fail", "unclear", "na")
NOT_SCORED = "not scored by model"


@dataclass
class ParsedAnswer:
    checks: list[CheckResult]
    risk_level: str
    markdown: str
    error: str | None = None


def _last_json_block(text: str) -> str | None:
    """The body of the last ```json fence (unterminated: to the end), found in linear time."""
    lowered = text.lower()
    start = lowered.rfind("```json")
    if start == -1:
        return None
    body_start = start + len("```json")
    end = text.find("```", body_start)
    return text[body_start:end] if end != -1 else text[body_start:]


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _check_entries(data: dict[str, Any]) -> dict[str, Any]:
    """Accept ``checks`` as {id: {...}}, {id: "pass"} or [{check_id|id, ...}]."""
    raw = data.get("checks")
    if isinstance(raw, dict):
        return {str(k): v for k, v in raw.items()}
    if isinstance(raw, list):
        entries: dict[str, Any] = {}
        for item in raw:
            if isinstance(item, dict):
                check_id = item.get("check_id", item.get("id"))
                if check_id is not None:
                    entries[str(check_id)] = item
        return entries
    return {}


def _normalise_result(value: Any) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    return text if text in RESULT_VALUES else "unclear"


def parse_response(text: str, check_ids: Iterable[str]) -> ParsedAnswer:
    check_ids = list(check_ids)
    text = text if isinstance(text, str) else _as_text(text)

    def all_unclear(reason: str) -> ParsedAnswer:
        checks = [CheckResult(c, "unclear", "", reason) for c in check_ids]
        return ParsedAnswer(checks, "UNKNOWN", text, reason)

    body = _last_json_block(text)
    if body is None:
        return all_unclear("no JSON block in the answer")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return all_unclear(f"broken JSON block: {str(exc)[:200]}")
    if not isinstance(data, dict):
        return all_unclear("JSON block is not an object")

    entries = _check_entries(data)
    checks: list[CheckResult] = []
    for check_id in check_ids:
        entry = entries.get(check_id)
        if entry is None:
            checks.append(CheckResult(check_id, "unclear", "", NOT_SCORED))
        elif isinstance(entry, dict):
            checks.append(
                CheckResult(
                    check_id,
                    _normalise_result(entry.get("result")),
                    _as_text(entry.get("evidence")),
                    _as_text(entry.get("summary")),
                )
            )
        else:
            checks.append(CheckResult(check_id, _normalise_result(entry)))
    risk = data.get("risk_level", data.get("risk"))
    risk = risk.strip().upper() if isinstance(risk, str) else ""
    return ParsedAnswer(checks, risk if risk in RISK_LEVELS else "UNKNOWN", text)
