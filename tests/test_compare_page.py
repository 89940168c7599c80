"""The compare page: the per-skill summary leads, the changed checks follow grouped by skill
and collapsed, with verdicts and evidence before and after; filters in the query string, and
htmx asks for the list alone."""

from __future__ import annotations

import html
import re

import pytest

from heatmap import selectors
from heatmap.models import CheckResult, TaskResult
from tests.heatmap_data import make_run, specialist_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_runs(catalog, domain_id):
    """Two runs over two skills: one skill edited (its fingerprint changed) with a regression
    and an improvement on two models, the other the same in both runs."""
    scenarios = [s for s in catalog.scenarios if s.specialist]
    edited = scenarios[0]
    other = next(s for s in scenarios if s.specialist != edited.specialist)
    base, new = make_run(models=["haiku", "sonnet"]), make_run(models=["haiku", "sonnet"])
    for run, (one, two) in ((base, ("pass", "fail")), (new, ("fail", "pass"))):
        for model in ("haiku", "sonnet"):
            specialist_task(
                run, edited, model=model, domain=edited.domain,
                results={"WF-1": one, "WF-2": two, "DK-1": "pass"},
                evidence=f"{run.run_id}: SKILL.md:{3 if run is base else 7} says so",
            )  # fmt: skip
            specialist_task(run, other, model=model, domain=other.domain, results={"WF-1": "pass"})
    TaskResult.objects.filter(run=base, skill=edited.specialist).update(skill_fingerprint="a" * 16)
    TaskResult.objects.filter(run=new, skill=edited.specialist).update(skill_fingerprint="b" * 16)
    TaskResult.objects.filter(skill=other.specialist).update(skill_fingerprint="c" * 16)
    return base, new, edited, other


def url(base, new, **query) -> str:
    path = f"/runs/{new.run_id}/compare/{base.run_id}/"
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_summary_leads_then_the_changed_checks_collapsed(client, two_runs):
    base, new, edited, other = two_runs
    page = client.get(url(base, new)).content.decode()
    assert page.index("Per skill") < page.index("Changed checks by skill")
    summary = page[page.index("Per skill") : page.index("Changed checks by skill")]
    # The edited skill has a row per model with both pass % and their intervals, and is
    # marked as edited; the unchanged one is named on one line.
    rows = re.findall(r'<tbody class="skill-summary" data-skill="([^"]+)"', summary)
    assert rows == [edited.specialist]
    assert "files edited" in summary and summary.count("[") >= 4
    assert "Unchanged in 1 skill" in summary and other.specialist in summary
    # One collapsed group, flips inside with both verdicts and both evidences linked.
    group = re.search(r'<details class="skill-flips"[^>]*data-skill="([^"]+)"([^>]*)>', page)
    assert group and group[1] == edited.specialist and "open" not in group[2]
    assert page.count('data-flip="regression"') == 2 and page.count('data-flip="improvement"') == 2
    skill_file = f"/skills/{edited.specialist}/files/SKILL.md"
    assert f'href="{skill_file}?run={base.run_id}#L3"' in page
    assert f'href="{skill_file}?run={new.run_id}#L7"' in page
    cell = (
        f'href="/heatmap/{edited.domain}/cell/?scenario={edited.id}&amp;check=WF-1'
        f'&amp;clicked=haiku&amp;run={new.run_id}"'
    )
    assert cell in page


def test_the_skill_summary_carries_each_side_interval_in_the_api(client, two_runs):
    base, new, edited, _ = two_runs
    data = client.get("/api/heatmap/compare", {"base": base.run_id, "new": new.run_id}).json()
    row = next(s for s in data["skills"] if s["skill"] == edited.specialist)
    assert row["base_ci_pct"][0] <= row["base_pass_pct"] <= row["base_ci_pct"][1]
    assert row["new_ci_pct"][0] <= row["new_pass_pct"] <= row["new_ci_pct"][1]


def test_filters_narrow_the_list_and_open_the_skill(client, two_runs):
    base, new, edited, _ = two_runs
    page = client.get(
        url(base, new, skill=edited.specialist, model="sonnet", regressions="1")
    ).content.decode()
    assert page.count('data-flip="regression"') == 1 and 'data-flip="improvement"' not in page
    assert re.search(r'<details class="skill-flips"[^>]* open>', page)
    assert 'name="regressions" value="1" checked' in page
    assert "No changed check matches" in client.get(url(base, new, model="opus")).content.decode()


def test_htmx_gets_the_list_alone(client, two_runs):
    base, new, _, _ = two_runs
    response = client.get(
        url(base, new, regressions="1"), headers={"HX-Request": "true", "HX-Target": "compare-list"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="compare-list"')
    assert "Per skill" not in body and body.count('data-flip="regression"') == 2


def test_one_selector_feeds_the_page_the_api_and_the_command(two_runs, catalog):
    base, new, _, _ = two_runs
    page = selectors.compare_page(base=base, new=new, catalog=catalog)
    assert (
        page.comparison.to_dict()
        == selectors.run_comparison(base=base, new=new, catalog=catalog).to_dict()
    )
    assert [s.skill for s in page.loud] == [page.groups[0].summary.skill]


def test_evidence_is_escaped(client, two_runs):
    base, new, _, _ = two_runs

    CheckResult.objects.filter(task__run=new).update(evidence="<script>x</script> SKILL.md:2")
    page = client.get(url(base, new)).content.decode()
    assert "<script>x</script>" not in page and html.escape("<script>x</script>") in page
