"""The header's catalog switcher, as a user meets it on a phone and a desktop: it names the
catalog shown, opens a menu of every catalog, and moves the heatmap to the one chosen.

The open menu is photographed at 390 and 1440 px into ``docs/img/`` (the heatmap page shows
it) and the test-artifacts folder."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from heatmap import selectors
from heatmap.services.catalogs import catalog_register
from skillcheck.catalog import load_catalog
from tests.heatmap_data import configured_catalog, fill_domain, make_run

pytestmark = pytest.mark.browser

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


@pytest.fixture
def two_catalogs(corpus_dir) -> dict[str, set[str]]:
    """Results of the configured catalog and of the real corpus, one domain each."""
    bundled = selectors.catalog_current()
    corpus = load_catalog(corpus_dir)
    bundled_domain = next(d for d in bundled.domains.values() if len(d.skills) > 1)
    corpus_domain = next(d for d in corpus.domains.values() if len(d.skills) > 1)
    fill_domain(make_run(catalog=configured_catalog()), bundled, bundled_domain.id, model="haiku")
    corpus_run = make_run(catalog=catalog_register(catalog=corpus))
    fill_domain(corpus_run, corpus, corpus_domain.id, model="haiku", result="fail")
    return {"catalog": set(bundled.skills), "apify-skills": set(corpus.skills)}


def shown_skills(page: Page) -> set[str]:
    return set(
        page.locator("#overview-table tr[data-skill]").evaluate_all(
            "rows => rows.map(r => r.dataset.skill)"
        )
    )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1440"])
def test_the_switcher_moves_the_heatmap_to_another_catalog(
    page: Page, live_url: str, two_catalogs, screenshots, viewport
):
    page.set_viewport_size(viewport)
    page.goto(live_url + "/heatmap/")
    switcher = page.locator("header .catalog-switcher")
    expect(switcher.locator("summary")).to_contain_text("catalog")
    assert shown_skills(page) == two_catalogs["catalog"]
    menu = switcher.locator("ul")
    expect(menu).to_be_hidden()

    switcher.locator("summary").click()
    expect(menu).to_be_visible()
    expect(menu.locator("a")).to_have_text(["apify-skills", "catalog"])
    # The open menu fits the screen: nothing scrolls sideways, every entry can be tapped.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    box = menu.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    picture = screenshots / f"catalog-switcher-{viewport['width']}.png"
    page.screenshot(path=picture)
    shutil.copyfile(picture, DOCS_IMAGES / picture.name)

    menu.get_by_role("link", name="apify-skills").click()
    expect(page).to_have_url(re.compile(r"/heatmap/\?catalog=apify-skills$"))
    expect(switcher.locator("summary")).to_contain_text("apify-skills")
    assert shown_skills(page) == two_catalogs["apify-skills"]
    # The domain tabs keep the catalog.
    tab = page.locator("#domain-tabs a").nth(1)
    expect(tab).to_have_attribute("href", re.compile(r"\?catalog=apify-skills$"))
    page.screenshot(path=screenshots / f"catalog-switched-{viewport['width']}.png", full_page=True)


def test_the_switcher_opens_from_the_keyboard(page: Page, live_url: str, two_catalogs):
    page.goto(live_url + "/heatmap/?catalog=apify-skills")
    page.locator("header .catalog-switcher summary").focus()
    page.keyboard.press("Enter")
    current = page.locator("header .catalog-switcher a[aria-current]")
    expect(current).to_have_text("apify-skills")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the first entry
    expect(page).to_have_url(re.compile(r"\?catalog=apify-skills$"))
