"""Issue 21 (7): a skill too large for a model's context window is a clear error before any
call (the plan, the web plan line, the dry run), not millions of tokens sent per task."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from heatmap.services import plans
from skillcheck.catalog import load_catalog

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

BIG = "local-business-leads"
# Three reference files of 400 KB: each under the per-file limit, 1.2 MB (~300,000 tokens)
# together, past a 200,000-token window. (The probe sent 12 files of 4 MB: 12 million.)
FILES, FILE_BYTES = 3, 400_000


@pytest.fixture
def big_catalog(tmp_path: Path, example_catalog_dir: Path, settings) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(example_catalog_dir, root)
    references = root / "skills" / BIG / "references"
    for index in range(FILES):
        (references / f"bulk-{index}.md").write_text("Scrape the listing. " * (FILE_BYTES // 20))
    settings.SKILLCHECK_CATALOG = root
    return root


def domain_of(catalog, skill: str) -> str:
    return next(d.id for d in catalog.domains.values() if d.specialist == skill)


def test_the_plan_refuses_a_skill_larger_than_the_models_window(big_catalog):
    catalog = load_catalog(big_catalog)
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
    catalog = load_catalog(big_catalog)
    plan = plans.run_plan(catalog=catalog, domains=[domain_of(catalog, BIG)], models=["heuristic"])
    assert plan.total > 0
    others = [d for d in catalog.domains.values() if d.specialist and d.specialist != BIG]
    plan = plans.run_plan(
        catalog=catalog, domains=[others[0].id], models=["sonnet"], require_available=False
    )
    assert plan.total > 0


def test_the_plan_line_says_so(client, big_catalog, fake_claude_bin):
    catalog = load_catalog(big_catalog)
    response = client.get(
        "/run-controls/plan/", {"domains": domain_of(catalog, BIG), "models": "sonnet"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "is too large for sonnet" in html


def test_the_api_refuses_to_start_it(client, big_catalog, fake_claude_bin, dispatched):
    catalog = load_catalog(big_catalog)
    response = client.post(
        "/api/heatmap/run",
        json.dumps({"domains": [domain_of(catalog, BIG)], "models": ["sonnet"]}),
        content_type="application/json",
    )
    assert response.status_code == 400 and "too large" in response.json()["error"]
    assert dispatched == []


def test_the_dry_run_says_so_and_calls_nothing(big_catalog, tmp_path, settings):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    catalog = load_catalog(big_catalog)
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
