"""The keyboard reaches the matrix first: a skip link is the first Tab stop of every page."""

from __future__ import annotations

import re

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
