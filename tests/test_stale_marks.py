"""Stale marks: results produced from another SKILL.md than the catalog's now are marked."""

from __future__ import annotations

import pytest

from heatmap import selectors
from heatmap.models import Run
from heatmap.services.execution import run_execute
from heatmap.services.start import run_create
from tests.matrix_html import matrix_cells

pytestmark = pytest.mark.django_db

DOMAIN = "price-tracking"
SKILL = "web-scraper"  # the generalist audited beside price-tracking's specialist


@pytest.fixture
def catalog_dir(catalog_dir, tmp_path, settings):
    """The editable copy of the example catalog (tests/conftest.py), as the app's catalog."""
    settings.SKILLCHECK_CATALOG = catalog_dir
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    return catalog_dir


def run_heuristic(**options) -> Run:
    catalog = selectors.catalog_current()
    run = run_create(domains=[DOMAIN], models=["heuristic"], catalog=catalog, **options)
    return run_execute(run=run)


def edit_skill(catalog_dir) -> None:
    path = catalog_dir / "skills" / SKILL / "SKILL.md"
    path.write_text(path.read_text() + "\nA new rule.\n")


def stale_cells(data: dict) -> set[tuple[str, str]]:
    return {
        (cell["scenario_id"], skill)
        for check in data["checks"]
        for cell in check["cells"]
        for skill in cell["stale"]
    }


def test_domain_api_and_page_mark_exactly_the_stale_results(client, catalog_dir):
    first = run_heuristic()
    data = client.get(f"/api/heatmap/domain/{DOMAIN}").json()
    assert stale_cells(data) == set()
    edit_skill(catalog_dir)
    data = client.get(f"/api/heatmap/domain/{DOMAIN}").json()
    expected = set(first.tasks.filter(skill=SKILL).values_list("scenario_id", "skill"))
    assert expected and stale_cells(data) == expected
    # every check of those tasks, and nothing else
    marked = sum(len(cell["stale"]) for check in data["checks"] for cell in check["cells"])
    assert marked == len(expected) * len(data["checks"])
    page = client.get(f"/heatmap/{DOMAIN}/").content.decode()
    blocks = [b for cell in matrix_cells(page).values() for b in cell.blocks]
    assert sum(b.stale for b in blocks) == marked and "corner: stale" in page
    # The mark leaves the glyph: a stale block still reads as its verdict.
    assert all(b.glyph == "✓" for b in blocks if b.stale and b.result == "pass")


def test_cell_detail_explains_what_changed_and_when(client, catalog_dir):
    first = run_heuristic()
    edit_skill(catalog_dir)
    task = first.tasks.filter(skill=SKILL).first()
    html = client.get(
        f"/heatmap/{DOMAIN}/cell/", {"scenario": task.scenario_id, "check": "WF-1"}
    ).content.decode()
    assert f"SKILL.md changed since this result, {task.finished_at:%Y-%m-%d}" in html
    assert html.count("Stale:") == 1  # the specialist's result is current


def test_overview_counts_stale_results_and_rerun_stale_runs_exactly_those(
    client, catalog_dir, dispatched
):
    first = run_heuristic()
    edit_skill(catalog_dir)
    expected = set(first.tasks.filter(skill=SKILL).values_list("scenario_id", "skill", "model"))
    rows = {r["skill"]: r for r in client.get("/api/heatmap/skills").json()}
    assert rows[SKILL]["stale"] == len(expected) and sum(r["stale"] for r in rows.values()) == len(
        expected
    )
    page = client.get("/heatmap/").content.decode()
    assert f'data-stale-total="{len(expected)}"' in page and "Re-run stale" in page
    client.post("/run-controls/rerun-stale/", {"next": "/heatmap/"})
    rerun = Run.objects.exclude(pk=first.pk).get()
    assert dispatched == [rerun.run_id] and rerun.total == len(expected)
    run_execute(run=rerun)
    assert set(rerun.tasks.values_list("scenario_id", "skill", "model")) == expected
    assert selectors.stale_tasks(catalog=selectors.catalog_current()) == []
    assert "data-stale-total" not in client.get("/heatmap/").content.decode()
