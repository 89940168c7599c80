"""The registry: ``heuristic`` always, plus one Claude auditor per configured alias."""

from __future__ import annotations

from pathlib import Path

from skillcheck.auditors import Auditor, AuditorConfig, build_registry
from skillcheck.auditors.claude import UNAVAILABLE_REASON, ClaudeAuditor
from skillcheck.catalog import load_catalog
from skillcheck.scoring import score_task

MODELS = {"haiku": "claude-haiku-4-5", "sonnet": "claude-sonnet-4-6", "opus": "claude-opus-4-1"}


def test_registry_holds_heuristic_then_every_alias_in_order():
    registry = build_registry(AuditorConfig(models=MODELS))

    assert list(registry) == ["heuristic", "haiku", "sonnet", "opus"]
    assert all(isinstance(a, Auditor) and a.name == name for name, a in registry.items())
    claude = {name: a for name, a in registry.items() if isinstance(a, ClaudeAuditor)}
    assert {name: a.model_id for name, a in claude.items()} == MODELS


def test_an_alias_cannot_replace_the_heuristic_auditor():
    registry = build_registry(AuditorConfig(models={"heuristic": "claude-haiku-4-5"}))
    assert not isinstance(registry["heuristic"], ClaudeAuditor)


def test_without_key_or_binary_only_heuristic_is_available(tmp_path: Path):
    config = AuditorConfig(models=MODELS, claude_bin=str(tmp_path / "claude"))
    availability = {name: a.availability() for name, a in build_registry(config).items()}

    assert availability["heuristic"].available
    assert availability["heuristic"].via == "offline"
    for alias in MODELS:
        assert not availability[alias].available
        assert availability[alias].reason.startswith(UNAVAILABLE_REASON)


def test_claude_aliases_go_through_the_cli_when_it_is_on_path(fake_claude_bin: Path):
    registry = build_registry(AuditorConfig(models=MODELS))
    assert {alias: registry[alias].availability().via for alias in MODELS} == dict.fromkeys(
        MODELS, "cli"
    )


def test_claude_aliases_go_through_the_api_when_a_key_is_set(fake_claude_bin: Path):
    registry = build_registry(AuditorConfig(models=MODELS, anthropic_api_key="sk-test"))
    assert {alias: registry[alias].availability().via for alias in MODELS} == dict.fromkeys(
        MODELS, "api"
    )


def test_retry_settings_reach_every_claude_auditor():
    config = AuditorConfig(models=MODELS, max_retries=5, backoff_base_s=0.2, backoff_cap_s=2)
    for alias in MODELS:
        policy = build_registry(config)[alias].retry_policy
        assert (policy.max_retries, policy.base_s, policy.cap_s) == (5, 0.2, 2)


def test_a_registry_auditor_scores_a_real_skill_through_the_fake_cli(
    corpus_dir: Path, fake_claude_bin: Path
):
    catalog = load_catalog(corpus_dir)
    scenario = catalog.scenarios[0]
    auditor = build_registry(AuditorConfig(models=MODELS))["haiku"]

    run = score_task(auditor, scenario, catalog.skills[scenario.specialist], catalog.taxonomy)

    assert run.error is None
    assert run.model == "haiku"
    assert len(run.checks) == len(catalog.taxonomy.model_checks)
