"""The auditors configured in settings, and which of them can run on this machine."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from skillcheck.auditors import Auditor, AuditorConfig, build_registry


def auditor_config() -> AuditorConfig:
    """The model providers' settings (audits and routing share them)."""
    return AuditorConfig(
        models=dict(settings.SKILLCHECK_MODELS),
        claude_bin=settings.SKILLCHECK_CLAUDE_BIN,
        anthropic_api_key=settings.ANTHROPIC_API_KEY,
        anthropic_base_url=settings.ANTHROPIC_BASE_URL,
        timeout_s=settings.SKILLCHECK_CALL_TIMEOUT_S,
        max_retries=settings.SKILLCHECK_MAX_RETRIES,
        prompt_caching=settings.SKILLCHECK_PROMPT_CACHING,
    )


def auditor_registry() -> dict[str, Auditor]:
    """Every configured auditor by name, built from settings (nothing is called yet)."""
    return build_registry(auditor_config())


def auditors_or_registry(auditors: dict[str, Auditor] | None) -> dict[str, Auditor]:
    """The caller's auditors (tests, benchmarks), else the configured ones."""
    return auditor_registry() if auditors is None else auditors


@dataclass(frozen=True)
class ModelChoice:
    """A configured model, whether it can run here, and why not (for pickers and listings)."""

    name: str
    model_id: str
    available: bool
    reason: str = ""
    via: str = ""


def model_choices(*, auditors: dict[str, Auditor] | None = None) -> list[ModelChoice]:
    choices = []
    for name, auditor in auditors_or_registry(auditors).items():
        availability = auditor.availability()
        model_id = getattr(auditor, "model_id", name)
        choices.append(
            ModelChoice(
                name, model_id, availability.available, availability.reason, availability.via
            )
        )
    return choices


def model_listing(*, auditors: dict[str, Auditor] | None = None) -> list[dict[str, Any]]:
    """Every configured model, whether it can run here, how or why not, and how its calls are
    isolated (``None``: not a CLI model): ``run_scored --list-models``."""
    registry = auditors_or_registry(auditors)
    choices = model_choices(auditors=registry)
    isolation = auditors_isolation(
        auditors=registry, models=[c.name for c in choices if c.available]
    )
    return [
        {**dataclasses.asdict(choice), "isolation": isolation.get(choice.name)}
        for choice in choices
    ]


def auditors_isolation(*, auditors: dict[str, Auditor], models: list[str]) -> dict[str, Any]:
    """How each model's calls are isolated (CLI models only; the API has no local tools).

    Reads ``claude --help`` once for all of them (the auditors of a registry share it).
    """
    found: dict[str, Any] = {}
    for name in models:
        describe = getattr(auditors.get(name), "isolation", None)
        info = describe() if describe is not None else None
        if info:
            found[name] = info
    return found


def default_models(*, auditors: dict[str, Auditor] | None = None) -> list[str]:
    """``sonnet`` when Claude can run here, else the offline ``heuristic``."""
    sonnet = auditors_or_registry(auditors).get("sonnet")
    if sonnet is not None and sonnet.availability().available:
        return ["sonnet"]
    return ["heuristic"]
