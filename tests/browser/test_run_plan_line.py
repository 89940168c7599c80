"""The run controls' plan line follows every change, even once the cost confirmation (a
required box) is on screen: htmx must not validate the form before asking for the plan."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_the_cost_line_follows_the_models_while_the_confirmation_is_unticked(
    page: Page, live_url: str
):
    page.set_viewport_size({"width": 1440, "height": 900})
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/plan" in r.url else None)
    page.goto(f"{live_url}/heatmap/")
    form = page.locator("#run-controls")
    form.get_by_role("button", name="all").first.click()  # every domain
    models = form.locator("input[name=models]:not(:disabled)")
    assert models.count() >= 3, models.count()
    plan = page.locator("#run-plan")
    for i in range(models.count()):
        if not models.nth(i).is_checked():
            models.nth(i).check()
            expect(plan).to_contain_text(f"× {sum(m.is_checked() for m in models.all())} model")
    confirm = plan.locator("input[name=confirm_cost]")
    expect(confirm).to_be_visible()  # above the threshold: the required box is there, unticked
    before = plan.inner_text()
    models.last.uncheck()
    expect(plan).not_to_have_text(before)
    expect(plan).to_contain_text(f"× {models.count() - 1} model")
    # A GET's URL lands in logs and Referer headers: the CSRF token stays out of it.
    assert asked and not [url for url in asked if "csrfmiddlewaretoken" in url]
