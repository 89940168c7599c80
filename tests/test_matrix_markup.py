"""The domain matrix without clutter, and light: ≠ only where models split pass against fail,
the skills' initials over multi-skill blocks, risk only beside a check that did not pass, the
BP legend with the linter's states only, and a byte budget per cell."""

from __future__ import annotations

import gzip

import pytest

from heatmap.models import TaskResult
from tests.heatmap_data import HTMX, fill_domain, make_run, specialist_task
from tests.matrix_html import column_heads, matrix_cells

pytestmark = pytest.mark.django_db

# What one cell of the matrix may weigh in the poll fragment, all of the fragment's bytes
# (heads, row heads, the note) counted against its cells. Measured: 229 here, 225 on the
# corpus with three models, where it was 518 before the markup was made terse
# (docs/explanation/benchmarks.md, "Page weight").
BYTES_PER_CELL = 260


def three_models(scenario, **by_model: dict[str, str]):
    run = make_run(models=list(by_model))
    for model, results in by_model.items():
        specialist_task(run, scenario, model=model, results=results)
    return run


def test_the_not_equal_mark_is_only_where_models_split_pass_against_fail(
    client, domain_id, scenario
):
    three_models(
        scenario,
        haiku={"WF-1": "pass", "WF-2": "pass", "WF-3": "na", "DK-1": "fail"},
        sonnet={"WF-1": "fail", "WF-2": "unclear", "WF-3": "pass", "DK-1": "unclear"},
        opus={"WF-1": "pass", "WF-2": "pass", "WF-3": "pass", "DK-1": "fail"},
    )
    cells = matrix_cells(client.get(f"/heatmap/{domain_id}/").content.decode())
    marked = {(check, model) for (sid, check, model), c in cells.items() if c.split}
    models = ("haiku", "sonnet", "opus")
    assert marked == {("WF-1", model) for model in models}  # pass against fail
    # Pass against unclear or n/a is still a disagreement for the API and the agreement rate.
    api = client.get(f"/api/heatmap/domain/{domain_id}").json()
    disagree = {
        row["check_id"]
        for row in api["checks"]
        for cell in row["cells"]
        if cell["disagree"] and cell["scenario_id"] == scenario.id
    }
    assert disagree == {"WF-1", "WF-2", "WF-3", "DK-1"}


def test_multi_skill_blocks_carry_their_initials_above_them(client, catalog, domain_id):
    fill_domain(make_run(), catalog, domain_id, model="haiku")
    html = client.get(f"/heatmap/{domain_id}/").content.decode()
    scenarios = catalog.domains[domain_id].scenarios
    heads = column_heads(html)
    assert len(heads) == len(scenarios)
    for scenario, (_, _, initials) in zip(scenarios, heads, strict=True):
        labels = initials.split()
        if len(scenario.target_skills) == 1:
            assert labels == []  # one block: nothing to tell apart
        else:
            assert labels[0] == "S" and len(labels) == len(scenario.target_skills)
    cells = matrix_cells(html)
    first = scenarios[0]
    assert len(first.target_skills) > 1
    # The tooltip names each block by the same initials.
    title = cells[(first.id, "WF-1", "haiku")].title
    assert title.split(", ")[0] == "S pass" and len(title.split(", ")) == len(first.target_skills)


def test_risk_shows_beside_a_check_that_did_not_pass_only(client, domain_id, scenario):
    run = make_run(models=["haiku"])
    task = specialist_task(run, scenario, model="haiku", results={"WF-1": "pass", "WF-2": "fail"})
    TaskResult.objects.filter(pk=task.pk).update(risk_level="CRITICAL")

    def detail(check: str) -> str:
        params = {"scenario": scenario.id, "check": check, "clicked": "haiku"}
        return client.get(f"/heatmap/{domain_id}/cell/", params, **HTMX).content.decode()

    assert "CRITICAL" not in detail("WF-1").replace('class="sev sev-critical"', "")
    assert "the answer's overall risk: CRITICAL" in detail("WF-2")
    TaskResult.objects.filter(pk=task.pk).update(risk_level="UNKNOWN")
    assert "overall risk" not in detail("WF-2")


def test_the_bp_legend_lists_only_what_the_linter_can_give(client, catalog, domain_id):
    fill_domain(make_run(), catalog, domain_id, model="haiku")
    bp = client.get(f"/heatmap/{domain_id}/bp/").content.decode()
    legend = bp[bp.index('class="legend"') : bp.index("</div>", bp.index('class="legend"'))]
    for state in ("pass", "fail", "not run"):
        assert f"</span> {state}</span>" in legend
    for absent in ("unclear", "not applicable", "stale", "split", "flaky"):
        assert absent not in legend, absent
    checks = client.get(f"/heatmap/{domain_id}/").content.decode()
    assert "flaky" in checks and "stale" in checks and "unclear" in checks


def test_the_legend_is_sent_once_with_the_page_not_with_each_poll(client, catalog, domain_id):
    fill_domain(make_run(), catalog, domain_id, model="haiku")
    page = client.get(f"/heatmap/{domain_id}/").content.decode()
    fragment = client.get(f"/heatmap/{domain_id}/", **HTMX).content.decode()
    assert page.count('class="legend"') == 2  # the cell states and the pass % scale
    assert 'class="legend"' not in fragment and matrix_cells(fragment) == matrix_cells(page)


def test_the_poll_and_the_csv_link_are_the_domains_even_on_a_cell_page(
    client, catalog, domain_id, scenario
):
    fill_domain(make_run(status="running", models=["haiku"]), catalog, domain_id, model="haiku")
    page = client.get(
        f"/heatmap/{domain_id}/cell/", {"scenario": scenario.id, "check": "WF-1"}
    ).content.decode()
    # The matrix behind a cell's page shows that check (the cell URL's check= is a filter);
    # its poll, its filters and its CSV link ask the domain's page, not the cell's.
    assert f'hx-get="/heatmap/{domain_id}/?check=WF-1" hx-trigger="every' in page
    assert f'href="/heatmap/{domain_id}/?check=WF-1&amp;format=csv" download' in page
    assert f'hx-get="/heatmap/{domain_id}/cell/' not in page


def test_every_cell_stays_within_a_byte_budget(client, catalog, domain_id):
    """Three models, every cell filled, stale and split marks on some: the fragment a poll
    sends must stay light (issue 22), whatever is added to a cell later."""
    run = make_run(models=["haiku", "sonnet", "opus"])
    for model, result in (("haiku", "pass"), ("sonnet", "fail"), ("opus", "unclear")):
        fill_domain(run, catalog, domain_id, model=model, result=result)
    fragment = client.get(f"/heatmap/{domain_id}/", **HTMX).content
    cells = matrix_cells(fragment.decode())
    assert cells and all(c.split for c in cells.values())  # every mark a cell can carry but ~
    assert len(fragment) / len(cells) <= BYTES_PER_CELL, len(fragment) / len(cells)


def test_pages_and_polls_are_gzipped_for_clients_that_accept_it(client, catalog, domain_id):

    fill_domain(make_run(models=["haiku"]), catalog, domain_id, model="haiku")
    url = f"/heatmap/{domain_id}/"
    plain = client.get(url, **HTMX)
    packed = client.get(url, HTTP_ACCEPT_ENCODING="gzip, br", **HTMX)
    assert "Content-Encoding" not in plain and packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert packed.status_code == plain.status_code == 286  # the poll's answer, no run active
    assert matrix_cells(gzip.decompress(packed.content).decode()) == matrix_cells(
        plain.content.decode()
    )
    assert len(packed.content) * 5 < len(plain.content)
    # The CSRF token in the page is masked afresh on every response: nothing for BREACH to find.
    pages = [client.get(url).content.decode() for _ in range(2)]
    tokens = [page.split('"X-CSRFToken": "')[1].split('"')[0] for page in pages]
    assert tokens[0] != tokens[1]
