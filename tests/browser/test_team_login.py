"""Team mode in a real Chromium: sign in, run, watch the progress arrive over the WebSocket;
an anonymous visitor gets the sign-in page, a 401 from the API and a closed WebSocket."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, Page, expect

from heatmap import selectors
from heatmap.models import Run
from tests.browser.a11y import serious_violations

pytestmark = pytest.mark.browser

PASSWORD = "a long team password"
RUN_TIMEOUT_MS = 60_000

# Resolves to "open" or "closed", whichever the socket does first.
SOCKET_FATE = """(url) => new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.onopen = () => { resolve("open"); socket.close(); };
    socket.onclose = () => resolve("closed");
})"""


@pytest.fixture(scope="module")
def team_server(live_asgi_server, start_daphne) -> Iterator[str]:
    """A second daphne, forked while the settings say team mode (the first stays local)."""
    with start_daphne(team=True) as url:
        yield url


@pytest.fixture
def team_url(team_server, transactional_db) -> str:
    get_user_model().objects.create_user("alice", password=PASSWORD)
    return team_server


def _sign_in(page: Page, team_url: str, next_path: str) -> None:
    page.goto(f"{team_url}{next_path}")
    expect(page).to_have_url(f"{team_url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{team_url}{next_path}")


def test_a_signed_in_user_runs_and_sees_progress_over_the_websocket(
    page: Page, team_url: str, artifacts
):
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(frame)))
    _sign_in(page, team_url, "/heatmap/")
    expect(page.locator("header.site .who")).to_have_text("alice")

    catalog = selectors.catalog_current()
    domain_id = next(d.id for d in catalog.domains.values() if not d.is_dev)
    controls = page.locator("#run-controls")
    controls.locator("button[data-check=domains][data-value=none]").click()
    controls.locator(f"input[name=domains][value='{domain_id}']").check()
    for box in controls.locator("input[name=models]:not([disabled])").all():
        box.set_checked(box.get_attribute("value") == "haiku")
    controls.get_by_role("button", name="Run", exact=True).click()

    body = page.locator("#progress-body")
    expect(body).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)
    assert Run.objects.get().status == Run.Status.COMPLETED
    assert any('id="progress-body"' in str(frame) for frame in frames), frames[:3]
    page.screenshot(path=artifacts / "team-run-completed.png", full_page=True)


def test_anonymous_visitors_get_the_sign_in_page_a_401_and_no_websocket(
    browser: Browser, team_url: str, artifacts
):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{team_url}/runs/")
    expect(page).to_have_url(f"{team_url}/accounts/login/?next=/runs/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    api = page.request.get(f"{team_url}/api/heatmap/models")
    assert api.status == 401 and "create_api_token" in json.loads(api.text())["error"]

    ws_url = team_url.replace("http", "ws") + "/ws/runs/any/"
    assert page.evaluate(SOCKET_FATE, ws_url) == "closed"
    context.close()


def test_the_sign_in_page_passes_axe_in_both_modes_and_widths(
    page: Page, team_url: str, screenshots
):
    """Team mode's sign-in page (a header without the app's links) through axe-core."""
    folder = screenshots / "a11y"
    folder.mkdir(exist_ok=True)
    found = {}
    for width, height in ((390, 844), (1440, 900)):
        for scheme in ("light", "dark"):
            page.set_viewport_size({"width": width, "height": height})
            page.emulate_media(color_scheme=scheme)
            page.goto(f"{team_url}/heatmap/")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            if violations := serious_violations(page):
                found[f"{width}-{scheme}"] = violations
            page.screenshot(path=folder / f"team-login-{width}-{scheme}.png", full_page=True)
    assert found == {}, found
