"""The one parser of auditor answers: Markdown analysis ending in a fenced JSON block.

Answers are untrusted data. Whatever comes back (HTML, megabytes, broken JSON, odd Unicode)
is kept as it is and turned into a full set of check results; nothing here raises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from skillcheck.prompt import RISK_LEVELS
from skillcheck.results import CheckVerdict
from skillcheck.text import clean_text
from skillcheck.vocabulary import UNKNOWN_RISK, Result

NOT_SCORED = "not scored by model"


@dataclass
class ParsedAnswer:
    checks: list[CheckVerdict]
    risk_level: str
    markdown: str
    error: str | None = None


FENCE = "```json"
# A hostile answer can hold thousands of fences; only the last few are tried.
MAX_FENCES_TRIED = 16
_decoder = json.JSONDecoder()


# What may follow a block's value: blank space, then a closing fence alone on its line, or the
# end of the answer. A "```json" inside an evidence string decodes too (``"```json 0"``), but
# the string's closing quote follows its value.
_BLOCK_END = re.compile(r"\s*(?:```[ \t]*(?:\n|\r|\Z)|\Z)")


def _last_json_value(text: str) -> tuple[Any, str | None] | None:
    """The JSON value of the last ```json block: (value, None), (None, reason), or None.

    The value is read with ``raw_decode`` rather than cut at the next fence, so evidence may
    itself contain backticks or "```json". A fence that fails to decode, or whose value does
    not close its block, is either the real last block or sits inside a string of an earlier
    block: the fence before it is tried, and its value counts only if it spans the rejected one.
    """
    lowered = text.lower()
    end = len(text)
    # (start, outcome) of the latest fence that was not a closed block
    rejected: tuple[int, tuple[Any, str | None]] | None = None
    for _ in range(MAX_FENCES_TRIED):
        start = lowered.rfind(FENCE, 0, end)
        if start == -1:
            break
        body = start + len(FENCE)
        while body < len(text) and text[body] in " \t\r\n":
            body += 1
        end = start
        try:
            value, stop = _decoder.raw_decode(text, body)
        except (ValueError, RecursionError) as exc:
            rejected = rejected or (start, (None, f"broken JSON block: {str(exc)[:200]}"))
            continue
        if rejected and stop <= rejected[0]:
            break
        if _BLOCK_END.match(text, stop):
            return value, None
        rejected = (start, (value, None))
    return None if rejected is None else rejected[1]


def _as_text(value: Any) -> str:
    """A decoded JSON value as clean text: JSON escapes can make lone surrogates and NUL."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value)
    return clean_text(json.dumps(value, ensure_ascii=False))


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


def parse_response(text: str, check_ids: Iterable[str]) -> ParsedAnswer:
    check_ids = list(check_ids)
    text = clean_text(text) if isinstance(text, str) else _as_text(text)

    def all_unclear(reason: str) -> ParsedAnswer:
        checks = [CheckVerdict(c, Result.UNCLEAR, "", reason) for c in check_ids]
        return ParsedAnswer(checks, UNKNOWN_RISK, text, reason)

    found = _last_json_value(text)
    if found is None:
        return all_unclear("no JSON block in the answer")
    data, error = found
    if error:
        return all_unclear(error)
    if not isinstance(data, dict):
        return all_unclear("JSON block is not an object")

    entries = _check_entries(data)
    if check_ids and not entries:
        return all_unclear("JSON block scores no check")
    checks: list[CheckVerdict] = []
    for check_id in check_ids:
        entry = entries.get(check_id)
        if entry is None:
            checks.append(CheckVerdict(check_id, Result.UNCLEAR, "", NOT_SCORED))
        elif isinstance(entry, dict):
            checks.append(
                CheckVerdict(
                    check_id,
                    Result.parse(entry.get("result")),
                    _as_text(entry.get("evidence")),
                    _as_text(entry.get("summary")),
                )
            )
        else:
            checks.append(CheckVerdict(check_id, Result.parse(entry)))
    risk = data.get("risk_level", data.get("risk"))
    risk = risk.strip().upper() if isinstance(risk, str) else ""
    return ParsedAnswer(checks, risk if risk in RISK_LEVELS else UNKNOWN_RISK, text)
