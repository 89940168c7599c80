"""Security defaults of the web app (issue 7): debug off, error pages, hostile requests.

Each test is a case a hostile or careless user tried: it failed before the change.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from asgiref.testing import ApplicationCommunicator
from django.test import Client

from heatmap.models import Run
from tests import processes

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

CREDENTIAL = "s3cr3t-pa55"
BASE_URL_WITH_CREDENTIALS = f"https://alice:{CREDENTIAL}@llm-proxy.example.com/v1"
DEEP_JSON = "[" * 100_000 + "]" * 100_000


def only(env: dict[str, str] | None) -> dict[str, str]:
    """This environment with exactly these DJANGO_/SKILLCHECK_/ANTHROPIC_ variables."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SKILLCHECK_", "ANTHROPIC_"))
    }
    return {**base, **(env or {})}


def manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``manage.py`` in a child process with exactly these DJANGO_/SKILLCHECK_ variables."""
    return processes.manage(*args, env=only(env))


def settings_in_child(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Python ``code`` in a child process that imports the settings as ``env`` makes them.

    Only the settings module is read (no ``django.setup()``): a tenth of the time of
    ``manage.py shell`` (0.4 s against 3 to 6 s here).
    """
    return processes.python(code, env={**only(env), "DJANGO_SETTINGS_MODULE": "simsite.settings"})


def setting_in_child(name: str, env: dict[str, str] | None = None) -> str:
    result = settings_in_child(f"from django.conf import settings; print(settings.{name})", env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


# --- Debug off, error pages without internals -----------------------------------------------


def test_debug_is_off_unless_django_debug_is_1():
    assert setting_in_child("DEBUG") == "False"
    assert setting_in_child("DEBUG", {"DJANGO_DEBUG": "1"}) == "True"
    assert setting_in_child("DEBUG", {"DJANGO_DEBUG": "true"}) == "False"


async def test_static_files_are_served_by_the_asgi_app_with_debug_off(settings):
    from simsite.asgi import application

    settings.DEBUG = False
    scope = {"type": "http", "method": "GET", "path": "/static/heatmap/app.css"}
    scope |= {"query_string": b"", "headers": [], "http_version": "1.1", "scheme": "http"}
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(5)
    body = b""
    while True:  # ASGI allows body messages without "body", which HttpCommunicator rejects
        message = await communicator.receive_output(5)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    assert start["status"] == 200 and b"--pass" in body
    headers = {k.lower(): v for k, v in start["headers"]}
    assert headers[b"content-type"].startswith(b"text/css")


def test_unknown_page_is_a_styled_404_without_internals(client, catalog):
    response = client.get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'class="site"' in html and "Page not found (404)" in html
    assert "urlpatterns" not in html and "heatmap.urls" not in html


def test_unknown_api_address_is_json_404(client):
    response = client.get("/api/heatmap/nothing-here")
    assert response.status_code == 404 and response.json() == {"error": "not found"}


@pytest.fixture
def crashing_overview(monkeypatch, settings):
    """The overview raises with a path and a credential in the message."""

    def explode(*args, **kwargs):
        raise RuntimeError(f"boom at /srv/skillcheck/db.sqlite3 via {BASE_URL_WITH_CREDENTIALS}")

    # Where the pages read their catalog's files (``CatalogScope.load``).
    monkeypatch.setattr("heatmap.selectors.catalogs.catalog_current", explode)
    settings.ANTHROPIC_BASE_URL = BASE_URL_WITH_CREDENTIALS


def test_server_error_page_says_nothing_about_the_server(crashing_overview):
    client = Client(raise_request_exception=False)
    response = client.get("/heatmap/")
    html = response.content.decode()
    assert response.status_code == 500 and "Server error (500)" in html
    assert "boom" not in html and "/srv/" not in html and CREDENTIAL not in html
    api = client.get("/api/heatmap/domains")
    assert api.status_code == 500 and "boom" not in api.content.decode()


def test_even_the_debug_page_hides_credentials_in_url_settings(crashing_overview, settings):
    settings.DEBUG = True
    settings.REDIS_URL = "redis://:hunter2-redis@cache.example.com:6379/0"
    response = Client(raise_request_exception=False).get("/heatmap/")
    html = response.content.decode()
    assert response.status_code == 500 and "ANTHROPIC_BASE_URL" in html  # the debug page
    assert CREDENTIAL not in html.split("Settings", 1)[-1].split("Traceback", 1)[0]
    assert "hunter2-redis" not in html


def test_a_100k_deep_json_body_is_a_400_not_a_debug_page_with_credentials(client, settings):
    settings.DEBUG = True
    settings.ANTHROPIC_BASE_URL = BASE_URL_WITH_CREDENTIALS
    response = client.post("/api/heatmap/run", DEEP_JSON, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]
    assert CREDENTIAL not in response.content.decode()
    assert not Run.objects.exists()


def test_moderately_deep_json_is_refused_too(client, catalog, dispatched):
    body = {"models": ["heuristic"], "domains": None, "x": json.loads("[" * 30 + "]" * 30)}
    response = client.post("/api/heatmap/run", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and "nested too deeply" in response.json()["error"]
    assert dispatched == []


# --- Bounded lists ----------------------------------------------------------------------------


def test_a_thousand_domains_to_the_api_is_a_400_with_a_message(client, catalog, domain_id):
    body = {"domains": [domain_id] * 1000, "models": ["heuristic"]}
    response = client.post("/api/heatmap/run", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert "too many domains: 1000 (at most 256)" in response.json()["error"]
    assert not Run.objects.exists()


def test_an_overlong_model_name_is_a_400_that_does_not_echo_it(client, catalog):
    body = {"models": ["x" * 100_000]}
    response = client.post("/api/heatmap/run", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and len(response.content) < 500


def test_a_thousand_domains_to_the_plan_line_is_a_400_with_a_message(client, catalog, domain_id):
    response = client.get(
        "/run-controls/plan/", {"domains": [domain_id] * 999, "models": ["heuristic"]}
    )
    assert response.status_code == 400
    assert "too many domains: 999 (at most 256)" in response.content.decode()
    # One field more than Django parses at all: its own 400, on the styled page.
    response = client.get(
        "/run-controls/plan/", {"domains": [domain_id] * 1000, "models": ["heuristic"]}
    )
    assert response.status_code == 400
    assert "too many fields" in response.content.decode()


# --- No paths or credentials in pages ----------------------------------------------------------


def test_models_api_says_why_not_without_the_cli_path(client, settings):
    settings.ANTHROPIC_API_KEY = ""
    settings.SKILLCHECK_CLAUDE_BIN = "/opt/private-tools/bin/claude"
    models = {m["name"]: m for m in client.get("/api/heatmap/models").json()["models"]}
    assert models["heuristic"]["available"] is True
    assert models["sonnet"]["available"] is False
    assert "claude CLI not found" in models["sonnet"]["reason"]
    assert "/opt/private-tools" not in json.dumps(models)


def test_models_api_hides_the_path_of_an_installed_cli(client, settings, fake_claude_bin):
    settings.ANTHROPIC_API_KEY = ""
    settings.SKILLCHECK_CLAUDE_BIN = "claude"
    models = {m["name"]: m for m in client.get("/api/heatmap/models").json()["models"]}
    assert models["sonnet"]["available"] is True and models["sonnet"]["via"] == "cli"
    assert str(fake_claude_bin.parent) not in json.dumps(models)
    assert "claude CLI" in models["sonnet"]["reason"]


def test_run_controls_and_error_messages_hide_the_cli_path(client, catalog, settings):
    settings.ANTHROPIC_API_KEY = ""
    settings.SKILLCHECK_CLAUDE_BIN = "/opt/private-tools/bin/claude"
    assert "/opt/private-tools" not in client.get("/heatmap/").content.decode()
    response = client.post(
        "/api/heatmap/run", {"models": ["opus"]}, content_type="application/json"
    )
    assert response.status_code == 400 and "not available" in response.json()["error"]
    assert "/opt/private-tools" not in response.content.decode()
    plan = client.get(
        "/run-controls/plan/", {"domains": list(catalog.domains)[:1], "models": ["opus"]}
    )
    assert "not available" in plan.content.decode()
    assert "/opt/private-tools" not in plan.content.decode()


def test_run_and_task_errors_are_shown_without_server_paths(client, catalog, domain_id):
    from tests.heatmap_data import add_task, make_run

    secret_path = "/srv/private/skillcheck/reports/scored_run_x.json"
    run = make_run(status=Run.Status.FAILED, total=1, error=f"PermissionError: {secret_path}")
    scenario = catalog.domains[domain_id].scenarios[0]
    task = add_task(run, scenario_id=scenario.id, skill=scenario.specialist, model="haiku")
    task.error = f"haiku via api: connection to {BASE_URL_WITH_CREDENTIALS} refused"
    task.save()
    pages = [
        client.get(f"/runs/{run.run_id}/"),
        client.get(f"/api/heatmap/run/{run.run_id}"),
        client.get(f"/heatmap/{domain_id}/cell/", {"scenario": scenario.id, "check": "WF-1"}),
    ]
    for response in pages:
        text = response.content.decode()
        assert response.status_code == 200
        assert "/srv/private" not in text and CREDENTIAL not in text
    assert "PermissionError" in pages[0].content.decode()
    assert "connection to https://***@llm-proxy.example.com" in pages[2].content.decode()


# --- Content-Security-Policy ----------------------------------------------------------------


def _csp(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    return dict([*part.strip().split(" ", 1), ""][:2] for part in header.split(";") if part.strip())


def _pages(catalog, domain_id: str) -> list[str]:
    from tests.heatmap_data import fill_domain, make_run

    run = make_run(run_id="csp-run", models=["heuristic"])
    fill_domain(run, catalog, domain_id, model="heuristic", result="fail")
    scenario = catalog.domains[domain_id].scenarios[0]
    skill = scenario.specialist
    return [
        "/heatmap/",
        f"/heatmap/{domain_id}/",
        f"/heatmap/{domain_id}/cell/?scenario={scenario.id}&check=WF-1",
        f"/heatmap/{domain_id}/bp/",
        f"/skills/{skill}/",
        "/runs/",
        "/runs/csp-run/",
        "/checks/",
        "/no-such-page/",
    ]


def test_every_page_carries_a_policy_that_allows_only_the_apps_own_scripts(
    client, catalog, domain_id
):
    for url in _pages(catalog, domain_id):
        policy = _csp(client.get(url))
        assert policy.get("script-src") == "'self'", (url, policy)
        assert policy.get("style-src") == "'self'", (url, policy)
        assert policy.get("default-src") == "'self'" and policy.get("connect-src") == "'self'"
        assert policy.get("object-src") == "'none'" and policy.get("frame-ancestors") == "'none'"
    assert _csp(client.get("/api/heatmap/models")).get("script-src") == "'self'"


def test_pages_hold_no_inline_script_style_or_event_handler(client, catalog, domain_id):
    """What the policy would block: every script has a src, no element a style or on* attribute."""
    import re

    for url in _pages(catalog, domain_id):
        html = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"<style[\s>]", html), url
        assert not re.search(r"\sstyle=", html), url
        assert not re.search(r"\son[a-z]+=", html), url
        assert "javascript:" not in html, url


def test_the_admin_may_use_inline_styles_but_never_inline_scripts(client, admin_client):
    policy = _csp(admin_client.get("/admin/heatmap/run/"))
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["script-src"] == "'self'"


def test_the_debug_error_page_goes_without_the_policy(crashing_overview, settings):
    settings.DEBUG = True
    response = Client(raise_request_exception=False).get("/heatmap/")
    assert response.status_code == 500
    assert "Content-Security-Policy" not in response.headers
