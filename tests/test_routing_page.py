"""The Routing tab: the per-skill table, the confusion matrix, the case list and its filters,
the CSV export, the Run button and the stale notice after a description edit."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.management import call_command

from heatmap.models import RoutingRun
from tests.routing_helpers import write_routing_catalog, write_skill

pytestmark = pytest.mark.django_db


@pytest.fixture
def routing_catalog(settings, tmp_path):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    catalog = write_routing_catalog(
        tmp_path / "catalog",
        routing=[
            {"id": "r-none", "prompt": "Bake me a cake", "expected": "none", "tags": ["no-skill"]},
            {"id": "r-near", "prompt": "Reviews and ratings about prices", "tags": ["near-miss"],
             "expected": "price-watch"},
        ],
    )  # fmt: skip
    settings.SKILLCHECK_CATALOG = catalog.root
    call_command("run_routing", "--runs", "1", "--json", stdout=io.StringIO())
    return catalog


def test_the_page_shows_the_table_the_matrix_and_the_cases(client, routing_catalog):
    page = client.get("/routing/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="routing-skills"' in html and 'id="routing-confusion"' in html
    # Rows: 3 skills and none (a case expects it); columns: 3 skills and none.
    assert html.count('<td class="conf-cell') == 4 * 4
    assert html.count('<td class="conf-cell conf-') == 16 and html.count(' diag"') == 4
    assert 'id="case-r-near"' in html and "Reviews and ratings about prices" in html
    run = RoutingRun.objects.get()
    assert run.run_id in html and "Routed right" in html
    # The near miss went to review-digest: its "stolen by" names the thief and the case.
    row = html.split('data-skill="price-watch"')[1].split("</tr>")[0]
    assert "review-digest" in row and "r-near" in row


def test_filters_live_in_the_query_string(client, routing_catalog):
    html = client.get("/routing/?tag=near-miss&outcome=wrong").content.decode()
    assert 'id="case-r-near"' in html and 'id="case-r-none"' not in html
    html = client.get("/routing/?skill=job-board").content.decode()
    assert 'id="case-job-board-1"' in html and 'id="case-r-none"' not in html
    fragment = client.get("/routing/?tag=no-skill", HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="routing-cases").content.decode()  # fmt: skip
    assert fragment.lstrip().startswith("{#") is False and 'id="routing-cases"' in fragment
    assert "<html" not in fragment and 'id="case-r-none"' in fragment


def test_sorting_by_f1_and_its_lower_bound(client, routing_catalog):
    def f1s(query: str) -> list[float]:
        html = client.get(f"/routing/?{query}").content.decode()
        values = [part.split('"')[0] for part in html.split('data-f1="')[1:]]
        return [float(v) for v in values if v != "None"]

    assert f1s("sort=f1") == sorted(f1s(""))
    assert f1s("sort=-f1") == sorted(f1s(""), reverse=True)
    html = client.get("/routing/?sort=f1_low").content.decode()
    lows = [float(p.split('"')[0]) for p in html.split('data-f1-low="')[1:]]
    assert lows == sorted(lows) and lows
    # On the page two decimals (a handful of cases a skill); the exact figure in its title.
    shown = re.findall(
        r'title="(0\.\d+)">(\d\.\d\d)</td>', client.get("/routing/").content.decode()
    )
    assert shown and all(f"{float(exact):.2f}" == text for exact, text in shown)


def test_csv_export_is_the_case_list_as_shown(client, routing_catalog):
    response = client.get("/routing/?format=csv&tag=near-miss")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["case_id", "prompt", "expected"]
    assert [r[0] for r in rows[1:]] == ["r-near"]


def test_run_button_starts_a_routing_run(client, routing_catalog, settings):
    settings.SKILLCHECK_RUN_DISPATCHER = "tests.test_routing_web_api.execute_now"
    response = client.post("/routing/run/", {"models": ["lexical"], "runs": "2"})
    assert response.status_code == 302
    newest = RoutingRun.objects.order_by("-created_at").first()
    assert newest.runs == 2 and newest.status == "completed"
    assert f"run={newest.run_id}" in response["Location"]
    response = client.post("/routing/run/", {"models": ["gpt-17"]}, follow=True)
    assert "did not start" in response.content.decode()


def test_editing_a_description_shows_the_stale_notice(client, routing_catalog):
    assert "Stale:" not in client.get("/routing/").content.decode()
    write_skill(routing_catalog.root, "review-digest", "Now about reviews of hotels only.")
    html = client.get("/routing/").content.decode()
    assert "Stale:" in html and "<code>review-digest</code>" in html


def test_no_run_yet_says_what_to_do(client, settings, tmp_path):
    settings.SKILLCHECK_CATALOG = write_routing_catalog(tmp_path / "c").root
    html = client.get("/routing/").content.decode()
    assert "No routing run of this catalog yet" in html and 'name="models"' in html


def test_the_summary_shows_what_a_models_calls_cost_beside_the_estimate(
    client, routing_catalog, settings, anthropic_stub
):
    from tests.fakes import API_MODELS

    settings.SKILLCHECK_MODELS = dict(API_MODELS)
    settings.ANTHROPIC_API_KEY = "sk-test-key"
    settings.ANTHROPIC_BASE_URL = anthropic_stub.base_url
    call_command("run_routing", "--models", "haiku", "--runs", "2", stdout=io.StringIO())
    run = RoutingRun.objects.order_by("-created_at").first()
    spent = sum(row.cost_usd for row in run.cases.all())
    html = client.get(f"/routing/?run={run.run_id}").content.decode()
    assert spent > 0 and f'data-cost="{spent}">${spent:.4f}</span>' in html
    assert f"(estimated ${run.estimate['haiku']['usd']:.4f})" in html

    call_command("run_routing", "--models", "haiku", "--runs", "2", stdout=io.StringIO())
    again = RoutingRun.objects.order_by("-created_at").first()
    html = client.get(f"/routing/?run={again.run_id}").content.decode()
    assert "6 cases from the pick cache" in html  # 6 cases, all answered before: free
    assert "data-cost" not in html  # nothing spent, nothing estimated: no cost line
    lexical = RoutingRun.objects.order_by("created_at").first()
    assert "data-cost" not in client.get(f"/routing/?run={lexical.run_id}").content.decode()


def test_the_run_forms_plan_line_counts_calls_and_estimates_the_cost(
    client, routing_catalog, settings, anthropic_stub
):
    from tests.fakes import API_MODELS

    settings.SKILLCHECK_MODELS = dict(API_MODELS)
    settings.ANTHROPIC_API_KEY = "sk-test-key"
    settings.ANTHROPIC_BASE_URL = anthropic_stub.base_url
    settings.SKILLCHECK_RUN_DISPATCHER = "tests.test_routing_web_api.execute_now"
    page = client.get("/routing/").content.decode()
    assert 'hx-get="/routing/run/plan/"' in page and 'id="routing-plan"' in page

    def plan(**query: object) -> str:
        return client.get("/routing/run/plan/", query).content.decode()

    # The fixture's lexical run (K=1) answered all 6 cases: nothing to call, no cost.
    assert "0 calls · 6 cases from the pick cache" in plan(models="lexical", runs=1)
    assert "No cost" in plan(models="lexical", runs=1)
    assert "6 calls" in plan(models="lexical", runs=1, no_cache="on")
    line = plan(models=["lexical", "haiku"], runs=1)
    assert "6 calls · 6 cases from the pick cache" in line and "Estimated cost: <strong>$" in line
    assert "confirm_cost" not in line  # a few cents: under the default $1 that asks first
    assert "at the batch rate" in plan(models="haiku", batch="on")
    assert "lexical cannot go there" in plan(models=["lexical", "haiku"], batch="on")
    assert "between 1 and 20" in plan(models="haiku", runs=0)
    assert anthropic_stub.requests == []  # a plan asks no model

    # Above the threshold the plan line asks for a confirmation, and Run needs it.
    settings.SKILLCHECK_CONFIRM_COST_USD = 0.0001
    assert 'name="confirm_cost" required' in plan(models="haiku", runs=1)
    before = RoutingRun.objects.count()
    refused = client.post("/routing/run/", {"models": ["haiku"], "runs": "1"}, follow=True)
    assert "tick the confirmation" in refused.content.decode()
    assert RoutingRun.objects.count() == before and anthropic_stub.requests == []
    client.post("/routing/run/", {"models": ["haiku"], "runs": "1", "confirm_cost": "on"})
    assert RoutingRun.objects.count() == before + 1 and len(anthropic_stub.requests) == 6


def test_the_plan_line_says_plainly_that_routing_needs_the_api(client, routing_catalog, settings):
    settings.ANTHROPIC_API_KEY = ""
    settings.SKILLCHECK_CLAUDE_BIN = "/bin/true"
    line = client.get("/routing/run/plan/", {"models": "haiku"}).content.decode()
    assert 'class="plan error"' in line and "routing needs the Anthropic API" in line


def test_the_results_update_themselves_while_the_run_is_going(client, routing_catalog, settings):
    settings.SKILLCHECK_RUN_DISPATCHER = "tests.test_routing_web_api.hold"  # stays pending
    done = client.get("/routing/").content.decode()
    assert (
        'id="routing-main"' in done and "hx-trigger" not in done.split('id="routing-main"')[1][:80]
    )
    client.post("/routing/run/", {"models": ["lexical"], "runs": "2"})
    going = RoutingRun.objects.order_by("-created_at").first()
    html = client.get(f"/routing/?run={going.run_id}").content.decode()
    main = html.split('id="routing-main"')[1].split(">")[0]
    assert f'hx-trigger="every {settings.HEATMAP_POLL_S}s"' in main
    assert 'hx-select="#routing-main"' in main and f"run={going.run_id}" in main
