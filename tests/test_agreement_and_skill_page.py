"""Model agreement (matrix marker, overview rate, least-agreed checks) and the skill page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.heatmap_data import make_run, specialist_task

pytestmark = pytest.mark.django_db


def two_models(scenario, *, haiku: dict[str, str], sonnet: dict[str, str]):
    run = make_run(models=["haiku", "sonnet"])
    specialist_task(run, scenario, model="haiku", results=haiku)
    specialist_task(run, scenario, model="sonnet", results=sonnet)
    return run


def test_disagreement_is_marked_and_rated(client, catalog, domain_id, scenario):
    two_models(
        scenario,
        haiku={"WF-1": "pass", "WF-2": "pass", "DK-1": "fail", "SEC-1": "pass"},
        sonnet={"WF-1": "pass", "WF-2": "fail", "DK-1": "fail", "SEC-1": "pass"},
    )
    data = client.get(f"/api/heatmap/domain/{domain_id}").json()
    disputed = {
        (check["check_id"], cell["model"])
        for check in data["checks"]
        for cell in check["cells"]
        if cell["disagree"]
    }
    assert disputed == {("WF-2", "haiku"), ("WF-2", "sonnet")}
    skills = {r["skill"]: r for r in client.get("/api/heatmap/skills").json()}
    assert skills[scenario.specialist]["agreement_pct"] == 75
    # The page asks for its agreement section once the table is in (HX-Target: agreement).
    page = client.get("/heatmap/").content.decode()
    assert '<section id="agreement" hx-get="/heatmap/" hx-trigger="load"' in page
    assert "Checks the models agree on least" not in page
    section = client.get("/heatmap/", headers={"HX-Request": "true", "HX-Target": "agreement"})
    section = section.content.decode()
    wf2 = catalog.taxonomy.by_id["WF-2"]
    assert section.lstrip().startswith('<section id="agreement"')
    assert "Checks the models agree on least" in section and "<table" not in section
    assert f'href="/checks/#L{wf2.line}">WF-2</a>' in section
    assert f'{scenario.specialist}</a> <span data-agreement="75">75%</span>' in section
    assert f'id="L{wf2.line}"' in client.get("/checks/").content.decode()


def test_a_skill_run_on_one_model_has_no_agreement_rate(client, scenario):
    run = make_run(models=["haiku"])
    specialist_task(run, scenario, model="haiku", results={"WF-1": "pass"})
    skills = {r["skill"]: r for r in client.get("/api/heatmap/skills").json()}
    assert skills[scenario.specialist]["agreement_pct"] is None
    section = client.get("/heatmap/", headers={"HX-Request": "true", "HX-Target": "agreement"})
    assert section.status_code == 200 and not section.content.strip()


def test_skill_page_charts_pass_percent_per_model_over_runs(client, scenario):
    skill = scenario.specialist
    old = make_run(models=["haiku"], created_at=timezone.now() - timedelta(days=1))
    specialist_task(
        old, scenario, model="haiku", results={"WF-1": "fail", "WF-2": "pass"}, age_s=86400
    )
    new = make_run(models=["haiku", "sonnet"])
    specialist_task(new, scenario, model="haiku", results={"WF-1": "pass", "WF-2": "pass"})
    specialist_task(new, scenario, model="sonnet", results={"WF-1": "pass", "WF-2": "fail"})
    html = client.get(f"/skills/{skill}/").content.decode()
    assert "<svg" in html and 'data-model="haiku"' in html and 'data-model="sonnet"' in html
    assert "haiku · " + old.run_id + ": 50%" in html and "haiku · " + new.run_id + ": 100%" in html
    assert html.count("<circle") == 3
    assert old.run_id in html and new.run_id in html
    assert "Linter findings" in html
    assert client.get("/skills/no-such-skill/").status_code == 404
    agreement = client.get("/heatmap/", headers={"HX-Request": "true", "HX-Target": "agreement"})
    assert f'href="/skills/{skill}/"' in agreement.content.decode()


def test_a_failed_call_is_no_verdict_in_the_matrix_either(client, domain_id, scenario):
    """A key that only ever failed shows its "unclear" cells, but they are not a disagreement
    (the agreement rate does not count them either)."""
    run = make_run(models=["haiku", "sonnet"])
    specialist_task(run, scenario, model="haiku", results={"WF-1": "pass", "WF-2": "pass"})
    specialist_task(
        run, scenario, model="sonnet", results={"WF-1": "unclear", "WF-2": "unclear"}, error="529"
    )
    data = client.get(f"/api/heatmap/domain/{domain_id}").json()
    shown = {
        (check["check_id"], cell["model"]): cell
        for check in data["checks"]
        for cell in check["cells"]
        if check["check_id"] in ("WF-1", "WF-2") and cell["scenario_id"] == scenario.id
    }
    assert shown[("WF-1", "sonnet")]["results"][scenario.specialist] == "unclear"
    assert shown[("WF-1", "haiku")]["results"][scenario.specialist] == "pass"
    assert [key for key, cell in shown.items() if cell["disagree"]] == []
    skills = {r["skill"]: r for r in client.get("/api/heatmap/skills").json()}
    assert skills[scenario.specialist]["agreement_pct"] is None
