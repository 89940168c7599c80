"""Model name -> auditor. ``heuristic`` is always there; Claude aliases come from config."""

from __future__ import annotations

from dataclasses import dataclass, field

from skillcheck.auditors.base import Auditor


@dataclass(frozen=True)
class AuditorConfig:
    models: dict[str, str] = field(default_factory=dict)  # alias -> full model id
    claude_bin: str = "claude"
    anthropic_api_key: str = ""
    anthropic_base_url: str = ""
    timeout_s: float = 300.0  # per call
    max_retries: int = 3  # retries after the first attempt
    backoff_base_s: float = 1.0  # full-jitter backoff: uniform(0, min(cap, base * 2**n))
    backoff_cap_s: float = 30.0
    max_tokens: int = 8192  # answer budget for API calls
    prompt_caching: bool = True  # cache breakpoints on the system prompt and skill documents


def build_registry(config: AuditorConfig) -> dict[str, Auditor]:
    from skillcheck.auditors.claude import ApiAccount, ClaudeAuditor
    from skillcheck.auditors.heuristic import HeuristicAuditor

    registry: dict[str, Auditor] = {"heuristic": HeuristicAuditor()}
    account = ApiAccount(config)  # every model shares the account's client and rate limit
    for alias, model_id in config.models.items():
        registry.setdefault(alias, ClaudeAuditor(alias, model_id, config, account))
    return registry
