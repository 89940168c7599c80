"""Issue 21 (4): a NUL in any path segment, query parameter or form field is a 404 or a 400,
on SQLite and on PostgreSQL (which refuses NUL in text with ``DataError``: a 500 before).
"""

from __future__ import annotations

import json

import pytest

from heatmap.models import Run
from tests.heatmap_data import add_task, make_run

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

NUL = "%00"

# Every URL that takes a name in its path, with the name replaced by a NUL.
PATHS = [
    f"/skills/{NUL}/",
    f"/skills/a{NUL}b/",
    f"/heatmap/{NUL}/",
    f"/heatmap/{NUL}/bp/",
    f"/heatmap/{NUL}/bp/cell/",
    f"/heatmap/{NUL}/cell/",
    f"/runs/{NUL}/",
    f"/runs/{NUL}/report.json",
    f"/api/heatmap/domain/{NUL}",
    f"/api/heatmap/run/{NUL}",
    f"/static/{NUL}",
    f"/admin/heatmap/run/{NUL}/change/",
]

# Every query parameter a page or the API reads.
PARAMS = (
    "run", "group", "severity", "model", "failures", "q", "sort", "domain", "format",
    "scenario", "check", "clicked", "skill", "domains", "models", "concurrency", "no_cache",
    "batch", "confirm_cost", "base", "head", "next", NUL,
)  # fmt: skip


@pytest.fixture
def pages(catalog, domain_id, scenario):
    run = make_run(status=Run.Status.COMPLETED)
    add_task(run, scenario_id=scenario.id, skill=scenario.specialist, model="heuristic")
    skill = scenario.specialist
    return [
        "/heatmap/",
        f"/heatmap/{domain_id}/",
        f"/heatmap/{domain_id}/cell/",
        f"/heatmap/{domain_id}/bp/",
        f"/heatmap/{domain_id}/bp/cell/",
        f"/skills/{skill}/",
        "/runs/",
        f"/runs/{run.run_id}/",
        f"/runs/{run.run_id}/compare/{run.run_id}/",
        "/run-controls/plan/",
        "/api/heatmap/skills",
        "/api/heatmap/domains",
        f"/api/heatmap/domain/{domain_id}",
        "/api/heatmap/compare",
        f"/api/heatmap/run/{run.run_id}",
        "/accounts/login/",
    ]


@pytest.mark.parametrize("path", PATHS)
def test_a_nul_in_a_path_is_a_404(client, catalog, admin_user, path):
    client.force_login(admin_user)
    response = client.get(path)
    assert response.status_code == 404, path


def test_a_nul_in_any_query_parameter_is_a_400(client, pages):
    for page in pages:
        for param in PARAMS:
            for value in (NUL, f"x{NUL}y"):
                url = f"{page}?{param}={value}"
                response = client.get(url)
                assert response.status_code == 400, url
    response = client.get("/api/heatmap/skills?domain=%00")
    assert json.loads(response.content) == {"error": "bad request: a NUL character (%00)"}


def test_a_nul_in_a_form_field_is_a_400_and_changes_nothing(client, catalog, dispatched):
    for url, data in (
        ("/run-controls/start/", {"domains": "\x00", "models": "heuristic"}),
        ("/run-controls/rerun-stale/", {"domain": "\x00"}),
        ("/accounts/login/", {"username": "\x00", "password": "x"}),
    ):
        response = client.post(url, data)
        assert response.status_code == 400, url
    assert Run.objects.count() == 0 and dispatched == []


def test_a_nul_in_a_json_body_is_a_400(client, catalog, dispatched):
    for body in ({"domains": ["\x00"]}, {"models": ["heuristic\x00"]}, {"\x00": 1}):
        response = client.post(
            "/api/heatmap/run", json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 400, body
    assert Run.objects.count() == 0 and dispatched == []


def test_a_nul_in_a_cookie_is_ignored(client, catalog):
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert client.get("/heatmap/").status_code == 200
