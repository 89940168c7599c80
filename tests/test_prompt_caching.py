"""Prompt caching: stable-first requests with cache breakpoints, through the real SDK against
the stub, and the cache tokens a run stores, prices and reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from heatmap import selectors
from heatmap.services.execution import run_execute
from heatmap.services.start import run_create
from skillcheck.auditors.pricing import cost_usd
from skillcheck.auditors.registry import build_registry
from skillcheck.catalog import Catalog, load_catalog
from skillcheck.runs import build_tasks, execute_tasks
from tests.fakes import stub_config
from tests.fakes.anthropic_stub import AnthropicStub

DOMAIN = "competitive-intelligence"


@pytest.fixture(scope="module")
def catalog(corpus_dir: Path) -> Catalog:
    return load_catalog(corpus_dir)


def registry(base_url: str, **overrides):
    return build_registry(stub_config(base_url, **overrides))


def marked(block) -> bool:
    return isinstance(block, dict) and block.get("cache_control") == {"type": "ephemeral"}


def run_tasks(catalog: Catalog, stub: AnthropicStub, models: list[str], **config):
    tasks = build_tasks(catalog, domains=[DOMAIN], models=models)
    outcome = execute_tasks(
        tasks, registry(stub.base_url, **config), catalog.taxonomy, run_id="r", concurrency=1
    )
    assert outcome.failed == 0
    return tasks, outcome


def test_requests_put_system_then_skill_documents_with_breakpoints_then_the_scenario(
    catalog: Catalog, anthropic_stub: AnthropicStub
):
    tasks, _ = run_tasks(catalog, anthropic_stub, ["sonnet"])

    assert len(anthropic_stub.requests) == len(tasks)
    skills_seen = {t.skill.name: 0 for t in tasks}
    for task in tasks:
        skills_seen[task.skill.name] += 1
    for sent, task in zip(anthropic_stub.requests, tasks, strict=True):
        [system] = sent.body["system"]
        assert marked(system) and "## Checks" in system["text"]
        [message] = sent.body["messages"]
        skill_block, scenario_block = message["content"]
        assert skill_block["text"].startswith(f"# Skill: {task.skill.name}")
        assert marked(skill_block) == (skills_seen[task.skill.name] > 1)
        assert not marked(scenario_block)
        assert scenario_block["text"].startswith("# User prompt")
        assert task.scenario.prompt in scenario_block["text"]
        assert task.scenario.prompt not in skill_block["text"]


def test_one_skill_block_per_run_so_later_tasks_read_it_from_the_cache(
    catalog: Catalog, anthropic_stub: AnthropicStub
):
    tasks, outcome = run_tasks(catalog, anthropic_stub, ["sonnet"])

    blocks: dict[str, set[str]] = {}
    for sent, task in zip(anthropic_stub.requests, tasks, strict=True):
        blocks.setdefault(task.skill.name, set()).add(
            sent.body["messages"][0]["content"][0]["text"]
        )
    assert all(len(texts) == 1 for texts in blocks.values())  # the same boundary all run long
    results = {r.key: r for r in outcome.results}
    first, *later = [results[t.key] for t in tasks]
    assert first.cache_write_tokens > 0 and first.cache_read_tokens == 0
    assert all(r.cache_read_tokens > 0 for r in later)
    expected = cost_usd(
        "claude-sonnet-4-6",
        first.input_tokens - first.cache_write_tokens,
        first.output_tokens,
        first.cache_write_tokens,
        0,
    )
    assert first.cost_usd == pytest.approx(expected)


def test_no_breakpoint_below_the_models_minimum_cacheable_length(
    catalog: Catalog, anthropic_stub: AnthropicStub
):
    tasks, _ = run_tasks(catalog, anthropic_stub, ["haiku"])  # Haiku 4.5 caches from 4,096 tokens

    assert len(anthropic_stub.requests) == len(tasks) > 0
    for sent in anthropic_stub.requests:
        system = sent.body["system"]
        assert isinstance(system, str)  # the system prompt alone is far below 4,096 tokens
        content = sent.body["messages"][0]["content"]
        if marked(content[0]):
            assert (len(system) + len(content[0]["text"])) // 4 >= 4096


def test_caching_can_be_turned_off(catalog: Catalog, anthropic_stub: AnthropicStub):
    tasks, outcome = run_tasks(catalog, anthropic_stub, ["sonnet"], prompt_caching=False)

    assert len(anthropic_stub.requests) == len(outcome.results) == len(tasks) > 0
    for sent in anthropic_stub.requests:
        assert isinstance(sent.body["system"], str)
        assert not any(marked(b) for b in sent.body["messages"][0]["content"])
    assert all(r.cache_read_tokens == r.cache_write_tokens == 0 for r in outcome.results)


@pytest.mark.django_db
def test_a_run_stores_cache_tokens_and_reports_hit_rate_and_savings(
    corpus_dir: Path, anthropic_stub: AnthropicStub, settings, tmp_path
):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    settings.SKILLCHECK_MODELS = {"sonnet": "claude-sonnet-4-6"}
    auditors = registry(anthropic_stub.base_url, models={"sonnet": "claude-sonnet-4-6"})
    run = run_create(
        domains=[DOMAIN], models=["sonnet"], catalog_path=corpus_dir, auditors=auditors
    )
    run = run_execute(run=run, auditors=auditors)

    assert run.status == "completed"
    tasks = list(run.tasks.all())
    assert run.cache_read_tokens == sum(t.cache_read_tokens for t in tasks) > 0
    assert run.cache_write_tokens == sum(t.cache_write_tokens for t in tasks) > 0
    totals = selectors.run_cache_totals(run)
    assert 0 < totals["cache_hit_rate"] < 1
    assert totals["cache_saved_usd"] > 0
    summary = selectors.run_progress(run=run)
    assert summary["cache_saved_usd"] == totals["cache_saved_usd"]
