"""Issue 21 (7): a skill too large for a model's context window is a clear error before any
call, not millions of tokens sent per task: its files together are capped
(``SKILLCHECK_MAX_SKILL_BYTES``, a catalog error naming the skill), and every request is
measured against its model's window (the plan, the web plan line, the dry run) for a cap
raised past what a model can read."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from heatmap.services import plans
from skillcheck.catalog import CatalogError, load_catalog

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

BIG = "local-business-leads"
# Three reference files of 400 KB: each under the per-file limit, 1.2 MB (~300,000 tokens)
# together, past a 200,000-token window. (The probe sent 12 files of 4 MB: 12 million.)
FILES, FILE_BYTES = 3, 400_000
RAISED_CAP = 10 * 1024 * 1024  # SKILLCHECK_MAX_SKILL_BYTES raised past any model's window


@pytest.fixture
def big_catalog(tmp_path: Path, example_catalog_dir: Path, settings) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(example_catalog_dir, root)
    references = root / "skills" / BIG / "references"
    for index in range(FILES):
        (references / f"bulk-{index}.md").write_text("Scrape the listing. " * (FILE_BYTES // 20))
    settings.SKILLCHECK_CATALOG = root
    settings.SKILLCHECK_MAX_SKILL_BYTES = RAISED_CAP
    return root


def load(root: Path):
    return load_catalog(root, max_skill_bytes=RAISED_CAP)


def domain_of(catalog, skill: str) -> str:
    return next(d.id for d in catalog.domains.values() if d.specialist == skill)


def test_the_plan_refuses_a_skill_larger_than_the_models_window(big_catalog):
    catalog = load(big_catalog)
    with pytest.raises(plans.RunRequestError) as refused:
        plans.run_plan(
            catalog=catalog,
            domains=[domain_of(catalog, BIG)],
            models=["sonnet", "heuristic"],
            require_available=False,
        )
    message = str(refused.value)
    assert f"skill '{BIG}' (" in message and "is too large for sonnet" in message
    assert "context window holds 200,000" in message
    tokens = int(message.split("about ")[1].split(" input")[0].replace(",", ""))
    assert tokens > FILES * FILE_BYTES // 4


def test_models_without_a_window_and_small_skills_plan_as_before(big_catalog):
    catalog = load(big_catalog)
    plan = plans.run_plan(catalog=catalog, domains=[domain_of(catalog, BIG)], models=["heuristic"])
    assert plan.total > 0
    others = [d for d in catalog.domains.values() if d.specialist and d.specialist != BIG]
    plan = plans.run_plan(
        catalog=catalog, domains=[others[0].id], models=["sonnet"], require_available=False
    )
    assert plan.total > 0


def test_the_plan_line_says_so(client, big_catalog, fake_claude_bin):
    catalog = load(big_catalog)
    response = client.get(
        "/run-controls/plan/", {"domains": domain_of(catalog, BIG), "models": "sonnet"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "is too large for sonnet" in html


def test_the_api_refuses_to_start_it(client, big_catalog, fake_claude_bin, dispatched):
    catalog = load(big_catalog)
    response = client.post(
        "/api/heatmap/run",
        json.dumps({"domains": [domain_of(catalog, BIG)], "models": ["sonnet"]}),
        content_type="application/json",
    )
    assert response.status_code == 400 and "too large" in response.json()["error"]
    assert dispatched == []


def test_the_dry_run_says_so_and_calls_nothing(big_catalog, tmp_path, settings):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    catalog = load(big_catalog)
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command(
            "run_scored",
            *("--catalog", str(big_catalog), "--domains", domain_of(catalog, BIG)),
            *("--models", "sonnet", "--dry-run"),
            stdout=out,
            stderr=out,
        )
    assert "is too large for sonnet" in str(refused.value) + out.getvalue()


def test_a_skill_over_the_total_cap_is_a_catalog_error_naming_it(big_catalog, settings):
    """The probe: twelve 4 MB reference files, each under the per-file cap, sent whole."""
    with pytest.raises(CatalogError) as refused:
        load_catalog(big_catalog)
    message = str(refused.value)
    assert f"skills/{BIG}/SKILL.md" in message and f"skill '{BIG}'" in message
    assert "SKILLCHECK_MAX_SKILL_BYTES" in message and "6 files total 1,2" in message

    settings.SKILLCHECK_MAX_SKILL_BYTES = 640 * 1024
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "run_scored",
            *("--catalog", str(big_catalog), "--models", "heuristic", "--dry-run"),
            stdout=out,
            stderr=out,
        )


def test_a_skill_that_grows_past_the_cap_after_loading_is_refused_when_read(tmp_path):
    catalog = load_catalog(
        Path(__file__).resolve().parent.parent / "catalog", max_skill_bytes=200_000
    )
    skill = catalog.skills[BIG]
    assert skill.documents()  # fits now
    grown = tmp_path / "grown"
    shutil.copytree(skill.root, grown)
    (grown / "references" / "bulk.md").write_text("x" * 250_000)
    moved = type(skill)(name=skill.name, path=grown / "SKILL.md", max_skill_bytes=200_000)
    with pytest.raises(CatalogError, match="over the limit of 200,000 bytes for one skill"):
        moved.documents()
