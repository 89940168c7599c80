"""Filters and the cell detail in a real Chromium: shareable filter URLs, every model side by
side, the clicked cell highlighted, arrow keys moving between cells."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from heatmap import selectors
from tests.heatmap_data import add_task, fill_domain, make_run

pytestmark = pytest.mark.browser

MODELS = ("heuristic", "haiku", "sonnet")
ANSWER = (
    "## Approach\nRead the skill.\n\n## Verdict\nFine.\n\n"
    '```json\n{"checks": [{"check_id": "WF-1", "result": "fail"}]}\n```\n'
)


@pytest.fixture
def domain() -> str:
    """A domain of three models: heuristic passes, haiku fails WF-1 only, sonnet is unclear."""
    catalog = selectors.catalog_current()
    domain = next(d for d in catalog.domains.values() if not d.is_dev and len(d.skills) > 1)
    run = make_run(models=list(MODELS))
    fill_domain(run, catalog, domain.id, model="heuristic", result="pass")
    fill_domain(run, catalog, domain.id, model="sonnet", result="unclear")
    checks = [c.id for c in catalog.taxonomy.model_checks]
    for scenario in domain.scenarios:
        for skill in scenario.target_skills:
            results = dict.fromkeys(checks, "pass") | {"WF-1": "fail"}
            add_task(
                run,
                scenario_id=scenario.id,
                skill=skill,
                model="haiku",
                results=results,
                domain=domain.id,
                markdown=ANSWER,
            )
    return domain.id


def test_filters_live_in_the_url_and_survive_a_reload(
    page: Page, live_url: str, domain, screenshots
):
    page.goto(f"{live_url}/heatmap/{domain}/")
    rows = page.locator("#domain-matrix tbody th[scope=row]")
    all_rows = rows.count()
    page.locator("form.filters").get_by_label("failures only").check()
    expect(page).to_have_url(re.compile(r"failures=1"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("WF-1")
    page.locator("form.filters input[name=model][value=haiku]").check()
    expect(page).to_have_url(re.compile(r"model=haiku"))
    # One model column per scenario, each headed by its name.
    expect(page.locator("#domain-matrix thead tr").nth(1).locator("th")).to_have_count(
        page.locator("#domain-matrix th.scn").count()
    )
    expect(page.locator("#domain-matrix thead tr").nth(1).locator("th").first).to_contain_text(
        "haiku"
    )
    # The domain tabs follow the filters, and a reload shows the same view.
    expect(page.locator("#domain-tabs a", has_text="All skills")).to_have_attribute(
        "href", re.compile("failures=1")
    )
    page.reload()
    expect(page.locator("form.filters input[name=model][value=haiku]")).to_be_checked()
    expect(rows).to_have_count(1)
    page.screenshot(path=screenshots / "domain-filtered-1280.png", full_page=True)
    page.locator("form.filters").get_by_role("link", name="Reset").click()
    expect(rows).to_have_count(all_rows)


def test_cell_detail_side_by_side_with_highlight_and_arrow_keys(
    page: Page, live_url: str, domain, screenshots
):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_url}/heatmap/{domain}/")
    first = page.locator("#domain-matrix tbody td").first
    first.locator("a").click()
    panel = page.locator("#detail-panel")
    expect(panel.locator(".detail-model")).to_have_count(3)
    expect(panel.locator(".detail-model h3")).to_have_text(list(MODELS))
    expect(first).to_have_class(re.compile(r"\bselected\b"))
    # Evidence first; the analysis and the raw JSON are collapsed.
    haiku = panel.locator(".detail-model[data-model=haiku]")
    expect(haiku.locator("details.raw pre").first).to_be_hidden()
    haiku.locator("details.raw summary").first.click()
    expect(haiku.locator("details.raw pre").first).to_contain_text('"check_id": "WF-1"')
    page.screenshot(path=screenshots / "cell-detail-1440.png", full_page=False)

    key = panel.locator("[data-cell-key]").get_attribute("data-cell-key")
    first.locator("a").focus()  # back in the matrix, after reading the detail
    page.keyboard.press("ArrowRight")
    expect(panel.locator("[data-cell-key]")).not_to_have_attribute("data-cell-key", key)
    second = (
        page.locator("#domain-matrix tbody tr")
        .filter(has=page.locator("td"))
        .first.locator("td")
        .nth(1)
    )
    expect(second).to_have_class(re.compile(r"\bselected\b"))
    expect(first).not_to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("ArrowDown")
    expect(panel.locator(".cell-detail > h2")).not_to_contain_text("WF-1")
    assert page.locator("#domain-matrix td.selected").count() == 1


def test_the_empty_detail_panel_stays_narrow_until_a_cell_is_chosen(
    page: Page, live_url: str, domain, screenshots
):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_url}/heatmap/{domain}/")
    side = page.locator("aside.side-col")
    matrix = page.locator("#domain-matrix .matrix-box")
    empty = side.bounding_box()
    assert empty["width"] <= 0.15 * 1440, empty  # one line of help, not 40 % of the screen
    page.screenshot(path=screenshots / "domain-empty-detail-1440.png", full_page=False)

    page.locator("#domain-matrix tbody td a").first.click()
    expect(page.locator("#detail-panel .detail-model")).to_have_count(3)
    chosen = side.bounding_box()
    assert chosen["width"] >= 384, chosen  # 24rem at least once it shows the answers
    assert matrix.bounding_box()["x"] + matrix.bounding_box()["width"] <= chosen["x"]
    page.screenshot(path=screenshots / "domain-chosen-detail-1440.png", full_page=False)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_url}/heatmap/{domain}/")
    side_box, matrix_box = side.bounding_box(), matrix.bounding_box()
    assert side_box["y"] >= matrix_box["y"] + matrix_box["height"]  # below the matrix
    assert side_box["height"] < 120, side_box
    page.screenshot(path=screenshots / "domain-empty-detail-390.png", full_page=True)
