"""The original skill-checker's API shapes: skill rows, BP matrix, cell detail, skills,
reports and health, as a client written against the original reads them."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from heatmap.models import Run
from tests.heatmap_data import add_task, fill_domain, make_run

pytestmark = [pytest.mark.django_db]


def test_skill_rows_have_the_original_fields_and_keep_todays(client, catalog, domain_id):
    run = make_run()
    scenario = catalog.domains[domain_id].scenarios[0]
    checks = [c.id for c in catalog.taxonomy.model_checks][:3]
    add_task(
        run,
        scenario_id=scenario.id,
        skill=scenario.specialist,
        model="heuristic",
        results={checks[0]: "pass", checks[1]: "fail", checks[2]: "unclear"},
    )
    rows = {r["skill"]: r for r in client.get("/api/heatmap/skills").json()}
    row = rows[scenario.specialist]
    # One decimal, as the original: 1 pass of 3 scored checks.
    assert row["pass_pct"] == 33.3 and row["pass_pct_rounded"] == 33
    assert (row["pass_count"], row["fail_count"], row["unclear_count"], row["na_count"]) == (
        1,
        1,
        1,
        0,
    )
    assert row["domain"] == domain_id and row["is_dev"] is False
    check = catalog.taxonomy.by_id[checks[1]]
    assert row["top_gaps"] == [
        {"check_id": check.id, "name": check.name, "severity": check.severity, "count": 1}
    ]
    assert {"domains", "generalist", "counts", "models", "top_failing", "per_model"} <= set(row)


def test_bp_matrix(client, catalog):
    data = client.get("/api/heatmap/bp").json()
    assert data["skills"] == sorted(catalog.skills)
    ids = [c["id"] for c in data["checks"]]
    assert ids == [*(c.id for c in catalog.taxonomy.static_checks), "FM"]
    for check_id in ids:
        assert set(data["matrix"][check_id]) == set(catalog.skills)
        for cell in data["matrix"][check_id].values():
            assert cell["result"] in ("pass", "fail")
            assert bool(cell["detail"]) == (cell["result"] == "fail")


def test_cell_detail(client, catalog, domain_id):
    fill_domain(make_run(), catalog, domain_id, model="heuristic", result="fail")
    scenario = catalog.domains[domain_id].scenarios[0]
    check_id = catalog.taxonomy.model_checks[0].id
    data = client.get(f"/api/heatmap/detail/{scenario.id}/{check_id}").json()
    assert (data["scenario_id"], data["check_id"]) == (scenario.id, check_id)
    cell = data["models"]["heuristic"]
    assert cell["specialist"]["skill"] == scenario.specialist
    assert cell["specialist"]["result"] == "fail"
    assert [g["skill"] for g in cell["generalists"]] == list(scenario.target_skills[1:])
    assert client.get(f"/api/heatmap/detail/{scenario.id}/NOPE-1").status_code == 404
    assert client.get(f"/api/heatmap/detail/nope/{check_id}").status_code == 404


def test_skills_manifest_shows_no_server_path(client, catalog):
    data = client.get("/api/skills").json()
    assert set(data) == set(catalog.skills)
    for name, info in data.items():
        assert info["name"] == name and info["exists"] is True
        assert not info["path"].startswith("/") and info["path"].endswith("SKILL.md")


@pytest.fixture
def reports(settings, tmp_path):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path
    document = {"type": "scored", "run_id": "r1", "models": ["heuristic"], "results": [{}]}
    (tmp_path / "scored_run_r1.json").write_text(json.dumps(document))
    (tmp_path / "notes.txt").write_text("not a report")
    return tmp_path


def test_reports_list_and_get(client, reports):
    [listed] = client.get("/api/reports").json()["reports"]
    assert listed["filename"] == "scored_run_r1.json" and listed["run_id"] == "r1"
    assert listed["result_count"] == 1 and listed["models"] == ["heuristic"]
    response = client.get("/api/reports/scored_run_r1.json")
    assert response.status_code == 200
    assert json.loads(b"".join(response.streaming_content))["run_id"] == "r1"
    for name in ("notes.txt", "..%2Fsecret.json", "scored_missing.json"):
        assert client.get(f"/api/reports/{name}").status_code == 404


def test_report_delete_needs_json_and_in_team_mode_staff(
    client, reports, settings, django_user_model
):
    url = "/api/reports/scored_run_r1.json"
    cross_site = Client(enforce_csrf_checks=True)
    assert cross_site.delete(url).status_code == 403  # no JSON, no CSRF token
    settings.SKILLCHECK_REQUIRE_LOGIN = True
    user = django_user_model.objects.create_user("ann", password="pw-123456789")
    client.force_login(user)
    assert client.delete(url, content_type="application/json").status_code == 403
    assert (reports / "scored_run_r1.json").exists()
    user.is_staff = True
    user.save()
    response = client.delete(url, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "deleted"
    assert not (reports / "scored_run_r1.json").exists()


def test_health_answers_without_login(client, settings):
    settings.SKILLCHECK_REQUIRE_LOGIN = True
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


def test_health_is_503_when_the_channel_layer_is_down(client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [("127.0.0.1", 1)]},  # nothing listens on port 1
        }
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        response = client.get("/api/health")
    finally:
        channel_layers.backends.clear()
    assert response.status_code == 503
    data = response.json()
    assert data["status"] == "error" and data["database"] == "ok"
    assert data["channel_layer"].startswith("unreachable")
    assert Run.objects.count() == 0


def test_skill_content_scenarios_and_categories(client, catalog):
    name = next(iter(catalog.skills))
    content = client.get(f"/api/skills/{name}/content").json()
    assert content["content"].startswith("---") and content["lines"] > 3
    assert client.get("/api/skills/nope/content").status_code == 404
    scenarios = client.get("/api/scenarios").json()
    assert [s["id"] for s in scenarios] == [s.id for s in catalog.scenarios]
    first = scenarios[0]
    assert client.get(f"/api/scenarios/{first['id']}").json() == first
    assert client.get("/api/scenarios/nope").status_code == 404
    categories = client.get("/api/categories").json()
    assert categories["total"] == len(catalog.taxonomy.checks)
    assert set(categories["groups"]) == {g.lower() for g in catalog.taxonomy.groups}
    assert categories["groups"]["bp"]["default_models"] == ["bp-linter"]
