"""Repeated samples on the pages and the API: one verdict per cell, flaky marks, every sample."""

from __future__ import annotations

import pytest

from heatmap import selectors
from skillcheck import stats
from tests.heatmap_data import add_task, make_run
from tests.matrix_html import matrix_cells

pytestmark = [pytest.mark.django_db]

SAMPLES = {
    "WF-1": ["pass"] * 5,  # stable
    "WF-2": ["pass", "fail", "pass", "fail", "pass"],  # flaky, majority pass (60 %)
    "DK-1": ["fail", "fail", "fail", "fail", "pass"],  # one dissent of five: flaky too
}


@pytest.fixture
def sampled(catalog, scenario):
    run = make_run(models=["sonnet"], epochs=5)
    for epoch in range(1, 6):
        add_task(
            run,
            scenario_id=scenario.id,
            skill=scenario.specialist,
            model="sonnet",
            epoch=epoch,
            results={c: results[epoch - 1] for c, results in SAMPLES.items()},
            evidence=f"SKILL.md:{epoch}",
        )
    return run


def cell_of(matrix: dict, check_id: str, scenario_id: str) -> dict:
    row = next(r for r in matrix["checks"] if r["check_id"] == check_id)
    return next(c for c in row["cells"] if c["scenario_id"] == scenario_id)


def test_domain_api_cells_carry_samples_agreement_and_flaky(client, sampled, domain_id, scenario):
    matrix = client.get(f"/api/heatmap/domain/{domain_id}").json()
    skill = scenario.specialist
    stable = cell_of(matrix, "WF-1", scenario.id)
    assert stable["results"][skill] == "pass" and stable["flaky"] == []
    assert stable["samples"][skill] == 5 and stable["agreement"][skill] == 1.0
    flaky = cell_of(matrix, "WF-2", scenario.id)
    assert flaky["results"][skill] == "pass"  # the majority, not the newest sample
    assert flaky["flaky"] == [skill] and flaky["agreement"][skill] == 0.6
    assert cell_of(matrix, "DK-1", scenario.id)["results"][skill] == "fail"


def test_matrix_marks_flaky_cells_with_a_glyph_and_a_legend_entry(
    client, sampled, domain_id, scenario
):
    page = client.get(f"/heatmap/{domain_id}/").content.decode()
    assert 'class="flaky-mark"' in page and "flaky: the model" in page  # the legend
    cells = {key: cell for key, cell in matrix_cells(page).items() if key[0] == scenario.id}
    flaky = [key[1] for key, cell in cells.items() if cell.flaky]
    assert flaky == ["WF-2", "DK-1"]  # not the stable WF-1
    assert "majority of 5, 60% agree, flaky" in cells[(scenario.id, "WF-2", "sonnet")].title


def test_detail_panel_lists_every_sample(client, sampled, domain_id, scenario):
    page = client.get(
        f"/heatmap/{domain_id}/cell/", {"scenario": scenario.id, "check": "WF-2"}
    ).content.decode()
    assert "5 samples: 60% agree" in page
    for epoch in range(1, 6):
        assert f"SKILL.md:{epoch}" in page


def test_overview_gives_pass_intervals_and_sorts_surely_worst_first(client, catalog):
    run = make_run(models=["sonnet"])
    checks = [c.id for c in catalog.taxonomy.model_checks]
    # "wide": one task at 50 %; "narrow": many tasks at 40 %. By pass %, narrow is worse; by
    # the interval's lower bound, wide is (one task says little).
    domains = list(catalog.domains.values())
    wide, narrow = domains[0].scenarios[0], domains[1].scenarios
    half = {c: ("pass" if i % 2 else "fail") for i, c in enumerate(checks)}
    add_task(run, scenario_id=wide.id, skill=wide.specialist, model="sonnet", results=half)
    forty = {c: ("pass" if i % 5 < 2 else "fail") for i, c in enumerate(checks)}
    for scenario in narrow:
        add_task(
            run, scenario_id=scenario.id, skill=scenario.specialist, model="sonnet", results=forty
        )
    data = client.get("/api/heatmap/skills").json()
    rows = data["skills"] if isinstance(data, dict) else data
    skills = {row["skill"]: row for row in rows}
    lo, hi = skills[wide.specialist]["pass_ci"]
    assert lo < skills[wide.specialist]["pass_pct"] < hi and hi - lo > 40
    nlo, nhi = skills[narrow[0].specialist]["pass_ci"]
    assert nlo < 40 < nhi and nhi - nlo < hi - lo
    assert skills[wide.specialist]["per_model"]["sonnet"]["pass_ci"] == [lo, hi]
    page = client.get("/heatmap/", {"sort": "surely"}).content.decode()
    assert "95 % interval" in page
    assert page.index(f">{wide.specialist}<") < page.index(f">{narrow[0].specialist}<")
    by_pass = client.get("/heatmap/", {"sort": "pass"}).content.decode()
    assert by_pass.index(f">{narrow[0].specialist}<") < by_pass.index(f">{wide.specialist}<")


def test_checks_page_ranks_flaky_disputed_and_silent_checks(client, catalog, scenario):
    run = make_run(models=["sonnet", "haiku"], epochs=5)
    checks = [c.id for c in catalog.taxonomy.model_checks]
    for model in ("sonnet", "haiku"):
        for epoch in range(1, 6):
            results = dict.fromkeys(checks, "pass")
            results["WF-2"] = "pass" if epoch % 2 else "fail"  # a coin flip on both models
            results["DK-1"] = "pass" if model == "sonnet" else "fail"  # the models disagree
            add_task(
                run,
                scenario_id=scenario.id,
                skill=scenario.specialist,
                model=model,
                epoch=epoch,
                results=results,
            )
    data = client.get("/api/heatmap/checks").json()["checks"]
    assert data[0]["check_id"] == "WF-2" and data[0]["flaky_share"] == 1.0
    by_id = {row["check_id"]: row for row in data}
    assert by_id["DK-1"]["raw_agreement"] == 0.0 and by_id["DK-1"]["flaky_cells"] == 0
    assert by_id["WF-1"]["discriminates"] is False and by_id["WF-1"]["verdicts"] == {"pass": 2}
    page = client.get("/checks/quality/").content.decode()
    assert "WF-2" in page and "Fleiss" in page
    assert page.index("WF-2") < page.index("WF-1")


def test_a_stable_checks_stray_dissent_is_not_flaky_among_its_cells(client, catalog, domain_id):
    """Flaky is judged per check and model over its cells: one dissent in one of many cells is
    what a 1 % flip rate gives, a coin flip in every cell is not."""
    run = make_run(models=["sonnet"], epochs=5)
    checks = [c.id for c in catalog.taxonomy.model_checks]
    cells = [(s, skill) for s in catalog.scenarios for skill in s.target_skills]
    assert len(cells) >= 20
    stray = cells[0]
    for n, (scenario, skill) in enumerate(cells):
        for epoch in range(1, 6):
            results = dict.fromkeys(checks, "pass")
            results["WF-2"] = "pass" if (epoch + n) % 2 else "fail"  # a coin flip everywhere
            if (scenario, skill) == stray and epoch == 3:
                results["WF-1"] = "fail"  # a stable check's one flip
            add_task(run, scenario_id=scenario.id, skill=skill, model="sonnet", epoch=epoch,
                     results=results)  # fmt: skip
    scenario, skill = stray
    matrix = client.get(f"/api/heatmap/domain/{scenario.domain}").json()
    assert cell_of(matrix, "WF-1", scenario.id)["agreement"][skill] == 0.8
    assert cell_of(matrix, "WF-1", scenario.id)["flaky"] == []
    assert skill in cell_of(matrix, "WF-2", scenario.id)["flaky"]
    page = client.get(
        f"/heatmap/{scenario.domain}/cell/", {"scenario": scenario.id, "check": "WF-1"}
    ).content.decode()
    assert "5 samples: 80% agree</summary>" in page  # not "· ~ flaky"
    checks_page = client.get("/api/heatmap/checks").json()["checks"]
    by_id = {row["check_id"]: row for row in checks_page}
    assert by_id["WF-2"]["flaky_models"] == ["sonnet"] and by_id["WF-1"]["flaky_models"] == []
    assert by_id["WF-1"]["flaky_cells"] == 0
    assert "flaky on sonnet" in client.get("/checks/quality/").content.decode()


def test_overview_counts_every_sample_of_the_newest_run(client, sampled, catalog, scenario):
    """The overview counts what the matrix does: all five samples (9 passes of 15), with the
    stratified interval, kept as tasks are saved, pinned to the run, and under a check filter;
    a later run of one sample replaces them, and deleting it brings them back."""
    expected = stats.sampled_pass_interval([[(2, 3), (1, 3), (2, 3), (1, 3), (3, 3)]])
    assert expected is not None
    ci = [round(100 * expected.low, 1), round(100 * expected.high, 1)]

    def row(**filters):
        rows = selectors.heatmap_overview(
            catalog=catalog, filters=selectors.HeatmapFilter(**filters)
        )
        return next(r for r in rows if r.skill == scenario.specialist).as_dict()

    skills = {r["skill"]: r for r in client.get("/api/heatmap/skills").json()}
    found = skills[scenario.specialist]
    assert (found["pass_count"], found["fail_count"]) == (9, 6)
    assert found["pass_ci"] == ci and found["per_model"]["sonnet"]["pass_ci"] == ci
    assert [g["count"] for g in found["top_gaps"]][:2] == [4, 2]  # DK-1 failed 4 times, WF-2 2
    pinned = row(run=sampled)
    assert (pinned["pass_count"], pinned["fail_count"], pinned["pass_ci"]) == (9, 6, ci)
    group = next(c.group for c in catalog.taxonomy.model_checks if c.id == "WF-2")
    narrowed = row(group=group)
    in_group = [
        c
        for c in SAMPLES
        if next(k for k in catalog.taxonomy.model_checks if k.id == c).group == group
    ]
    assert narrowed["pass_count"] == sum(SAMPLES[c].count("pass") for c in in_group)

    later = make_run(models=["sonnet"])
    add_task(
        later,
        scenario_id=scenario.id,
        skill=scenario.specialist,
        model="sonnet",
        results={c: "pass" for c in SAMPLES},
    )
    found = next(
        r for r in client.get("/api/heatmap/skills").json() if r["skill"] == scenario.specialist
    )
    assert (found["pass_count"], found["fail_count"]) == (3, 0)
    later.delete()
    assert row()["pass_count"] == 9 and row()["pass_ci"] == ci


def test_matrix_headers_and_skill_page_give_intervals_over_every_sample(
    client, sampled, domain_id, scenario
):
    per_sample = [(2, 3), (1, 3), (2, 3), (1, 3), (3, 3)]
    expected = stats.sampled_pass_interval([per_sample])
    assert expected is not None
    ci = [round(100 * expected.low, 1), round(100 * expected.high, 1)]
    matrix = client.get(f"/api/heatmap/domain/{domain_id}").json()
    column = next(s for s in matrix["scenarios"] if s["id"] == scenario.id)
    assert column["pass_pct"]["sonnet"] == 60  # 9 passes of 15 samples' verdicts
    assert column["pass_ci"]["sonnet"] == ci
    page = client.get(f"/heatmap/{domain_id}/").content.decode()
    assert f"9 pass, 6 fail, 0 unclear, 0 n/a; 95 % interval {ci[0]}–{ci[1]} %" in page
    skill_page = client.get(f"/skills/{scenario.specialist}/").content.decode()
    assert f'title="95 % interval {ci[0]}–{ci[1]} %">60% pass' in skill_page
    assert f"60% pass; 95 % interval {ci[0]}–{ci[1]} %" in skill_page  # the chart's dot
