"""CI outputs of the engine: JUnit XML, SARIF, the Markdown summaries and the gates."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from skillcheck.catalog import load_catalog
from skillcheck.compare import TaskChecks, compare_runs
from skillcheck.gates import fail_under_failed, lint_gate_failed
from skillcheck.junit import comparison_junit, run_junit, write_junit
from skillcheck.linter import lint_catalog
from skillcheck.markdown_summary import cell, comparison_markdown, run_markdown
from skillcheck.results import CheckVerdict, ScoredRun
from skillcheck.sarif import lint_sarif
from skillcheck.vocabulary import Result, Severity

SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
CHECKS = ["WF-1", "WF-2", "DK-1"]


def _run(scenario: str, model: str, verdicts: list[str], error: str | None = None) -> ScoredRun:
    return ScoredRun(
        scenario_id=scenario,
        skill="web-scraper",
        model=model,
        checks=[]
        if error
        else [CheckVerdict(c, Result(v), "", "why") for c, v in zip(CHECKS, verdicts, strict=True)],
        duration_s=3.0,
        error=error,
    )


def _cases(document: JUnitXml) -> list:
    return [case for suite in document for case in suite]


def _kinds(case) -> set[type]:
    return {type(r) for r in case.result}


def test_junit_one_case_per_check_with_the_right_outcome(tmp_path):
    results = [
        _run("s-1", "heuristic", ["pass", "fail", "na"]),
        _run("s-2", "heuristic", ["fail", "unclear", "fail"]),
        _run("s-3", "heuristic", [], error="rate limited"),
    ]
    planned = [("s-1", "web-scraper", "heuristic"), ("s-4", "web-scraper", "heuristic")]
    path = write_junit(run_junit(results, check_ids=CHECKS, planned=planned), tmp_path / "a/j.xml")

    document = JUnitXml.fromfile(str(path))
    cases = _cases(document)
    assert len(cases) == 4 * len(CHECKS)  # three tasks that ran plus one that did not
    assert document.failures == 3  # the run's failed checks
    assert document.errors == 3  # every check of the errored task
    assert document.skipped == 1 + 3  # the n/a check, and every check of the task not run
    by_name = {case.name: case for case in cases}
    assert _kinds(by_name["s-1 WF-2"]) == {Failure}
    assert _kinds(by_name["s-1 DK-1"]) == {Skipped}
    assert _kinds(by_name["s-2 WF-2"]) == set()  # unclear is no failure
    assert by_name["s-2 WF-2"].system_out == "unclear: why"
    assert _kinds(by_name["s-3 WF-1"]) == {Error}
    assert _kinds(by_name["s-4 WF-1"]) == {Skipped}
    assert by_name["s-1 WF-1"].classname == "web-scraper.heuristic"


def test_junit_escapes_hostile_text(tmp_path):
    hostile = ScoredRun(
        "s-<1>", 'sk"&', "m", [CheckVerdict("WF-1", Result.FAIL, "]]><x/>\x00 bad")]
    )
    path = write_junit(run_junit([hostile], check_ids=["WF-1"]), tmp_path / "j.xml")
    document = JUnitXml.fromfile(str(path))
    [case] = _cases(document)
    assert case.name == "s-<1> WF-1"
    assert document.failures == 1


def test_comparison_junit_fails_exactly_the_regressions():
    key = ("s-1", "skill", "m")
    base = [TaskChecks(key, {"WF-1": "pass", "WF-2": "fail", "DK-1": "pass"})]
    new = [
        TaskChecks(key, {"WF-1": "fail", "WF-2": "pass", "DK-1": "pass"}),
        TaskChecks(("s-2", "skill", "m"), {"WF-1": "pass"}),
    ]
    comparison = compare_runs(base, new, base_id="a", new_id="b")
    document = comparison_junit(comparison, new)
    document.update_statistics()
    assert document.failures == len(comparison.regressions) == 1
    assert document.skipped == 1  # the added task's check
    by_name = {case.name: case for case in _cases(document)}
    assert by_name["s-1 WF-2"].system_out == "improvement: fail → pass"


# --- SARIF ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_lint(corpus_dir):
    catalog = load_catalog(corpus_dir)
    return catalog, lint_catalog(catalog)


def test_sarif_validates_and_points_at_real_lines(corpus_lint, corpus_dir):
    catalog, lints = corpus_lint
    log = lint_sarif(lints, catalog.skills, catalog.taxonomy, root=corpus_dir)
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator(schema).validate(json.loads(json.dumps(log)))

    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == {*(c.id for c in catalog.taxonomy.static_checks), "FM"}
    findings = sum(len(lint.findings) for lint in lints.values())
    assert findings > 0 and len(run["results"]) == findings
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in {"error", "warning", "note"}
        assert result["message"]["text"]
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert not uri.startswith("/") and uri.startswith("skills/")
        lines = (corpus_dir / uri).read_text().splitlines()
        assert 1 <= location["region"]["startLine"] <= max(len(lines), 1)


def test_sarif_of_a_clean_catalog_has_no_results(example_catalog_dir):
    catalog = load_catalog(example_catalog_dir)
    lints = lint_catalog(catalog)
    for lint in lints.values():
        lint.findings.clear()
    log = lint_sarif(lints, catalog.skills, catalog.taxonomy, root=catalog.root)
    assert log["runs"][0]["results"] == []
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)


def test_lint_gate(corpus_lint):
    catalog, lints = corpus_lint
    assert lint_gate_failed(lints, catalog.taxonomy, Severity.LOW)
    assert not lint_gate_failed(lints, catalog.taxonomy, None)
    clean = {name: type(lint)(lint.skill, []) for name, lint in lints.items()}
    assert not lint_gate_failed(clean, catalog.taxonomy, Severity.LOW)


def test_fail_under():
    pct = 50.0
    assert fail_under_failed(pct, 60)
    assert not fail_under_failed(pct, 50)
    assert not fail_under_failed(pct, None)
    assert fail_under_failed(None, 1)  # nothing scored is no pass


# --- Markdown -------------------------------------------------------------------------------


@dataclass
class _Row:
    name: str
    tasks: int = 2
    errors: int = 0
    failed_checks: int = 1
    pass_pct: float | None = 75.0
    top_failing: list[tuple[str, int]] = field(default_factory=lambda: [("WF-1", 1)])


def test_cell_escapes_tables_markup_and_formulas():
    assert cell("a|b\nc") == "a\\|b c"
    assert cell("<script>") == "\\<script\\>"
    assert cell("=HYPERLINK(1)").startswith("'=")
    assert cell("+1+cmd").startswith("'+") and cell("\uff1dcmd").startswith("'\uff1d")
    assert cell("@SUM(A1)").startswith("'@")


def test_run_markdown():
    text = run_markdown(
        run_id="r1",
        status="completed",
        skills=[_Row("web|scraper"), _Row("other", failed_checks=0, top_failing=[])],
        models=[_Row("heuristic", tasks=4)],
        check_names={"WF-1": "Complete workflow"},
    )
    assert "**completed**: 4 tasks, 1 failed checks, 0 failed tasks." in text
    assert "| web\\|scraper | 75.0 % | 2 | 1 | 0 | WF-1 (1) |" in text
    assert "| WF-1 | Complete workflow | 1 |" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == rows[0].count(" | ") for line in rows[:4])


def test_comparison_markdown():
    key = ("s-1", "skill-a", "m")
    comparison = compare_runs(
        [TaskChecks(key, {"WF-1": "pass", "WF-2": "fail"})],
        [TaskChecks(key, {"WF-1": "fail", "WF-2": "pass"})],
        severities={"WF-1": "HIGH"},
        base_id="a",
        new_id="b",
    )
    text = comparison_markdown(comparison)
    assert "**1 regressions**, 1 improvements" in text
    assert "| skill-a | 1 | 1 | 0 |" in text
    assert "| skill-a | m | s-1 | WF-1 | HIGH | pass → fail |" in text
