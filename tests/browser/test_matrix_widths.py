"""The real corpus with three models, as issue 19 tried it: the overview readable on a phone
(the skill, its pass % and one model on the first screen, the other columns in the table's
own scroll) and whole on a desktop, and the domain matrix at both widths. Photographed into
the test artifacts."""

from __future__ import annotations

import zlib

import pytest
from playwright.sync_api import Page, expect

from heatmap.services.catalogs import catalog_register
from skillcheck.catalog import load_catalog
from tests.heatmap_data import add_task, make_run

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
MODELS = ("haiku", "sonnet", "opus")
RESULTS = ("pass", "pass", "pass", "fail", "fail", "unclear", "na")
DOMAIN = "competitive-intelligence"  # the corpus's widest matrix


@pytest.fixture
def corpus_results(corpus_dir) -> str:
    """Every task of the corpus for three models, verdicts scattered as real models give
    them; the ``?catalog=`` query that shows it."""
    corpus = load_catalog(corpus_dir)
    run = make_run(catalog=catalog_register(catalog=corpus), models=list(MODELS))
    checks = [c.id for c in corpus.taxonomy.model_checks]
    for scenario in corpus.scenarios:
        for skill in scenario.target_skills:
            for model in MODELS:
                results = {
                    c: RESULTS[zlib.crc32(f"{scenario.id}{skill}{model}{c}".encode()) % 7]
                    for c in checks
                }
                add_task(run, scenario_id=scenario.id, skill=skill, model=model, results=results)
    return "?catalog=apify-skills"


def _right(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"]


def test_the_overview_on_a_phone_shows_the_pass_pct_and_a_model(
    page: Page, live_url: str, corpus_results: str, screenshots
):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/heatmap/{corpus_results}")
    page.screenshot(path=screenshots / "corpus-overview-390.png", full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.locator("#overview-table .scroll-box")
    edge = _right(page, "#overview-table .scroll-box")
    row = "#overview-table tbody tr[data-skill]"
    # The skill, all models' pass % and the first model's, whole, before any scrolling.
    for cell in (f"{row} th", f"{row} td.pct", f"{row} td[data-model]"):
        assert _right(page, cell) <= edge, cell
    # The rest scrolls inside the table's box, which keyboard users can reach too.
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")


def test_the_overview_fits_its_box_on_a_desktop(
    page: Page, live_url: str, corpus_results: str, screenshots
):
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_url}/heatmap/{corpus_results}")
    expect(page.locator("#overview-table tbody tr[data-skill]").first).to_be_visible()
    page.screenshot(path=screenshots / "corpus-overview-1440.png", full_page=True)
    box = page.locator("#overview-table .scroll-box")
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth"), box.evaluate(
        "b => [b.scrollWidth, b.clientWidth]"
    )
    # No chip's count is cut: every chip ends inside the table.
    table_right = _right(page, "#overview-table table")
    chips = page.locator("#overview-table .chip").evaluate_all(
        "chips => chips.map(c => c.getBoundingClientRect().right)"
    )
    assert chips and max(chips) <= table_right


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1440"])
def test_the_corpus_matrix_at_both_widths(
    page: Page, live_url: str, corpus_results: str, screenshots, viewport
):
    page.set_viewport_size(viewport)
    page.goto(f"{live_url}/heatmap/{DOMAIN}/{corpus_results}")
    cells = page.locator("#domain-matrix tbody td a")
    expect(cells.first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=screenshots / f"corpus-domain-{viewport['width']}.png", full_page=False)
    # Every cell is a link: reachable by Tab, and by the arrow keys from one to the next.
    cells.first.focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#detail-panel [data-cell-key]")).to_be_attached()
    cells.nth(1).click()
    expect(page.locator("#domain-matrix td.selected")).to_have_count(1)
    page.screenshot(
        path=screenshots / f"corpus-domain-detail-{viewport['width']}.png", full_page=False
    )
