"""The heatmap in a real Chromium: a live two-model run, Cancel, and a hostile answer."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from heatmap import selectors
from heatmap.models import Run
from tests.heatmap_data import add_task, make_run

pytestmark = pytest.mark.browser

HOSTILE = (
    "## Analysis\n\n<script>window.pwned = 'script'</script>\n\n"
    '<img src="x" onerror="window.pwned = \'onerror\'">\n\n'
    "[docs](javascript:window.pwned='link')\n"
)


def _domain(min_pairs: int = 4) -> tuple[str, int]:
    catalog = selectors.catalog_current()
    for domain in catalog.domains.values():
        pairs = sum(len(s.target_skills) for s in domain.scenarios)
        if pairs >= min_pairs and not domain.is_dev:
            return domain.id, pairs
    raise AssertionError("the example catalog has no domain with enough pairs")


def _filled(page: Page) -> int:
    return int(page.locator("#domain-matrix").get_attribute("data-filled") or 0)


def test_a_two_model_run_fills_cells_live_and_cancel_stops_it(page: Page, live_url: str, artifacts):
    domain_id, pairs = _domain()
    page.goto(f"{live_url}/heatmap/")
    controls = page.locator("#run-controls")
    controls.locator("button[data-check=domains][data-value=none]").click()
    controls.locator(f"input[name=domains][value='{domain_id}']").check()
    controls.locator("input[name=models][value=heuristic]").uncheck()
    controls.locator("input[name=models][value=haiku]").check()
    controls.locator("input[name=models][value=sonnet]").check()
    controls.locator("input[name=concurrency]").fill("1")
    total = pairs * 2
    expect(page.locator("#run-plan")).to_have_text(
        f"1 domain × {pairs} scenario-skill pairs × 2 models = {total} tasks"
    )
    page.screenshot(path=artifacts / "run-controls.png", full_page=True)
    controls.get_by_role("button", name="Run", exact=True).click()

    progress = page.locator("#progress-body .progress-count")
    expect(progress).to_have_text(
        re.compile(rf"^\d+ / {total} completed \(haiku, sonnet\)$"), timeout=10_000
    )

    page.goto(f"{live_url}/heatmap/{domain_id}/")
    matrix = page.locator("#domain-matrix")
    expect(matrix).to_have_attribute("hx-trigger", re.compile("every"))
    deadline = time.monotonic() + 30
    while _filled(page) == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    earlier = _filled(page)
    assert earlier > 0, "no cell filled in"
    while _filled(page) <= earlier and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    later = _filled(page)
    run = Run.objects.get()
    assert later > earlier, "cells did not fill between polls"
    assert run.completed < run.total, "the run finished before a second poll; make it slower"
    expect(page.locator("#progress-body .progress-count")).to_have_text(
        re.compile(rf"^\d+ / {total} completed \(haiku, sonnet\)$")
    )
    page.screenshot(path=artifacts / "run-live.png", full_page=True)

    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#progress-body")).to_have_attribute(
        "data-status", "cancelled", timeout=15_000
    )
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELLED and run.completed < run.total
    expect(matrix).not_to_have_attribute("hx-trigger", re.compile("every"), timeout=5_000)
    page.screenshot(path=artifacts / "run-cancelled.png", full_page=True)


def test_a_hostile_answer_is_shown_as_text_and_never_runs(page: Page, live_url: str, artifacts):
    domain_id, _ = _domain()
    scenario = selectors.catalog_current().domains[domain_id].scenarios[0]
    add_task(
        make_run(),
        scenario_id=scenario.id,
        skill=scenario.specialist,
        model="haiku",
        results={"WF-1": "fail"},
        domain=domain_id,
        markdown=HOSTILE,
        evidence="<img src=x onerror=\"window.pwned='evidence'\">",
    )
    page.goto(f"{live_url}/heatmap/{domain_id}/")
    page.locator("#domain-matrix td.cell a").first.click()
    panel = page.locator("#detail-panel")
    expect(panel).to_contain_text("WF-1")
    panel.locator("summary", has_text="Full analysis").click()
    expect(panel.locator(".markdown h2")).to_have_text("Analysis")
    expect(panel).to_contain_text("<script>window.pwned")
    page.wait_for_timeout(300)
    page.screenshot(path=artifacts / "hostile-answer.png", full_page=True)
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert panel.locator("script, img, a[href^=javascript]").count() == 0
