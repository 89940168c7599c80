"""The skill page's trend chart on a phone and a desktop: every label at least 11 px tall as
drawn, a chart that is not most of the screen, and the mark where SKILL.md changed.
Photographed into the test artifacts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from heatmap.models import TaskResult
from tests.heatmap_data import make_run, specialist_task

pytestmark = pytest.mark.browser

WIDTHS = {"390": {"width": 390, "height": 844}, "1440": {"width": 1440, "height": 900}}


@pytest.fixture
def three_runs(catalog, scenario) -> str:
    """Three runs of one skill on two models; its files changed before the third."""
    for days, fingerprint, result in (
        (3, "a" * 16, "fail"),
        (2, "a" * 16, "pass"),
        (1, "b" * 16, "pass"),
    ):
        run = make_run(models=["haiku", "sonnet"], created_at=timezone.now() - timedelta(days=days))
        for model in ("haiku", "sonnet"):
            specialist_task(run, scenario, model=model, results={"WF-1": result, "WF-2": "pass"})
        TaskResult.objects.filter(run=run).update(skill_fingerprint=fingerprint)
    return f"/skills/{scenario.specialist}/"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_trend_chart_is_readable(
    page: Page, live_url: str, three_runs: str, screenshots, width
):
    viewport = WIDTHS[width]
    page.set_viewport_size(viewport)
    page.goto(live_url + three_runs)
    chart = page.locator("svg.history-chart")
    expect(chart.locator("g.edit-mark")).to_have_count(1)
    sizes = chart.locator("text").evaluate_all(
        "ts => ts.map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"
    )
    assert sizes and min(sizes) >= 11, sizes
    box = chart.bounding_box()
    assert box is not None and box["height"] <= 0.3 * viewport["height"], box
    assert box["width"] >= 0.8 * page.locator("section.trend").bounding_box()["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.locator("section.trend").screenshot(path=screenshots / f"skill-trend-{width}.png")
