"""The heatmap as a skill author reads it: per-model pass %, filters in the query string,
pinned runs, CSV export, every model side by side in the cell detail, the BP findings."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.heatmap_data import HTMX, fill_domain, make_run, specialist_task
from tests.matrix_html import column_heads, matrix_cells

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

ANSWER = (
    "## Approach\nRead the skill.\n\n## Verdict\nMostly fine.\n\n"
    '```json\n{"checks": [{"check_id": "WF-1", "result": "fail"}]}\n```\n'
)


def _pct_cells(html: str, skill: str) -> list[str]:
    row = re.search(rf'<tr data-skill="{re.escape(skill)}">(.*?)</tr>', html, re.S).group(1)
    return [
        re.sub(r"\s+", "", text)
        for text in re.findall(r'<td class="pct[^"]*"[^>]*>(.*?)</td>', row, re.S)
    ]


def test_overview_has_a_pass_pct_cell_per_model_in_the_configured_order(client, catalog, domain_id):
    skill = catalog.domains[domain_id].scenarios[0].specialist
    run = make_run()
    fill_domain(run, catalog, domain_id, model="sonnet", result="fail")
    fill_domain(run, catalog, domain_id, model="haiku", result="pass")
    fill_domain(run, catalog, domain_id, model="heuristic", result="pass")
    html = client.get("/heatmap/").content.decode()
    header = re.search(
        r"all models(?:</a>)?(?: <a [^>]*>\(surely worst\)</a>)?</th>(.*?)</tr>", html, re.S
    ).group(1)
    assert re.findall(r'<th scope="col">(\w+)</th>', header) == ["heuristic", "haiku", "sonnet"]
    # all models, then heuristic, haiku, sonnet; a legend and the footnote defining pass %.
    assert _pct_cells(html, skill) == ["67%", "100%", "100%", "0%"]
    assert "Pass % = pass ÷ (pass + fail + unclear)" in html
    assert 'class="pct-0"' in html and 'class="pct-9"' in html


def _matrix_header_pcts(html: str) -> list[tuple[str, str]]:
    """(model, pass % text) of every model column header of the domain matrix, in order."""
    return [(model, pct) for model, pct, _ in column_heads(html)]


def test_matrix_column_headers_show_each_models_pass_pct(client, catalog, domain_id):
    domain = catalog.domains[domain_id]
    run = make_run()
    fill_domain(run, catalog, domain_id, model="sonnet", result="fail")
    fill_domain(run, catalog, domain_id, model="heuristic", result="pass")
    first = domain.scenarios[0]
    checks = [c.id for c in catalog.taxonomy.model_checks]
    # haiku: only the first scenario, its specialist failing WF-1 and passing the rest.
    specialist_task(
        run,
        first,
        model="haiku",
        results=dict.fromkeys(checks, "pass") | {"WF-1": "fail"},
        domain=domain_id,
    )
    haiku_pct = f"{round(100 * (len(checks) - 1) / len(checks))}%"

    html = client.get(f"/heatmap/{domain_id}/").content.decode()

    heads = _matrix_header_pcts(html)
    assert heads[:3] == [("heuristic", "100%"), ("haiku", haiku_pct), ("sonnet", "0%")]
    assert heads[3:6] == [("heuristic", "100%"), ("haiku", "–"), ("sonnet", "0%")]
    assert len(heads) == 3 * len(domain.scenarios)
    api = client.get(f"/api/heatmap/domain/{domain_id}").json()
    assert api["scenarios"][0]["pass_pct"] == {
        "heuristic": 100,
        "haiku": int(haiku_pct[:-1]),
        "sonnet": 0,
    }
    assert api["scenarios"][1]["pass_pct"]["haiku"] is None


def test_matrix_header_pcts_cost_no_query_per_model(client, catalog, domain_id):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run = make_run()
    fill_domain(run, catalog, domain_id, model="heuristic")
    with CaptureQueriesContext(connection) as one_model:
        client.get(f"/heatmap/{domain_id}/", **HTMX)
    for model in ("haiku", "sonnet", "opus"):
        fill_domain(run, catalog, domain_id, model=model, result="fail")
    with CaptureQueriesContext(connection) as four_models:
        html = client.get(f"/heatmap/{domain_id}/", **HTMX).content.decode()
    assert ("opus", "0%") in _matrix_header_pcts(html)
    assert len(four_models) == len(one_model)


def test_model_filter_keeps_its_columns_and_pools_only_them(client, catalog, domain_id):
    skill = catalog.domains[domain_id].scenarios[0].specialist
    run = make_run()
    fill_domain(run, catalog, domain_id, model="sonnet", result="fail")
    fill_domain(run, catalog, domain_id, model="haiku", result="pass")
    html = client.get("/heatmap/", {"model": "sonnet"}).content.decode()
    assert _pct_cells(html, skill) == ["0%", "0%"]
    assert 'name="model" value="sonnet" checked' in html
    assert 'name="model" value="haiku" checked' not in html


def test_group_severity_and_failures_filters_narrow_the_matrix(
    client, catalog, domain_id, scenario
):
    checks = {c.id: c for c in catalog.taxonomy.model_checks}
    results = dict.fromkeys(checks, "pass")
    failing = next(c for c in checks.values() if c.group == "DK" and c.severity == "CRITICAL")
    results[failing.id] = "fail"
    specialist_task(make_run(), scenario, model="haiku", results=results, domain=domain_id)
    url = f"/heatmap/{domain_id}/"

    def row_ids(params):
        html = client.get(url, params, **HTMX).content.decode()
        return list(dict.fromkeys(check for _, check, _ in matrix_cells(html)))

    assert set(row_ids({"group": "WF"})) == {c for c in checks if c.startswith("WF-")}
    assert set(row_ids({"severity": "CRITICAL"})) == {
        c.id for c in checks.values() if c.severity == "CRITICAL"
    }
    high = set(row_ids({"severity": "HIGH"}))
    assert high == {c.id for c in checks.values() if c.severity in ("CRITICAL", "HIGH")}
    assert row_ids({"failures": "1"}) == [failing.id]
    assert row_ids({"failures": "1", "group": "WF"}) == []


def test_search_keeps_the_matching_scenarios(client, catalog, domain_id):
    scenarios = catalog.domains[domain_id].scenarios
    fill_domain(make_run(), catalog, domain_id, model="haiku")
    html = client.get(f"/heatmap/{domain_id}/", {"q": scenarios[0].id}, **HTMX).content.decode()
    assert f'<span class="sid">{scenarios[0].id}</span>' in html
    assert all(
        f'<span class="sid">{s.id}</span>' not in html
        for s in scenarios[1:]
        if scenarios[0].id not in s.id
    )


def test_filtered_fragment_carries_tabs_that_keep_the_filters(client, catalog, domain_id):
    fill_domain(make_run(), catalog, domain_id, model="haiku")
    html = client.get("/heatmap/", {"model": "haiku", "failures": "1"}, **HTMX).content.decode()
    assert 'id="domain-tabs"' in html and 'hx-swap-oob="true"' in html
    assert f'href="/heatmap/{domain_id}/?model=haiku&amp;failures=1"' in html


def test_a_run_can_be_pinned_instead_of_the_newest_results(client, catalog, domain_id):
    skill = catalog.domains[domain_id].scenarios[0].specialist
    old = make_run()
    fill_domain(old, catalog, domain_id, model="haiku", result="fail", age_s=60)
    fill_domain(make_run(), catalog, domain_id, model="haiku", result="pass")
    assert _pct_cells(client.get("/heatmap/").content.decode(), skill)[0] == "100%"
    pinned = client.get("/heatmap/", {"run": old.run_id}).content.decode()
    assert _pct_cells(pinned, skill)[0] == "0%"
    assert f'Showing run <a href="/runs/{old.run_id}/">{old.run_id}</a> only' in pinned
    matrix = client.get(f"/heatmap/{domain_id}/", {"run": old.run_id}).content.decode()
    shown = {r for cell in matrix_cells(matrix).values() for r in cell.results}
    assert "fail" in shown and "pass" not in shown
    links = [cell.href for cell in matrix_cells(matrix).values()]
    assert links and all(f"&run={old.run_id}" in href for href in links)  # cells keep the pin
    assert client.get("/heatmap/", {"run": "no-such-run"}).status_code == 404


def test_a_runs_page_shows_its_own_heatmap(client, catalog, domain_id):
    skill = catalog.domains[domain_id].scenarios[0].specialist
    run = make_run(models=["haiku"], domains=[domain_id])
    fill_domain(run, catalog, domain_id, model="haiku", result="fail", age_s=60)
    fill_domain(make_run(), catalog, domain_id, model="haiku", result="pass")
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    assert "This run's results" in html and _pct_cells(html, skill)[0] == "0%"
    assert f'href="/heatmap/{domain_id}/?run={run.run_id}"' in html


def test_csv_export_has_one_row_per_result_shown(client, catalog, domain_id, scenario):
    run = make_run()
    task = specialist_task(
        run, scenario, model="haiku", results={"WF-1": "fail", "WF-2": "pass"}, domain=domain_id
    )
    response = client.get(f"/heatmap/{domain_id}/", {"format": "csv", "failures": "1"})
    assert response["Content-Type"].startswith("text/csv")
    assert f"skillcheck-{domain_id}.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    mine = [r for r in rows if r["skill"] == scenario.specialist and r["model"] == "haiku"]
    assert mine == [
        {
            "domain": domain_id,
            "scenario": scenario.id,
            "skill": scenario.specialist,
            "model": "haiku",
            "check": "WF-1",
            "result": "fail",
            "severity": catalog.taxonomy.by_id["WF-1"].severity,
            "run_id": run.run_id,
            "finished_at": task.finished_at.isoformat(),
        }
    ]
    everything = client.get("/heatmap/", {"format": "csv"}).content.decode()
    assert everything.splitlines()[0] == (
        "domain,scenario,skill,model,check,result,severity,run_id,finished_at"
    )


def test_cell_detail_puts_every_model_side_by_side_with_the_json_behind_a_toggle(
    client, domain_id, scenario
):
    run = make_run()
    for model in ("sonnet", "heuristic", "haiku"):
        specialist_task(
            run, scenario, model=model, results={"WF-1": "fail"}, domain=domain_id, markdown=ANSWER
        )
    url = f"/heatmap/{domain_id}/cell/"
    params = {"scenario": scenario.id, "check": "WF-1", "clicked": "haiku"}
    html = client.get(url, params, **HTMX).content.decode()
    assert re.findall(r'data-model="(\w+)"', html) == ["heuristic", "haiku", "sonnet"]
    assert 'class="detail-model clicked" data-model="haiku"' in html
    analysis, raw = html.split("Raw answer (JSON)", 1)[0], html.split("Raw answer (JSON)", 1)[1]
    assert "<h2>Verdict</h2>" in analysis and '"check_id"' not in analysis.split("Full analysis")[1]
    assert "&quot;check_id&quot;: &quot;WF-1&quot;" in raw
    assert "<html" not in html


def test_every_fragment_url_opened_directly_is_a_full_page(client, domain_id, scenario):
    specialist_task(make_run(), scenario, model="haiku", results={"WF-1": "pass"}, domain=domain_id)
    skill = scenario.specialist
    pages = [
        f"/heatmap/{domain_id}/cell/?scenario={scenario.id}&check=WF-1&clicked=haiku",
        f"/heatmap/{domain_id}/bp/",
        f"/heatmap/{domain_id}/bp/cell/?skill={skill}&check=BP-1",
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert "<html" in html and "app.css" in html and 'id="domain-tabs"' in html, url
        assert 'id="domain-matrix"' in html and 'id="detail-panel"' in html, url
    cell = client.get(pages[0]).content.decode()
    assert 'data-cell-key="' + f'{scenario.id}|WF-1|haiku"' in cell


def test_bp_cells_open_the_linters_findings_with_file_and_line(client, catalog, domain_id):
    from heatmap import selectors

    lint = selectors.lint_matrix(catalog=catalog)
    skill, finding = next(
        (name, s.findings[0]) for name, s in lint.items() if s.findings and name in catalog.skills
    )
    html = client.get(
        f"/heatmap/{domain_id}/bp/cell/", {"skill": skill, "check": finding.check_id}, **HTMX
    ).content.decode()
    assert f"<code>{finding.file}:{finding.line}</code>" in html
    matrix = client.get(f"/heatmap/{domain_id}/bp/", **HTMX).content.decode()
    assert "bp/cell/?skill=" in matrix and "Description quality" in matrix
    assert (
        client.get(f"/heatmap/{domain_id}/bp/cell/", {"skill": "nope", "check": "BP-1"}).status_code
        == 404
    )


def test_overview_sorts_by_pass_pct_or_failures_from_its_headers(client, catalog, domain_id):
    run = make_run()
    fill_domain(run, catalog, domain_id, model="haiku", result="pass")
    other = next(
        d
        for d in catalog.domains.values()
        if not set(d.skills) & set(catalog.domains[domain_id].skills)
    )
    fill_domain(run, catalog, other.id, model="haiku", result="fail")
    weak = other.scenarios[0].specialist

    def order(params):
        html = client.get("/heatmap/", params).content.decode()
        return re.findall(r'<tr data-skill="([^"]+)">', html)

    assert order({"sort": "pass"})[0] == weak
    assert order({"sort": "fails"})[0] == weak
    assert order({}) == sorted(order({}))
    html = client.get("/heatmap/", {"model": "haiku"}).content.decode()
    assert 'href="/heatmap/?model=haiku&amp;sort=pass"' in html


FORMULA_ID = '=HYPERLINK("evil.example","click")'


def test_csv_export_writes_no_live_formula(client, settings, tmp_path, example_catalog_dir):
    """Issue 21 (2): a scenario named =HYPERLINK(…) came out of ?format=csv as a formula."""
    import shutil

    from heatmap import selectors as heatmap_selectors

    root = tmp_path / "catalog"
    shutil.copytree(example_catalog_dir, root)
    scenarios = root / "scenarios" / "price-tracking.yaml"
    scenarios.write_text(scenarios.read_text().replace("id: pt-1", f"id: '{FORMULA_ID}'"))
    settings.SKILLCHECK_CATALOG = root
    catalog = heatmap_selectors.catalog_current(root)
    scenario = next(s for s in catalog.scenarios if s.id == FORMULA_ID)
    specialist_task(make_run(), scenario, model="haiku", results={"WF-1": "fail"})

    for url in ("/heatmap/price-tracking/", "/heatmap/"):
        response = client.get(url, {"format": "csv"})
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        cells = [cell for row in rows for cell in row]
        assert "'" + FORMULA_ID in cells, url
        assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], url
