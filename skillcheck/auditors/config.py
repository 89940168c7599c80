"""How the auditors reach their models: model aliases, the CLI, the API, timeouts, retries.

Its own module so that the registry (which builds auditors from it) and the auditors
(which read it) both depend on it, and not on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
