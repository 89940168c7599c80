"""Every page on a phone (390 px) and a desktop (1440 px): no page-level sideways scroll, the
matrix usable on a phone, the runs table whole on a desktop, and the run controls after a run."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from heatmap import selectors
from heatmap.models import Run
from tests.browser.conftest import POLL_S
from tests.heatmap_data import fill_domain, make_run

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
RUN_TIMEOUT_MS = 60_000


def _domains() -> tuple[str, str]:
    """The domain with the most scenario-skill pairs (a wide matrix) and the one with fewest."""
    catalog = selectors.catalog_current()
    domains = [d for d in catalog.domains.values() if not d.is_dev]
    size = {d.id: sum(len(s.target_skills) for s in d.scenarios) for d in domains}
    return max(size, key=size.get), min(size, key=size.get)


@pytest.fixture
def results() -> dict[str, str]:
    """Results of three models in the widest domain, and runs with long lists of domains."""
    catalog = selectors.catalog_current()
    wide, _ = _domains()
    run = make_run(models=["heuristic", "haiku", "sonnet"], domains=list(catalog.domains))
    for model, result in (("heuristic", "pass"), ("haiku", "fail"), ("sonnet", "unclear")):
        fill_domain(run, catalog, wide, model=model, result=result)
    stopped = make_run(
        status=Run.Status.CANCELLED,
        models=["haiku", "sonnet", "opus"],
        domains=list(catalog.domains),
    )
    scenario = catalog.domains[wide].scenarios[0]
    return {
        "domain": wide,
        "run": run.run_id,
        "stopped": stopped.run_id,
        "scenario": scenario.id,
        "skill": scenario.specialist,
    }


def _page_scroll_width(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1440"])
def test_no_page_scrolls_sideways(page: Page, live_url: str, results, screenshots, viewport):
    page.set_viewport_size(viewport)
    domain = results["domain"]
    cell = f"scenario={results['scenario']}&check=WF-1&clicked=haiku"
    pages = {
        "overview": "/heatmap/",
        "domain": f"/heatmap/{domain}/",
        "cell-detail": f"/heatmap/{domain}/cell/?{cell}",
        "bp": f"/heatmap/{domain}/bp/",
        "bp-finding": f"/heatmap/{domain}/bp/cell/?skill={results['skill']}&check=BP-1",
        "runs": "/runs/",
        "run": f"/runs/{results['run']}/",
        "compare": f"/runs/{results['run']}/compare/{results['stopped']}/",
        "skill": f"/skills/{results['skill']}/",
    }
    too_wide = {}
    for name, path in pages.items():
        page.goto(live_url + path)
        if name == "overview":  # its model agreement is asked for once the table is in
            expect(page.locator("#agreement h2")).to_have_text("Model agreement")
        scroll_width, width = _page_scroll_width(page)
        if scroll_width > width:
            too_wide[name] = scroll_width
        page.screenshot(path=screenshots / f"{name}-{viewport['width']}.png", full_page=True)
    assert too_wide == {}, f"pages wider than {viewport['width']} px: {too_wide}"


def test_the_matrix_is_visible_and_clickable_on_a_phone(page: Page, live_url: str, results):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/heatmap/{results['domain']}/")
    box = page.locator("#domain-matrix .scroll-box").bounding_box()
    assert box is not None and box["width"] > 300, box
    # The check names stay in view while the matrix scrolls sideways inside its box.
    first_header = page.locator("#domain-matrix tbody th[scope=row]").first
    left_before = first_header.bounding_box()["x"]
    page.locator("#domain-matrix .scroll-box").evaluate("box => { box.scrollLeft = 400; }")
    assert abs(first_header.bounding_box()["x"] - left_before) < 1
    last_cell = page.locator("#domain-matrix tbody td a").last
    last_cell.click()
    expect(page.locator("#detail-panel")).to_contain_text("sonnet")
    assert _page_scroll_width(page)[0] <= PHONE["width"]


def test_the_runs_table_fits_a_desktop_with_its_actions(page: Page, live_url: str, results):
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_url}/runs/")
    row = page.locator(f"tr[data-run='{results['stopped']}']")
    for element in (row.get_by_role("button", name="Resume"), row.get_by_text("report JSON")):
        expect(element).to_be_visible()
        box = element.bounding_box()
        assert box["x"] + box["width"] <= DESKTOP["width"], box
    assert _page_scroll_width(page)[0] <= DESKTOP["width"]


def test_the_runs_are_cards_on_a_phone(page: Page, live_url: str, results, screenshots):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/runs/")
    row = page.locator(f"tr[data-run='{results['stopped']}']")
    box = row.bounding_box()
    # A card the width of the screen, each value under its column's name, not a 615 px row.
    assert box["width"] >= 0.85 * PHONE["width"] and box["height"] < 500, box
    expect(row.locator("td[data-label=Cost]")).to_be_visible()
    expect(row.get_by_role("button", name="Resume")).to_be_visible()
    assert _page_scroll_width(page)[0] <= PHONE["width"]
    page.screenshot(path=screenshots / "runs-cards-390.png", full_page=False)


def test_run_buttons_come_back_and_the_table_fills_when_a_run_ends(page: Page, live_url: str):
    _, small = _domains()
    page.goto(f"{live_url}/heatmap/")
    controls = page.locator("#run-controls")
    controls.locator("button[data-check=domains][data-value=none]").click()
    controls.locator(f"input[name=domains][value='{small}']").check()
    for box in controls.locator("input[name=models]:not([disabled])").all():
        box.set_checked(box.get_attribute("value") == "haiku")
    controls.locator("input[name=concurrency]").fill("1")
    run_button = controls.get_by_role("button", name="Run", exact=True)
    run_button.click()
    expect(run_button).to_be_disabled()
    page.evaluate("window.notReloaded = true")

    expect(page.locator("#progress-body")).to_have_attribute(
        "data-status", "completed", timeout=RUN_TIMEOUT_MS
    )
    # No reload: the page's own state survives, the buttons are back, the table is filled.
    within_a_poll = POLL_S * 1000 + 1500
    expect(run_button).to_be_enabled(timeout=within_a_poll)
    expect(controls.get_by_role("button", name="Run all")).to_be_enabled()
    specialist = selectors.catalog_current().domains[small].scenarios[0].specialist
    cell = page.locator(f"#overview-table tr[data-skill='{specialist}'] td.pct").first
    expect(cell).to_have_attribute("data-filled", "1", timeout=within_a_poll)
    assert page.evaluate("window.notReloaded") is True
    # The selection is kept for the next run.
    expect(controls.locator(f"input[name=domains][value='{small}']")).to_be_checked()
    expect(controls.locator("input[name=models][value=haiku]")).to_be_checked()
