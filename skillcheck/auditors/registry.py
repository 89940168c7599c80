"""Model name -> auditor. ``heuristic`` is always there; Claude aliases come from config."""

from __future__ import annotations

from skillcheck.auditors.base import Auditor
from skillcheck.auditors.config import AuditorConfig

# Deterministic auditors: the same answer every time, so a run samples them once whatever its
# number of samples (epochs), and a comparison takes their flips as real changes.
SAMPLED_ONCE = frozenset({"heuristic"})


def build_registry(config: AuditorConfig) -> dict[str, Auditor]:
    from skillcheck.auditors.claude import ApiAccount, ClaudeAuditor
    from skillcheck.auditors.heuristic import HeuristicAuditor

    registry: dict[str, Auditor] = {"heuristic": HeuristicAuditor()}
    account = ApiAccount(config)  # every model shares the account's client and rate limit
    for alias, model_id in config.models.items():
        registry.setdefault(alias, ClaudeAuditor(alias, model_id, config, account))
    return registry
