"""Every state-changing request needs a JSON body or a CSRF token (issue 7).

Any web page can make a visitor's browser send a form or a bodiless POST to the app on
loopback; those must change nothing. ``Client(enforce_csrf_checks=True)`` is such a
browser: it sends what it is told, with no token unless the test adds one.
"""

from __future__ import annotations

import pytest
from django.test import Client

from heatmap.models import Run
from tests.heatmap_data import make_run

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

EVIL = {"HTTP_ORIGIN": "https://evil.example", "HTTP_REFERER": "https://evil.example/page"}


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_token(browser: Client) -> str:
    """The token a page of the app gives its own forms (the cookie a visit sets)."""
    browser.get("/runs/")
    return browser.cookies["csrftoken"].value


@pytest.fixture
def running() -> Run:
    return make_run(status=Run.Status.RUNNING, total=4)


@pytest.fixture
def cancelled() -> Run:
    return make_run(status=Run.Status.CANCELLED, total=4, completed=1)


def cancel_requested(run: Run) -> bool:
    run.refresh_from_db()
    return run.cancel_requested


# --- API -------------------------------------------------------------------------------------


def test_bodiless_cross_site_post_does_not_cancel_a_run(browser, running):
    response = browser.post(f"/api/heatmap/run/{running.run_id}/cancel", content_type="", **EVIL)
    assert response.status_code == 403
    assert "application/json" in response.json()["error"]
    assert not cancel_requested(running)


def test_form_post_to_cancel_is_refused(browser, running):
    response = browser.post(f"/api/heatmap/run/{running.run_id}/cancel", {"x": "1"}, **EVIL)
    assert response.status_code == 403 and not cancel_requested(running)


def test_api_cancel_with_json_content_type_works_from_scripts(browser, running):
    url = f"/api/heatmap/run/{running.run_id}/cancel"
    response = browser.post(url, content_type="application/json")
    assert response.status_code == 200 and cancel_requested(running)


def test_api_cancel_with_the_pages_csrf_token_works(browser, running):
    token = csrf_token(browser)
    url = f"/api/heatmap/run/{running.run_id}/cancel"
    response = browser.post(url, content_type="", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and cancel_requested(running)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_cross_site_simple_post_cannot_start_a_run(browser, catalog, dispatched, content_type):
    body = '{"models": ["heuristic"]}'
    response = browser.post("/api/heatmap/run", body, content_type=content_type, **EVIL)
    assert response.status_code in (403, 415)
    assert not Run.objects.exists() and dispatched == []


def test_api_start_with_json_works(browser, catalog, dispatched):
    response = browser.post("/api/heatmap/run", {"models": ["heuristic"]}, "application/json")
    assert response.status_code == 201 and len(dispatched) == 1


# --- HTML views --------------------------------------------------------------------------------


def test_run_form_without_token_starts_nothing(browser, catalog, domain_id, dispatched):
    data = {"domains": [domain_id], "models": ["heuristic"]}
    assert browser.post("/run-controls/start/", data, **EVIL).status_code == 403
    assert browser.post("/run-controls/start/", {"all": "1"}, **EVIL).status_code == 403
    assert not Run.objects.exists() and dispatched == []


def test_run_form_with_token_starts_a_run(browser, catalog, domain_id, dispatched):
    data = {"domains": [domain_id], "models": ["heuristic"], "csrfmiddlewaretoken": ""}
    data["csrfmiddlewaretoken"] = csrf_token(browser)
    assert browser.post("/run-controls/start/", data).status_code == 302
    assert len(dispatched) == 1


def test_cancel_button_without_token_changes_nothing(browser, running):
    for content_type in ("", "application/x-www-form-urlencoded"):
        response = browser.post(f"/runs/{running.run_id}/cancel/", content_type=content_type)
        assert response.status_code == 403
    assert not cancel_requested(running)


def test_cancel_button_with_token_cancels(browser, running):
    token = csrf_token(browser)
    response = browser.post(
        f"/runs/{running.run_id}/cancel/", HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and cancel_requested(running)


def test_resume_without_token_resumes_nothing(browser, cancelled, dispatched):
    response = browser.post(f"/runs/{cancelled.run_id}/resume/", content_type="", **EVIL)
    cancelled.refresh_from_db()
    assert response.status_code == 403
    assert cancelled.status == Run.Status.CANCELLED and dispatched == []


def test_resume_with_token_resumes(browser, cancelled, dispatched):
    token = csrf_token(browser)
    response = browser.post(f"/runs/{cancelled.run_id}/resume/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302 and dispatched == [cancelled.run_id]
