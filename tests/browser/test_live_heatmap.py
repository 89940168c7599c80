"""The heatmap in a real Chromium: a live three-model run, Cancel, and a hostile answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, Response, expect

from heatmap import selectors
from heatmap.models import Run
from tests.browser.conftest import POLL_S
from tests.heatmap_data import make_run, specialist_task

pytestmark = pytest.mark.browser

HOSTILE = (
    "## Analysis\n\n<script>window.pwned = 'script'</script>\n\n"
    '<img src="x" onerror="window.pwned = \'onerror\'">\n\n'
    "[docs](javascript:window.pwned='link')\n"
)
# The models in the order the controls list them, which is the order the run records.
THREE_MODELS = ("heuristic", "haiku", "sonnet")
# Generous: a loaded two-core machine runs each fake `claude` call in well over its delay.
RUN_TIMEOUT_MS = 60_000

# True once the matrix on the page is an answer given while a run was active (it carries the
# poll) and has more filled results than the argument: the later poll, before completion.
ACTIVE_AND_FILLED_ABOVE = """(earlier) => {
    const m = document.querySelector('#domain-matrix');
    return !!m && /every/.test(m.getAttribute('hx-trigger') || '')
        && Number(m.dataset.filled) > earlier;
}"""


@dataclass
class Traffic:
    """What the page asked the server for, as Playwright saw it."""

    requests: list[str] = field(default_factory=list)
    fragments: list[tuple[str, int]] = field(default_factory=list)  # htmx requests: path, status

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def on_response(self, response: Response) -> None:
        if response.request.headers.get("hx-request") == "true":
            self.fragments.append((urlsplit(response.url).path, response.status))

    def polls(self, path: str) -> list[int]:
        return [status for where, status in self.fragments if where == path]


def _domain(min_pairs: int = 4) -> tuple[str, int]:
    catalog = selectors.catalog_current()
    for domain in catalog.domains.values():
        pairs = sum(len(s.target_skills) for s in domain.scenarios)
        if pairs >= min_pairs and not domain.is_dev:
            return domain.id, pairs
    raise AssertionError("the example catalog has no domain with enough pairs")


def _filled(page: Page) -> int:
    return int(page.locator("#domain-matrix").get_attribute("data-filled") or 0)


def _start_run_from_page(
    page: Page, live_url: str, domain_id: str, models: tuple[str, ...], concurrency: int
) -> None:
    """Tick one domain and exactly ``models`` in the run controls; the plan text must agree."""
    page.goto(f"{live_url}/heatmap/")
    controls = page.locator("#run-controls")
    controls.locator("button[data-check=domains][data-value=none]").click()
    controls.locator(f"input[name=domains][value='{domain_id}']").check()
    for box in controls.locator("input[name=models]:not([disabled])").all():
        box.set_checked(box.get_attribute("value") in models)
    controls.locator("input[name=concurrency]").fill(str(concurrency))


def _progress_count(total: int, models: tuple[str, ...], done: str = r"\d+") -> re.Pattern:
    return re.compile(rf"^{done} / {total} completed \({re.escape(', '.join(models))}\)$")


def test_a_three_model_run_started_from_the_page_fills_the_heatmap_live(
    page: Page, live_url: str, artifacts
):
    domain_id, pairs = _domain()
    total = pairs * len(THREE_MODELS)
    traffic = Traffic()
    page.on("request", traffic.on_request)
    page.on("response", traffic.on_response)

    _start_run_from_page(page, live_url, domain_id, THREE_MODELS, concurrency=2)
    expect(page.locator("#run-plan .plan-line")).to_have_text(
        f"1 domain × {pairs} scenario-skill pairs × 3 models = {total} tasks"
    )
    page.screenshot(path=artifacts / "run-controls.png", full_page=True)
    page.locator("#run-controls").get_by_role("button", name="Run", exact=True).click()

    progress = page.locator("#progress-body .progress-count")
    expect(progress).to_have_text(_progress_count(total, THREE_MODELS), timeout=10_000)
    expect(page.locator("#overview-table")).to_have_attribute("hx-trigger", re.compile("every"))

    page.locator("nav.tabs").get_by_role("link", name=domain_id, exact=True).click()
    matrix = page.locator("#domain-matrix")
    expect(matrix).to_have_attribute("hx-trigger", f"every {POLL_S}s, run-ended from:body")
    for model in THREE_MODELS:
        head = matrix.locator("thead tr").nth(1).locator("th", has_text=model)
        expect(head.first).to_be_visible()

    page.wait_for_function(ACTIVE_AND_FILLED_ABOVE, arg=0, timeout=RUN_TIMEOUT_MS)
    earlier = _filled(page)
    page.wait_for_function(ACTIVE_AND_FILLED_ABOVE, arg=earlier, timeout=RUN_TIMEOUT_MS)
    later = _filled(page)
    assert 0 < earlier < later, (earlier, later)
    matrix_path = f"/heatmap/{domain_id}/"
    assert set(traffic.polls(matrix_path)) == {200}, traffic.polls(matrix_path)
    page.screenshot(path=artifacts / "run-live.png", full_page=True)

    body = page.locator("#progress-body")
    expect(body).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    expect(progress).to_have_text(_progress_count(total, THREE_MODELS, done=str(total)))
    run = Run.objects.get()
    assert run.status == Run.Status.COMPLETED
    assert (run.completed, run.failed, run.total) == (total, 0, total)
    assert list(run.models) == list(THREE_MODELS)

    # The first poll answered after the end is a 286: htmx swaps it in, then stops asking.
    expect(matrix).not_to_have_attribute("hx-trigger", re.compile("."), timeout=5 * POLL_S * 1000)
    expect(matrix).to_have_attribute("data-filled", matrix.get_attribute("data-total") or "")
    assert traffic.polls(matrix_path)[-1] == 286, traffic.polls(matrix_path)
    page.screenshot(path=artifacts / "run-completed.png", full_page=True)
    # Proving an absence takes a wait: three poll periods with no request of any kind.
    requests_at_end = len(traffic.requests)
    page.wait_for_timeout(3 * POLL_S * 1000 + 500)
    assert traffic.requests[requests_at_end:] == [], "the page kept polling after the run"
    expect(body).to_have_attribute("data-status", "completed")


def test_cancel_stops_a_run_started_from_the_page(page: Page, live_url: str, artifacts):
    domain_id, pairs = _domain()
    models = ("haiku", "sonnet")
    total = pairs * len(models)
    _start_run_from_page(page, live_url, domain_id, models, concurrency=1)
    page.locator("#run-controls").get_by_role("button", name="Run", exact=True).click()

    progress = page.locator("#progress-body .progress-count")
    expect(progress).to_have_text(_progress_count(total, models, done=r"[1-9]\d*"), timeout=20_000)
    page.get_by_role("button", name="Cancel").click()
    body = page.locator("#progress-body")
    expect(body).to_have_attribute("data-status", "cancelled", timeout=15_000)
    run = Run.objects.get()
    assert run.status == Run.Status.CANCELLED and 0 < run.completed < run.total
    expect(page.locator("#overview-table")).not_to_have_attribute(
        "hx-trigger", re.compile("every"), timeout=5 * POLL_S * 1000
    )
    expect(body.get_by_role("button", name="Resume")).to_be_visible()
    page.screenshot(path=artifacts / "run-cancelled.png", full_page=True)

    # The panel now on the page was pushed over the WebSocket, rendered without a request:
    # its Resume must still pass the CSRF check and bring the run back.
    body.get_by_role("button", name="Resume").click()
    expect(page.locator("#progress-body")).to_have_attribute(
        "data-status", re.compile("pending|running|completed"), timeout=15_000
    )
    run.refresh_from_db()
    assert run.status != Run.Status.CANCELLED
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#progress-body")).to_have_attribute(
        "data-status", "cancelled", timeout=15_000
    )


def test_a_hostile_answer_is_shown_as_text_and_never_runs(page: Page, live_url: str, artifacts):
    domain_id, _ = _domain()
    scenario = selectors.catalog_current().domains[domain_id].scenarios[0]
    specialist_task(
        make_run(),
        scenario,
        model="haiku",
        results={"WF-1": "fail"},
        domain=domain_id,
        markdown=HOSTILE,
        evidence="<img src=x onerror=\"window.pwned='evidence'\">",
    )
    page.goto(f"{live_url}/heatmap/{domain_id}/")
    page.locator("#domain-matrix td a").first.click()
    panel = page.locator("#detail-panel")
    expect(panel).to_contain_text("WF-1")
    panel.locator("summary", has_text="Full analysis").click()
    expect(panel.locator(".markdown h2")).to_have_text("Analysis")
    expect(panel).to_contain_text("<script>window.pwned")
    page.wait_for_timeout(300)
    page.screenshot(path=artifacts / "hostile-answer.png", full_page=True)
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert panel.locator("script, img, a[href^=javascript]").count() == 0
