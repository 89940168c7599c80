"""What every auditor (model provider) is: a name, an availability, and ``audit``.

An auditor turns an ``AuditRequest`` into raw answer text plus usage figures. It never
raises for a provider failure: the final failure comes back as ``AuditResponse.error``, so a
run goes on. Parsing the text is not the auditor's job; ``skillcheck.scoring`` does that for
every auditor alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from skillcheck.catalog.model import Scenario, Skill, Taxonomy


@dataclass(frozen=True)
class AuditRequest:
    scenario: Scenario
    skill: Skill
    taxonomy: Taxonomy
    system_prompt: str
    user_prompt: str
    # The user prompt in two parts, stable first (the skill's documents, the same for every
    # scenario of the skill), for prompt caching; empty when it is not split.
    skill_block: str = ""
    scenario_block: str = ""
    # Whether the run sends the same system prompt / skill block to this model again, so a
    # cache breakpoint there can pay off.
    system_reused: bool = False
    skill_reused: bool = False


@dataclass
class AuditResponse:
    text: str = ""
    duration_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = None
    model_id: str = ""
    attempts: int = 1
    # Prompt caching (API): input tokens written to and read from the cache, part of
    # ``input_tokens``.
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""
    via: str = ""  # "offline", "cli", "api"


@runtime_checkable
class Auditor(Protocol):
    """An auditor may also define ``prepare(*, concurrency: int) -> None``: the engine calls
    it once before any worker starts (import heavy libraries, create clients)."""

    name: str

    def availability(self) -> Availability: ...

    def audit(self, request: AuditRequest) -> AuditResponse: ...
