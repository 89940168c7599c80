"""The keyboard reaches the matrix first: a skip link is the first Tab stop of every page."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from heatmap import selectors

pytestmark = pytest.mark.browser


def test_the_first_tab_is_a_skip_link_to_the_matrix(page: Page, live_url: str):
    domain = next(iter(selectors.catalog_current().domains))
    page.goto(f"{live_url}/heatmap/{domain}/")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Skip to the matrix")
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#domain-matrix$"))
    # The next Tab lands inside the matrix, not on the header or the filters.
    page.keyboard.press("Tab")
    inside = page.evaluate("document.activeElement.closest('#domain-matrix') !== null")
    assert inside
    page.goto(f"{live_url}/runs/")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip-link")).to_have_text("Skip to the content")
    expect(page.locator("a.skip-link")).to_be_focused()


@pytest.fixture
def three_models() -> str:
    """A domain with results of three models, so its matrix is wider than a phone."""
    from tests.heatmap_data import fill_domain, make_run

    catalog = selectors.catalog_current()
    domain = max(
        (d for d in catalog.domains.values() if not d.is_dev),
        key=lambda d: sum(len(s.target_skills) for s in d.scenarios),
    )
    run = make_run(models=["heuristic", "haiku", "sonnet"])
    for model, result in (("heuristic", "pass"), ("haiku", "fail"), ("sonnet", "unclear")):
        fill_domain(run, catalog, domain.id, model=model, result=result)
    return domain.id


def test_enter_opens_the_detail_and_escape_returns_to_the_cell(
    page: Page, live_url: str, three_models: str
):
    page.goto(f"{live_url}/heatmap/{three_models}/")
    cell = page.locator("#domain-matrix tbody td a").nth(1)
    cell.focus()
    href = cell.get_attribute("href")
    page.keyboard.press("Enter")
    heading = page.locator("#detail-panel h2")
    expect(heading).to_be_focused()
    expect(page.locator("#detail-panel [data-cell-key]")).to_be_visible()
    # Tab goes on through the detail (its prompt toggle, evidence links), not back to the top.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#detail-panel') !== null")
    page.keyboard.press("Escape")
    expect(page.locator("#detail-panel [data-cell-key]")).to_have_count(0)
    expect(page.locator("#detail-panel .detail-empty")).to_be_visible()
    focused = page.locator("#domain-matrix td a:focus")
    expect(focused).to_have_attribute("href", href)
    # A click (or the arrow keys) opens the detail and leaves the focus on the matrix.
    cell.click()
    expect(page.locator("#detail-panel [data-cell-key]")).to_be_visible()
    assert page.evaluate("document.activeElement.closest('#domain-matrix') !== null")
    expect(cell).to_have_attribute("aria-current", "true")
    page.keyboard.press("Escape")
    expect(page.locator("#detail-panel .detail-empty")).to_be_visible()
    expect(cell).not_to_have_attribute("aria-current", "true")


def test_a_table_that_scrolls_is_a_named_tab_stop(page: Page, live_url: str, three_models: str):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_url}/heatmap/{three_models}/")
    box = page.locator("#domain-matrix .scroll-box")
    expect(box).to_have_attribute("tabindex", "0")
    expect(box).to_have_attribute("role", "region")
    expect(box).to_have_attribute("aria-label", re.compile(r".+ \(scrolls\)$"))
    box.focus()
    page.keyboard.press("ArrowRight")
    # Polled from here: wait_for_function's string predicate is an eval, which the CSP refuses.
    deadline = time.monotonic() + 5
    while box.evaluate("b => b.scrollLeft") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert box.evaluate("b => b.scrollLeft") > 0
    # A box that fits its content (the runs table on a desktop) is no Tab stop.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_url}/runs/")
    fits = page.locator(".scroll-box").first
    assert fits.evaluate("b => b.scrollWidth <= b.clientWidth && b.scrollHeight <= b.clientHeight")
    expect(fits).not_to_have_attribute("tabindex", "0")


# The page's background colour at its first frame: a remembered dark mode must not flash light.
FIRST_FRAME = """requestAnimationFrame(() => {
  window.firstFrame = getComputedStyle(document.body || document.documentElement).backgroundColor;
});"""


def test_the_dark_mode_toggle_is_remembered_without_a_flash(page: Page, live_url: str):
    page.emulate_media(color_scheme="light")
    page.add_init_script(FIRST_FRAME)
    page.goto(f"{live_url}/runs/")
    toggle = page.get_by_role("button", name="Dark mode")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark != light
    page.goto(f"{live_url}/heatmap/")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    deadline = time.monotonic() + 5  # polled from here, as above (the CSP refuses an eval)
    while page.evaluate("() => window.firstFrame") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert page.evaluate("window.firstFrame") == dark
    # Back to what the system says: the choice is forgotten, the page follows the system.
    page.get_by_role("button", name="Dark mode").click()
    assert page.evaluate("localStorage.getItem('skillcheck-theme')") is None
    page.emulate_media(color_scheme="dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.get_by_role("button", name="Dark mode")).to_have_attribute("aria-pressed", "true")
