"""From "this check failed" to the line to change, in a real Chromium: the overview's failing
check, its matrix, the cell's evidence, the cited line of SKILL.md highlighted."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from heatmap import selectors
from tests.heatmap_data import fill_domain, make_run

pytestmark = pytest.mark.browser

MODELS = ("heuristic", "haiku", "sonnet")
CITED_LINE = 6


@pytest.fixture
def failing():
    """Three models on one domain; haiku fails WF-1 everywhere, citing SKILL.md's line 6."""
    catalog = selectors.catalog_current()
    domain = next(d for d in catalog.domains.values() if not d.is_dev and len(d.skills) > 1)
    run = make_run(models=list(MODELS))
    fill_domain(run, catalog, domain.id, model="heuristic", result="pass")
    fill_domain(run, catalog, domain.id, model="sonnet", result="pass")
    checks = [c.id for c in catalog.taxonomy.model_checks]
    fill_domain(
        run,
        catalog,
        domain.id,
        model="haiku",
        result=dict.fromkeys(checks, "pass") | {"WF-1": "fail"},
        evidence=f'SKILL.md:{CITED_LINE}: "<b>the step</b>" leaves out the retry',
    )
    return domain


@pytest.mark.parametrize("width", [390, 1440])
def test_a_failing_check_leads_to_its_line_of_skill_md(
    page: Page, live_url: str, failing, screenshots, width
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_url}/heatmap/")
    skill = failing.scenarios[0].specialist
    row = page.locator(f"#overview-table tr[data-skill='{skill}']")
    row.locator("a.chip", has_text="WF-1").click()
    expect(page).to_have_url(re.compile(r"check=WF-1"))
    expect(page.locator("#domain-matrix tbody th[scope=row] b")).to_have_text(["WF-1"])
    page.locator("#domain-matrix td a[href*='clicked=haiku']").first.click()
    haiku = page.locator("#detail-panel .detail-model[data-model=haiku]")
    link = haiku.locator("a.cite").first
    expect(link).to_have_text(f"SKILL.md:{CITED_LINE}")
    expect(haiku.locator(".evidence").first).to_contain_text("<b>the step</b>")
    link.click()
    expect(page).to_have_url(re.compile(rf"/skills/[^/]+/files/SKILL\.md\?.*#L{CITED_LINE}$"))
    target = page.locator(f"tr#L{CITED_LINE}")
    expect(target).to_have_class(re.compile(r"\bhas-pins\b"))
    expect(target.locator(".pin").first).to_contain_text("WF-1")
    assert target.evaluate("el => el.matches(':target')")
    highlight = target.evaluate("el => getComputedStyle(el).backgroundColor")
    other = page.locator("tr#L1").evaluate("el => getComputedStyle(el).backgroundColor")
    assert highlight != other
    page.screenshot(path=screenshots / f"skill-viewer-{width}.png", full_page=False)
    # Nothing in the viewer is wider than the phone's screen but its own scroll box.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow
