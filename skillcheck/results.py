"""Result records of a scored run, and their one dictionary form (the report format)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from skillcheck.fingerprints import Fingerprint
from skillcheck.vocabulary import UNKNOWN_RISK, Result


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 time from a report (``Z`` allowed; naive means UTC), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def pass_percent(passed: int, failed: int, unclear: int) -> float | None:
    """Share of scored checks that passed; n/a checks are not scored, so they do not count."""
    scored = passed + failed + unclear
    return 100 * passed / scored if scored else None


def cost_text(cost_usd: float, input_tokens: int) -> str:
    """A cost for people: tokens counted with no price means the cost was not recorded.

    Reports of the original skill-checker give tokens but no price; showing "$0.0000" for
    them would claim the run was free.
    """
    if not cost_usd and input_tokens:
        return "not recorded"
    return f"${cost_usd:.4f}"


TaskKey = tuple[str, str, str, int]
"""A task: scenario id, skill, model and epoch (the sample's number, from 1)."""

MAX_EPOCHS = 10


def task_key(values: Any) -> TaskKey:
    """A task key from stored values; a key of three (written before epochs) is epoch 1."""
    items = list(values)
    return (
        str(items[0]),
        str(items[1]),
        str(items[2]),
        read_epoch(items[3] if len(items) > 3 else 1),
    )


def read_epoch(value: Any) -> int:
    """An epoch as stored (``report_checks`` vetted a report's): an integer from 1; a
    missing one (a report from before epochs) is 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return 1
    return value


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class CheckVerdict:
    """One check's verdict on one task (the Django model ``heatmap.models.CheckResult`` is
    its stored row). ``summary`` is the auditor's one-line reason."""

    check_id: str
    result: Result
    evidence: str = ""
    summary: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "check_id": self.check_id,
            "result": self.result,
            "evidence": self.evidence,
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckVerdict:
        return cls(
            check_id=str(data.get("check_id", "")),
            result=Result.parse(data.get("result")),
            evidence=str(data.get("evidence") or ""),
            summary=str(data.get("summary") or ""),
        )


@dataclass
class ScoredRun:
    """One task's outcome: a (scenario, skill, model) audit and its check verdicts.

    ``epoch`` numbers the samples of one (scenario, skill, model) in a run, from 1: a run
    with K samples asks K times, and each answer is its own result.
    """

    scenario_id: str
    skill: str
    model: str
    checks: list[CheckVerdict] = field(default_factory=list)
    risk_level: str = UNKNOWN_RISK
    markdown_response: str = ""
    duration_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = None
    domain: str = ""
    # Prompt caching: input tokens written to / read from the cache (part of input_tokens).
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    batch: bool = False  # answered through the Message Batches API, at half price
    # When the task finished (ISO 8601, UTC): merging across reports keeps the newest row,
    # and a resumed run's file is rewritten later than the rows it already held.
    finished_at: str | None = None
    # What produced the result (skill, scenario, prompt, model hashes); None for old rows.
    fingerprint: Fingerprint | None = None
    # The run whose stored result this one reuses (the response cache); None when called.
    cached_from: str | None = None
    # What a report said about cost when it gave no figures we can count (the original
    # skill-checker wrote ``"unknown (non-JSON output)"``); kept so the text survives.
    cost_note: str = ""
    epoch: int = 1

    @property
    def key(self) -> TaskKey:
        return (self.scenario_id, self.skill, self.model, self.epoch)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def cost_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
        }
        if self.cache_write_tokens or self.cache_read_tokens:
            info["cache_write_tokens"] = self.cache_write_tokens
            info["cache_read_tokens"] = self.cache_read_tokens
        if self.batch:
            info["batch"] = True
        if self.cost_note:
            info["note"] = self.cost_note
        return info

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario_id": self.scenario_id,
            "skill": self.skill,
            "model": self.model,
            "epoch": self.epoch,
            "domain": self.domain,
            "risk_level": self.risk_level,
            "duration_s": round(self.duration_s, 3),
            "cost_info": self.cost_info,
            "error": self.error,
            "markdown_response": self.markdown_response,
            "finished_at": self.finished_at,
            "fingerprint": self.fingerprint.to_dict() if self.fingerprint else None,
            "cached_from": self.cached_from,
            "checks": [c.to_dict() for c in self.checks],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoredRun:
        raw_cost = data.get("cost_info")
        cost = cost_from_text(raw_cost) if isinstance(raw_cost, str) else raw_cost or {}
        return cls(
            scenario_id=str(data["scenario_id"]),
            skill=str(data["skill"]),
            model=str(data.get("model") or "unknown"),
            domain=str(data.get("domain") or ""),
            checks=[CheckVerdict.from_dict(c) for c in data.get("checks") or []],
            risk_level=str(data.get("risk_level") or UNKNOWN_RISK),
            markdown_response=str(data.get("markdown_response") or ""),
            duration_s=float(data.get("duration_s") or 0.0),
            input_tokens=int(cost.get("input_tokens") or 0),
            output_tokens=int(cost.get("output_tokens") or 0),
            cost_usd=float(cost.get("cost_usd") or 0.0),
            cache_write_tokens=int(cost.get("cache_write_tokens") or 0),
            cache_read_tokens=int(cost.get("cache_read_tokens") or 0),
            batch=bool(cost.get("batch")),
            error=_error_text(data.get("error")),
            finished_at=data["finished_at"] if parse_timestamp(data.get("finished_at")) else None,
            fingerprint=Fingerprint.from_dict(data.get("fingerprint")),
            cached_from=str(data["cached_from"]) if data.get("cached_from") else None,
            cost_note=str(cost.get("note") or ""),
            epoch=read_epoch(data.get("epoch", 1)),
        )


_TOKEN_COUNT = re.compile(r"\b(input|output)\s*=\s*(\d+)")
_TOKENS_ONLY = re.compile(r"\s*input\s*=\s*\d+\s*,\s*output\s*=\s*\d+\s*")


def cost_from_text(text: str) -> dict[str, Any]:
    """A ``cost_info`` dictionary from the original skill-checker's cost text.

    It wrote ``"input=5200, output=1900"`` (tokens, no price), ``"input=?, output=?"`` when the
    CLI did not say, ``"unknown (non-JSON output)"`` or ``""``. Token counts it states are
    taken; any text that is not exactly such counts is kept as the note, so nothing is lost.
    """
    info: dict[str, Any] = {f"{kind}_tokens": int(n) for kind, n in _TOKEN_COUNT.findall(text)}
    if text.strip() and not _TOKENS_ONLY.fullmatch(text):
        info["note"] = text.strip()
    return info


def _error_text(value: Any) -> str | None:
    """An error is text; one another writer stored as a JSON object is kept, as JSON text."""
    if not value:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
