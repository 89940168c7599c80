from __future__ import annotations

import json

import pytest

from heatmap.models import Run
from tests.heatmap_data import fill_domain, make_run

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def post_json(client, url: str, body) -> tuple[int, dict]:
    response = client.post(url, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def expected_total(catalog, domains, models) -> int:
    selected = domains or list(catalog.domains)
    return sum(len(s.target_skills) for d in selected for s in catalog.domains[d].scenarios) * len(
        models
    )


def test_post_run_returns_the_run_id_and_exact_total(client, catalog, domain_id, dispatched):
    status, data = post_json(
        client, "/api/heatmap/run", {"domains": [domain_id], "models": ["heuristic"]}
    )
    assert status == 201
    run = Run.objects.get(run_id=data["run_id"])
    assert data["total"] == run.total == expected_total(catalog, [domain_id], ["heuristic"])
    assert dispatched == [run.run_id]


def test_post_run_with_null_domains_runs_all(client, catalog, dispatched):
    status, data = post_json(
        client, "/api/heatmap/run", {"domains": None, "models": ["heuristic"], "concurrency": 8}
    )
    assert status == 201
    assert data["total"] == expected_total(catalog, None, ["heuristic"])
    assert Run.objects.get().concurrency == 8


def test_the_older_single_model_body_still_works(client, catalog, dispatched):
    status, data = post_json(client, "/api/heatmap/run", {"model": "heuristic"})
    assert status == 201 and data["total"] == expected_total(catalog, None, ["heuristic"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"models": ["gpt-9"]}, "unknown model(s): gpt-9; valid models:"),
        ({"models": []}, "choose at least one model; available models: heuristic"),
        ({"model": "nope"}, "unknown model(s): nope"),
        ({"models": ["heuristic"], "domains": ["atlantis"]}, "atlantis"),
        ({"models": ["heuristic"], "concurrency": 0}, "from 1 to 64"),
        ({"models": ["heuristic"], "concurrency": 65}, "from 1 to 64"),
        ({"models": ["heuristic"], "concurrency": "3"}, "from 1 to 64"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_requests_say_what_is_valid(client, catalog, dispatched, body, message):
    status, data = post_json(client, "/api/heatmap/run", body)
    assert status == 400
    assert message in data["error"]
    assert not Run.objects.exists() and dispatched == []


def test_unknown_domain_message_lists_the_valid_domains(client, catalog, dispatched):
    _, data = post_json(client, "/api/heatmap/run", {"models": ["heuristic"], "domains": ["x"]})
    assert next(iter(catalog.domains)) in data["error"]


def test_unavailable_model_is_rejected_with_the_reason(client, catalog, dispatched, settings):
    settings.SKILLCHECK_CLAUDE_BIN = "/nonexistent/claude"
    settings.ANTHROPIC_API_KEY = ""
    status, data = post_json(client, "/api/heatmap/run", {"models": ["haiku"]})
    assert status == 400
    assert "not available" in data["error"] and "heuristic" in data["error"]


def test_a_form_post_cannot_start_a_run(client, catalog, dispatched):
    response = client.post("/api/heatmap/run", {"models": "heuristic"})
    assert response.status_code == 415
    assert not Run.objects.exists()


def test_text_plain_json_is_refused_too(client, catalog, dispatched):
    response = client.post(
        "/api/heatmap/run", '{"models": ["heuristic"]}', content_type="text/plain"
    )
    assert response.status_code == 415


def test_run_status_and_cancel(client, catalog):
    run = make_run(status=Run.Status.RUNNING, models=["heuristic"], total=10, completed=4)
    data = client.get(f"/api/heatmap/run/{run.run_id}").json()
    assert data["status"] == "running" and (data["completed"], data["total"]) == (4, 10)

    assert client.post(f"/api/heatmap/run/{run.run_id}/cancel", {}).status_code == 415
    response = client.post(f"/api/heatmap/run/{run.run_id}/cancel", content_type="application/json")
    assert response.status_code == 200 and response.json()["cancel_requested"] is True
    assert client.get("/api/heatmap/run/missing").status_code == 404


def test_domains_skills_domain_and_models(client, catalog, domain_id):
    fill_domain(make_run(), catalog, domain_id, model="heuristic", result="fail")

    domains = client.get("/api/heatmap/domains").json()
    assert [d["id"] for d in domains] == list(catalog.domains)

    skills = {s["skill"]: s for s in client.get("/api/heatmap/skills").json()}
    specialist = catalog.domains[domain_id].scenarios[0].specialist
    assert skills[specialist]["pass_pct"] == 0 and skills[specialist]["models"] == ["heuristic"]

    matrix = client.get(f"/api/heatmap/domain/{domain_id}").json()
    assert matrix["models"] == ["heuristic"]
    assert {r for c in matrix["checks"][0]["cells"] for r in c["results"].values()} == {"fail"}
    assert client.get("/api/heatmap/domain/nope").status_code == 404

    models = {m["name"]: m for m in client.get("/api/heatmap/models").json()["models"]}
    assert models["heuristic"]["available"] is True
