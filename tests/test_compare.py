"""Run comparison (flips, regressions first) and model agreement, without Django."""

from __future__ import annotations

from skillcheck.compare import TaskChecks, compare_runs, model_agreement

SEVERITIES = {"SEC-1": "CRITICAL", "WF-1": "LOW", "WF-2": "HIGH"}


def task(scenario, checks, *, skill="k", model="m", error=False):
    return TaskChecks((scenario, skill, model), checks, error)


def test_regressions_come_first_most_severe_first_then_improvements():
    base = [task("s1", {"WF-1": "pass", "WF-2": "fail", "SEC-1": "pass", "DK-1": "na"})]
    new = [task("s1", {"WF-1": "fail", "WF-2": "pass", "SEC-1": "unclear", "DK-1": "pass"})]
    result = compare_runs(base, new, severities=SEVERITIES, base_id="a", new_id="b")
    assert [(f.check_id, f.kind) for f in result.flips] == [
        ("SEC-1", "regression"),
        ("WF-1", "regression"),
        ("WF-2", "improvement"),
        ("DK-1", "change"),
    ]
    data = result.to_dict()
    assert data["regressions"] == 2 and data["improvements"] == 1
    assert data["flips"][0] == {
        "scenario_id": "s1", "skill": "k", "model": "m", "check_id": "SEC-1",
        "before": "pass", "after": "unclear", "severity": "CRITICAL", "kind": "regression",
        # One sample a side: the noise is unknown.
        "significant": None, "p": None, "q": None,
    }  # fmt: skip
    assert data["noise"] == "unknown" and result.failing_regressions() == [
        "k × m × s1: SEC-1 pass → unclear", "k × m × s1: WF-1 pass → fail",
    ]  # fmt: skip


def test_only_tasks_in_both_runs_are_compared():
    base = [task("s1", {"WF-1": "pass"}), task("gone", {"WF-1": "pass"})]
    new = [task("s1", {"WF-1": "pass"}), task("fresh", {"WF-1": "fail"})]
    result = compare_runs(base, new)
    assert result.flips == [] and result.compared == 1
    assert result.added == [("fresh", "k", "m")] and result.removed == [("gone", "k", "m")]


def test_a_failed_call_is_not_a_regression():
    base = [task("s1", {"WF-1": "pass"})]
    new = [task("s1", {"WF-1": "unclear"}, error=True)]
    result = compare_runs(base, new)
    assert result.regressions == [] and result.errored == [("s1", "k", "m")]


def test_agreement_counts_groups_scored_by_two_or_more_models():
    rows = [
        ("s1", "k", "a", "WF-1", "pass"),
        ("s1", "k", "b", "WF-1", "pass"),
        ("s1", "k", "a", "WF-2", "pass"),
        ("s1", "k", "b", "WF-2", "fail"),
        ("s1", "other", "a", "WF-1", "fail"),  # one model only: not a group
    ]
    agreement = model_agreement(rows)
    assert agreement.by_skill["k"].groups == 2 and agreement.by_skill["k"].percent == 50
    assert "other" not in agreement.by_skill
    assert [c for c, _ in agreement.lowest_checks()] == ["WF-2", "WF-1"]


def test_an_untested_skill_says_why_its_noise_is_unknown():
    from skillcheck.compare import SkillChange

    one_scenario = SkillChange("s", "haiku", 0.5, 0.6, 0.1, scenarios=1)
    one_sample = SkillChange("s", "haiku", 0.5, 0.6, 0.1, scenarios=4)
    assert one_scenario.verdict == "unknown noise (one scenario)"
    assert one_sample.verdict == "unknown noise (one sample)"
