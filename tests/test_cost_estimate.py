"""The run's cost estimate counts prompt caching as the API auditor's requests use it, and
agrees with what a run against the stub (real SDK) is charged."""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from skillcheck.auditors.pricing import cost_usd, estimate_tokens
from skillcheck.auditors.registry import build_registry
from skillcheck.catalog import Catalog, load_catalog
from skillcheck.runs import Task, build_tasks, estimate_costs, execute_tasks
from skillcheck.scoring import PromptBook
from tests.fakes import stub_config
from tests.fakes.anthropic_stub import AnthropicStub

# Sonnet caches prefixes from 1,024 tokens (the system prompt alone, ~1,700, is enough);
# Haiku 4.5 from 4,096 (only the system prompt with the long skill's documents is).
MODELS = {"sonnet": "claude-sonnet-4-6", "haiku": "claude-haiku-4-5"}
LONG_SKILL_CHARS = 24_000  # 6,000 tokens at 4 characters each
SCENARIOS = 5


def write_catalog(root: Path) -> Catalog:
    """Two skills, one with long documents and one with a short SKILL.md, each the target of
    its own domain of ``SCENARIOS`` scenarios."""
    skills = {
        "long-skill": "# Long skill\n\n" + "Check the input before scraping. " * 750,
        "short-skill": "# Short skill\n\nScrape the page and return the rows.\n",
    }
    assert len(skills["long-skill"]) >= LONG_SKILL_CHARS
    manifest = {"skills": {}}
    (root / "scenarios").mkdir(parents=True)
    for name, text in skills.items():
        (root / "skills" / name).mkdir(parents=True)
        (root / "skills" / name / "SKILL.md").write_text(text, encoding="utf-8")
        manifest["skills"][name] = {"path": f"skills/{name}/SKILL.md", "category": "dispatcher"}
        scenarios = {
            "domain": f"for-{name}",
            "target_skill": name,
            "scenarios": [
                {"id": f"{name}-{i}", "name": f"Case {i}", "prompt": f"Scrape shop number {i}."}
                for i in range(SCENARIOS)
            ],
        }
        (root / "scenarios" / f"{name}.yaml").write_text(yaml.safe_dump(scenarios))
    (root / "skills_manifest.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    return load_catalog(root)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return write_catalog(tmp_path / "catalog")


def of_skill(tasks: list[Task], skill: str) -> list[Task]:
    return [t for t in tasks if t.skill.name == skill]


def prefix_tokens(catalog: Catalog, skill: str) -> tuple[int, int]:
    """Tokens of the system prompt, and of the system prompt with ``skill``'s documents."""
    request = PromptBook(catalog.taxonomy).request(
        catalog.domains[f"for-{skill}"].scenarios[0], catalog.skills[skill]
    )
    system = estimate_tokens(request.system_prompt)
    return system, estimate_tokens(request.system_prompt, request.skill_block)


def test_a_prefix_is_written_once_per_model_and_read_by_the_later_tasks(catalog: Catalog):
    tasks = build_tasks(catalog, domains=None, models=["sonnet"])
    system, with_long = prefix_tokens(catalog, "long-skill")
    _, with_short = prefix_tokens(catalog, "short-skill")
    assert 1024 <= system < with_short < 4096 < with_long

    sonnet = estimate_costs(tasks, MODELS, catalog.taxonomy)["sonnet"]

    # The first task writes the system prompt and its skill's documents; the other skill's
    # first task reads the system prompt and writes its documents; every later task reads.
    assert sonnet.cache_write_tokens == with_long + with_short - system
    reads = (SCENARIOS - 1) * (with_long + with_short) + system
    assert sonnet.cache_read_tokens == reads
    assert sonnet.tasks == len(tasks) == 2 * SCENARIOS
    assert 0 < sonnet.usd < sonnet.uncached_usd


def test_requests_sent_together_each_write_what_none_of_them_can_read_yet(catalog: Catalog):
    tasks = build_tasks(catalog, domains=None, models=["sonnet"])
    _, with_long = prefix_tokens(catalog, "long-skill")
    _, with_short = prefix_tokens(catalog, "short-skill")

    def estimate(concurrency: int):
        return estimate_costs(tasks, MODELS, catalog.taxonomy, concurrency=concurrency)["sonnet"]

    together, two, one_by_one = estimate(len(tasks)), estimate(2), estimate(1)

    assert together.cache_read_tokens == 0
    assert together.cache_write_tokens == SCENARIOS * (with_long + with_short)
    assert together.usd > together.uncached_usd  # the write premium, and nothing read
    assert one_by_one.usd < two.usd < together.usd
    assert one_by_one.uncached_usd == two.uncached_usd == together.uncached_usd


def test_no_caching_where_the_prefix_is_under_the_models_minimum(catalog: Catalog):
    tasks = build_tasks(catalog, domains=None, models=["haiku"])
    _, with_long = prefix_tokens(catalog, "long-skill")

    short = estimate_costs(of_skill(tasks, "short-skill"), MODELS, catalog.taxonomy)["haiku"]
    both = estimate_costs(tasks, MODELS, catalog.taxonomy)["haiku"]

    assert short.cache_write_tokens == short.cache_read_tokens == 0
    assert short.usd == pytest.approx(short.uncached_usd)
    # Only the long skill's prefix reaches Haiku's 4,096 tokens: written once, then read.
    assert both.cache_write_tokens == with_long
    assert both.cache_read_tokens == (SCENARIOS - 1) * with_long
    assert both.usd < both.uncached_usd


def test_a_prefix_sent_once_gets_no_breakpoint_and_costs_no_write_premium(catalog: Catalog):
    [task] = build_tasks(catalog, domains=None, models=["sonnet"])[:1]

    estimate = estimate_costs([task], MODELS, catalog.taxonomy)["sonnet"]

    assert estimate.cache_write_tokens == estimate.cache_read_tokens == 0
    assert estimate.usd == pytest.approx(estimate.uncached_usd)


def test_batch_halves_both_figures_and_caching_off_prices_every_prompt_in_full(
    catalog: Catalog,
):
    tasks = build_tasks(catalog, domains=None, models=["sonnet", "haiku", "heuristic"])

    direct = estimate_costs(tasks, MODELS, catalog.taxonomy)
    batch = estimate_costs(tasks, MODELS, catalog.taxonomy, batch=True)
    off = estimate_costs(tasks, MODELS, catalog.taxonomy, caching=False)

    for model in MODELS:
        assert batch[model].usd == pytest.approx(direct[model].usd / 2)
        assert batch[model].uncached_usd == pytest.approx(direct[model].uncached_usd / 2)
        assert batch[model].cache_read_tokens == direct[model].cache_read_tokens > 0
        assert off[model].usd == pytest.approx(direct[model].uncached_usd)
        assert off[model].cache_read_tokens == off[model].cache_write_tokens == 0
    assert direct["heuristic"].usd == direct["heuristic"].uncached_usd == 0.0


def measured(outcome, model_ids: dict[str, str]) -> dict[str, dict[str, float]]:
    """Per model: what the stub's run was charged for its prompts (its answers' share taken
    out: the stub's answers are shorter than the estimate's assumed length), and its cache
    tokens."""
    figures: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for result in outcome.results:
        model_id = model_ids[result.model]
        row = figures[result.model]
        row["prompt_usd"] += result.cost_usd - cost_usd(model_id, 0, result.output_tokens)
        row["cache_write_tokens"] += result.cache_write_tokens
        row["cache_read_tokens"] += result.cache_read_tokens
    return figures


@pytest.mark.parametrize("caching", [True, False])
def test_the_estimate_agrees_with_what_a_run_against_the_stub_is_charged(
    catalog: Catalog, anthropic_stub: AnthropicStub, caching: bool
):
    """Within 0.5 % for the prompts: the stub counts 4 characters a token as the estimate
    does, but joins the message's blocks without the newline and adds a token per request."""
    tasks = build_tasks(catalog, domains=None, models=list(MODELS))
    auditors = build_registry(
        stub_config(anthropic_stub.base_url, models=MODELS, prompt_caching=caching)
    )

    outcome = execute_tasks(tasks, auditors, catalog.taxonomy, run_id="r", concurrency=1)
    estimates = estimate_costs(tasks, MODELS, catalog.taxonomy, caching=caching)

    assert outcome.failed == 0 and len(outcome.results) == len(tasks)
    charged = measured(outcome, MODELS)
    for model in MODELS:
        estimate = estimates[model]
        assert estimate.usd - estimate.output_usd == pytest.approx(
            charged[model]["prompt_usd"], rel=0.005
        )
        assert estimate.cache_write_tokens == charged[model]["cache_write_tokens"]
        assert estimate.cache_read_tokens == charged[model]["cache_read_tokens"]
    if caching:
        assert sum(charged[m]["cache_read_tokens"] for m in MODELS) > 0


@pytest.mark.django_db
def test_the_dry_run_counts_caching_and_says_what_it_saves(catalog: Catalog, settings):
    settings.SKILLCHECK_MODELS = MODELS

    def dry_run(*extra: str) -> str:
        out = io.StringIO()
        options = ["--catalog", str(catalog.root), "--models", "sonnet", "--no-cache"]
        call_command("run_scored", "--dry-run", *options, *extra, stdout=out)
        return out.getvalue()

    data = json.loads(dry_run("--json"))
    assert 0 < data["estimated_cost_usd"]["sonnet"] < data["estimated_cost_uncached_usd"]["sonnet"]
    saved = data["estimated_cost_uncached_usd"]["sonnet"] - data["estimated_cost_usd"]["sonnet"]
    said = re.search(r"Prompt caching is counted: it saves ~\$(\d+\.\d\d)", dry_run())
    assert said and float(said[1]) == pytest.approx(saved, abs=0.006)

    # All ten requests at once: each writes what the others cannot read yet.
    assert re.search(
        r"Prompt caching is counted: it adds ~\$\d+\.\d\d \(requests sent together",
        dry_run("--concurrency", "10"),
    )

    settings.SKILLCHECK_PROMPT_CACHING = False
    data = json.loads(dry_run("--json"))
    assert data["estimated_cost_usd"] == data["estimated_cost_uncached_usd"]
    assert "Prompt caching" not in dry_run()


@pytest.mark.django_db
def test_the_plan_line_says_what_prompt_caching_saves(client, catalog: Catalog, settings):
    settings.SKILLCHECK_CATALOG = catalog.root
    settings.SKILLCHECK_MODELS = MODELS
    settings.ANTHROPIC_API_KEY = "sk-test-key"
    settings.SKILLCHECK_CONFIRM_COST_USD = 1000.0
    query = {"domains": ["for-long-skill", "for-short-skill"], "models": ["sonnet"]}

    line = client.get("/run-controls/plan/", query).content.decode()

    assert "Estimated cost: <strong>$" in line
    assert re.search(r"prompt caching saves ~\$\d+\.\d\d;", line)
    settings.SKILLCHECK_PROMPT_CACHING = False
    assert "prompt caching saves" not in client.get("/run-controls/plan/", query).content.decode()


@pytest.mark.django_db
def test_the_run_controls_estimate_at_the_concurrency_in_the_box(
    client, catalog: Catalog, settings, dispatched
):
    """The plan line, and the confirmation the start checks, count the requests sent together
    at the concurrency chosen, as the dry run does; a value that is not a number is refused."""
    from heatmap.models import Run

    settings.SKILLCHECK_CATALOG = catalog.root
    settings.SKILLCHECK_MODELS = MODELS
    settings.ANTHROPIC_API_KEY = "sk-test-key"
    settings.SKILLCHECK_CONFIRM_COST_USD = 0.0
    form = {"domains": ["for-long-skill", "for-short-skill"], "models": ["sonnet"]}

    def plan(concurrency: str) -> str:
        return client.get(
            "/run-controls/plan/", {**form, "concurrency": concurrency}
        ).content.decode()

    def token(line: str) -> str:
        return re.search(r'name="confirm_cost" value="(\d+)"', line)[1]

    one_by_one, together = plan("1"), plan("10")
    assert re.search(r"prompt caching saves ~\$\d+\.\d\d;", one_by_one)
    assert re.search(r"prompt caching adds ~\$\d+\.\d\d \(requests sent together", together)
    assert token(together) != token(one_by_one)
    assert "concurrency must be an integer from 1 to 64" in plan("many")

    start = {**form, "concurrency": "10", "next": "/heatmap/"}
    client.post("/run-controls/start/", {**start, "confirm_cost": token(one_by_one)})
    assert not Run.objects.exists(), "confirmed at another concurrency's estimate"
    client.post("/run-controls/start/", {**start, "confirm_cost": token(together)})
    assert Run.objects.get().concurrency == 10 and len(dispatched) == 1
