"""The scenario editor in a real Chromium: a broken save shows its line and column and leaves
the file alone, Go to line puts the cursor there, a fixed save writes the file and its .bak
and shows the catalog's plan line; at 390 and 1440 px, nothing wider than the screen."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from skillcheck.bundled import EXAMPLE_CATALOG_DIR

pytestmark = pytest.mark.browser

FILE = "price-tracking.yaml"
BROKEN = "domain: price-tracking\ntarget_skill: web-price-tracker\nscenarios:\n  - id: [oops\n"


@pytest.fixture(scope="module")
def editable_server(django_db_setup, start_daphne, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The app under daphne with a copy of the example catalog it may edit (the bundled one
    it may not): the child process keeps the settings it was forked with."""
    from django.conf import settings

    root = tmp_path_factory.mktemp("editable") / "catalog"
    shutil.copytree(EXAMPLE_CATALOG_DIR, root)
    saved = settings.SKILLCHECK_CATALOG, settings.DEBUG
    settings.SKILLCHECK_CATALOG, settings.DEBUG = root, False
    try:
        with start_daphne() as url:
            settings.SKILLCHECK_CATALOG, settings.DEBUG = saved
            yield url, root
    finally:
        settings.SKILLCHECK_CATALOG, settings.DEBUG = saved


@pytest.fixture
def editor(editable_server, transactional_db) -> tuple[str, Path]:
    url, root = editable_server
    original = EXAMPLE_CATALOG_DIR / "scenarios" / FILE
    shutil.copy2(original, root / "scenarios" / FILE)
    (root / "scenarios" / f"{FILE}.bak").unlink(missing_ok=True)
    return url, root


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow


@pytest.mark.parametrize("width", [390, 1440])
def test_edit_save_with_an_error_then_fixed(page: Page, editor, screenshots, width):
    url, root = editor
    path = root / "scenarios" / FILE
    original = path.read_bytes()
    page.set_viewport_size({"width": width, "height": 900})

    page.goto(f"{url}/scenarios/")
    expect(page.locator("h1")).to_contain_text("Scenarios of")
    expect(page.locator("#scenario-plan")).to_contain_text(re.compile(r"= \d+ tasks"))
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / f"scenario-list-{width}.png", full_page=True)
    page.get_by_role("link", name=FILE, exact=True).click()
    expect(page).to_have_url(re.compile(r"/scenarios/price-tracking/$"))

    area = page.locator("textarea#scenario-text")
    expect(area).to_have_value(original.decode())
    area.fill(BROKEN)
    page.get_by_role("button", name="Save").click()
    alert = page.locator("#scenario-result [role=alert]")
    expect(alert).to_contain_text("Not saved")
    expect(alert).to_contain_text("Line 5, column 1")
    expect(alert.locator(".yaml-snippet")).to_contain_text("- id: [oops")
    assert path.read_bytes() == original  # refused: nothing written
    assert not path.with_name(f"{FILE}.bak").exists()
    no_sideways_scroll(page)
    page.screenshot(path=screenshots / f"scenario-error-{width}.png", full_page=True)

    alert.get_by_role("button", name="Go to line 5").click()
    expect(area).to_be_focused()
    caret = area.evaluate("el => el.selectionStart")
    assert caret == len(BROKEN)  # line 5 is the empty line after the last newline

    fixed = original.decode().replace("Two-store price comparison", "Two-store prices")
    area.fill(fixed)
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#scenario-result [role=status]")).to_contain_text("Valid")
    assert path.read_bytes() == original  # Check saves nothing
    page.get_by_role("button", name="Save").click()
    status = page.locator("#scenario-result [role=status]")
    expect(status).to_contain_text(f"Saved scenarios/{FILE}")
    expect(status).to_contain_text(f"{FILE}.bak")
    expect(page.locator("#scenario-plan")).to_contain_text(
        re.compile(r"The catalog now: .*= \d+ tasks")
    )
    assert path.read_text() == fixed
    assert path.with_name(f"{FILE}.bak").read_bytes() == original
    page.screenshot(path=screenshots / f"scenario-saved-{width}.png", full_page=True)

    # A second save from the same page uses the version the first one answered.
    area.fill(fixed + "\n# again\n")
    with page.expect_response(re.compile(r"/scenarios/price-tracking/$")) as second:
        page.get_by_role("button", name="Save").click()
    assert second.value.status == 200
    assert path.read_text().endswith("# again\n")
