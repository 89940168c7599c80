"""``sim_core``: the original skill-checker's script API, checked as a script of it would use it.

The incremental-save and ``load_all_scored_reports`` tests restate the original project's own
tests of them (REPORTS_DIR set by the script, the file, its fields, atomicity, overwrite, the
folder made on demand); the taxonomy and loader tests run against the real corpus, which holds
the original's scenario set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import sim_core
from sim_core import CheckResult, RunResult, Scenario, ScoredRun
from tests.original_format import write_original_report
from tests.processes import python


def test_sim_core_imports_no_django():
    code = (
        "import sys, sim_core\n"
        "sim_core.LLM_CHECK_IDS\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'channels'})\n"
        "print(','.join(loaded))\n"
    )
    out = python(code, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_every_exported_name_resolves():
    missing = [name for name in sim_core.__all__ if not hasattr(sim_core, name)]
    assert missing == []


def test_the_names_the_original_tests_import_all_exist():
    names = [
        "ALL_CATEGORIES",
        "APF_CATEGORIES",
        "BP_CATEGORIES",
        "CATEGORY_GROUPS",
        "DEV_DOMAINS",
        "DEV_EXCLUDED_CHECKS",
        "DK_CATEGORIES",
        "DOMAIN_SKILL_MAP",
        "LLM_CHECK_IDS",
        "SCENARIOS_DIR",
        "SEC_CATEGORIES",
        "WF_CATEGORIES",
        "CheckResult",
        "RunResult",
        "Scenario",
        "ScoredRun",
        "generate_json_report",
        "generate_markdown_report",
        "get_category_type",
        "get_scenario_models",
        "get_target_skills",
        "load_all_scored_reports",
        "load_domain_scenarios",
        "load_manifest",
        "load_scored_report",
        "load_scenarios",
        "parse_scoring_response",
        "save_scored_report_incremental",
    ]
    assert len(names) == 28
    assert [n for n in names if not hasattr(sim_core, n)] == []


# --- Incremental save, as the original's tests use it -------------------------------------


def _scored(scenario_id: str = "ci-1", model: str = "sonnet") -> ScoredRun:
    return ScoredRun(
        scenario_id=scenario_id,
        skill="apify-competitor-intelligence",
        model=model,
        checks=[
            CheckResult("WF-1", "pass", "Steps are listed", "Has a workflow"),
            CheckResult("DK-1", "fail", "Nothing on picking an actor", "No guidance"),
        ],
        risk_level="MEDIUM",
        markdown_response="## Analysis\nThe details.",
        duration_s=3.7,
        cost_info="input=500, output=1200",
    )


@pytest.fixture
def reports_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr("sim_core.REPORTS_DIR", tmp_path)
    return tmp_path


def test_incremental_save_writes_the_runs_file_in_reports_dir(reports_dir):
    path = sim_core.save_scored_report_incremental("run_a", [_scored()], {"model": "sonnet"})
    assert path == reports_dir / "scored_run_run_a.json"
    assert path.is_file()


def test_incremental_save_document_head(reports_dir):
    path = sim_core.save_scored_report_incremental("run_b", [_scored()], {"model": "sonnet"})
    document = json.loads(path.read_text())
    assert document["type"] == "scored"
    assert document["generated"]
    assert document["run_id"] == "run_b"
    assert document["result_count"] == 1
    assert len(document["results"]) == 1


def test_incremental_save_rows_keep_the_original_fields(reports_dir):
    path = sim_core.save_scored_report_incremental("run_c", [_scored()], {})
    row = json.loads(path.read_text())["results"][0]
    assert {k: row[k] for k in ("scenario_id", "skill", "model", "risk_level")} == {
        "scenario_id": "ci-1",
        "skill": "apify-competitor-intelligence",
        "model": "sonnet",
        "risk_level": "MEDIUM",
    }
    assert row["duration_s"] == 3.7
    assert row["cost_info"] == "input=500, output=1200"
    assert row["error"] is None
    assert row["markdown_response"] == "## Analysis\nThe details."
    wf1 = next(c for c in row["checks"] if c["check_id"] == "WF-1")
    assert wf1 == {
        "check_id": "WF-1",
        "result": "pass",
        "evidence": "Steps are listed",
        "summary": "Has a workflow",
    }


def test_incremental_save_leaves_no_temporary_file(reports_dir):
    sim_core.save_scored_report_incremental("run_d", [_scored()], {})
    assert list(reports_dir.glob("*.tmp")) == []
    assert [p.name for p in reports_dir.glob("*.json")] == ["scored_run_run_d.json"]


def test_incremental_save_overwrites_the_same_run(reports_dir):
    path = sim_core.save_scored_report_incremental("run_e", [_scored()], {})
    sim_core.save_scored_report_incremental("run_e", [_scored(), _scored("ci-2")], {})
    document = json.loads(path.read_text())
    assert document["result_count"] == 2
    assert [r["scenario_id"] for r in document["results"]] == ["ci-1", "ci-2"]


def test_incremental_save_puts_metadata_at_the_top(reports_dir):
    metadata = {"model": "haiku", "domains": ["ecommerce", "social-media"], "concurrency": 3}
    path = sim_core.save_scored_report_incremental("run_f", [], metadata)
    document = json.loads(path.read_text())
    assert {k: document[k] for k in metadata} == metadata


def test_incremental_save_makes_the_reports_folder(tmp_path, monkeypatch):
    folder = tmp_path / "new" / "reports"
    monkeypatch.setattr("sim_core.REPORTS_DIR", folder)
    sim_core.save_scored_report_incremental("run_g", [], {})
    assert (folder / "scored_run_run_g.json").is_file()


def test_load_all_scored_reports_reads_back_an_incremental_file(reports_dir):
    run = _scored()
    sim_core.save_scored_report_incremental("run_h", [run], {"model": "sonnet"})
    [(metadata, runs)] = sim_core.load_all_scored_reports()
    assert metadata["run_id"] == "run_h"
    assert metadata["type"] == "scored"
    assert runs == [run]  # every field, cost text included, survives the round trip


def test_load_all_scored_reports_reads_the_originals_files(reports_dir):
    write_original_report(reports_dir)
    [(metadata, runs)] = sim_core.load_all_scored_reports()
    assert metadata["run_id"] == "20250301_101500"
    assert [r.cost_info for r in runs] == [
        "input=5200, output=1900",
        "unknown (non-JSON output)",
        "",
    ]
    assert runs[2].error and runs[2].risk_level == "UNKNOWN"
    assert {c.result for c in runs[2].checks} == {"unclear"}


def test_load_all_scored_reports_newest_first_and_skips_broken_files(reports_dir):
    old = sim_core.save_scored_report_incremental("old", [_scored()], {})
    new = sim_core.save_scored_report_incremental("new", [_scored(model="opus")], {})
    for path, when in ((old, "2025-01-01T00:00:00+00:00"), (new, "2025-06-01T00:00:00+00:00")):
        document = json.loads(path.read_text())
        path.write_text(json.dumps({**document, "generated": when}))
    (reports_dir / "scored_broken.json").write_text("{not json")
    loaded = sim_core.load_all_scored_reports()
    assert [m["run_id"] for m, _ in loaded] == ["new", "old"]
    models, index = sim_core.merge_scored_runs(loaded)
    assert models == ["opus", "sonnet"]
    assert set(index) == {("ci-1", "apify-competitor-intelligence", m) for m in models}


def test_a_missing_reports_folder_is_no_reports(tmp_path, monkeypatch):
    monkeypatch.setattr("sim_core.REPORTS_DIR", tmp_path / "absent")
    assert sim_core.load_all_scored_reports() == []
    assert sim_core.load_latest_scored_report() is None


# --- Taxonomy and loaders on the real corpus ----------------------------------------------


@pytest.fixture
def corpus(corpus_dir, monkeypatch) -> Path:
    monkeypatch.setattr("sim_core.CATALOG_DIR", corpus_dir)
    return corpus_dir


def test_taxonomy_groups(corpus):
    sizes = {
        "WF": len(sim_core.WF_CATEGORIES),
        "DK": len(sim_core.DK_CATEGORIES),
        "BP": len(sim_core.BP_CATEGORIES),
        "APF": len(sim_core.APF_CATEGORIES),
        "SEC": len(sim_core.SEC_CATEGORIES),
    }
    # skillcheck adds SEC-5 (the original had SEC-1 and SEC-4 only): 30 model checks, not 29.
    assert sizes == {"WF": 6, "DK": 8, "BP": 8, "APF": 13, "SEC": 3}
    assert len(sim_core.ALL_CATEGORIES) == 38
    assert len(sim_core.LLM_CHECK_IDS) == 30
    assert not any(c.startswith("BP-") for c in sim_core.LLM_CHECK_IDS)
    for group, info in sim_core.CATEGORY_GROUPS.items():
        assert info["name"] and info["default_models"]
        for check_id, check in info["categories"].items():
            assert check_id.startswith(f"{group}-")
            assert check["severity"] in sim_core.SEVERITY_ORDER
            assert check["name"] and check["description"]
    assert sim_core.CATEGORY_GROUPS["BP"]["default_models"] == ["bp-linter"]
    assert len(sim_core.DEV_EXCLUDED_CHECKS) == 10
    assert set(sim_core.DEV_EXCLUDED_CHECKS) <= set(sim_core.LLM_CHECK_IDS)


def test_get_category_type(corpus):
    assert [sim_core.get_category_type(c) for c in ("WF-1", "BP-8", "APF-11", "NOPE-1")] == [
        "WF",
        "BP",
        "APF",
        "UNKNOWN",
    ]


def test_domains_and_dev_domains(corpus):
    domain_map = sim_core.DOMAIN_SKILL_MAP
    assert len(domain_map) == 12
    assert domain_map["ecommerce"] == "apify-ecommerce"
    assert domain_map["competitive-intelligence"] == "apify-competitor-intelligence"
    assert {"actor-development", "actorization"} == sim_core.DEV_DOMAINS
    assert corpus / "scenarios" == sim_core.SCENARIOS_DIR


def test_loaders(corpus):
    manifest = sim_core.load_manifest()
    assert all({"path", "category"} <= set(info) for info in manifest.values())
    scenarios = sim_core.load_scenarios()
    ids = [s.id for s in scenarios]
    assert len(ids) == len(set(ids))
    assert all(s.target_skill in manifest for s in scenarios)
    # The corpus's SEC scenarios all target apify-mcpc, which its manifest no longer has.
    assert {s.category for s in scenarios if not s.domain} == {"WF", "DK", "APF"}
    by_domain = sim_core.load_domain_scenarios()
    assert set(by_domain) == set(sim_core.DOMAIN_SKILL_MAP)
    for domain, items in by_domain.items():
        assert all(s.domain == domain for s in items)
        assert all(s.target_skill == sim_core.DOMAIN_SKILL_MAP[domain] for s in items)
    first = by_domain["ecommerce"][0]
    assert sim_core.read_skill(manifest, first.target_skill).startswith("---")


def test_get_target_skills(corpus):
    manifest = sim_core.load_manifest()

    def scenario(skill: str, domain: str) -> Scenario:
        return Scenario("t", "t", "p", skill, "t.yaml", domain=domain)

    assert sim_core.get_target_skills(
        scenario("apify-competitor-intelligence", "competitive-intelligence"), manifest
    ) == ["apify-competitor-intelligence", "apify-ultimate-scraper"]
    dev = scenario("apify-actor-development", "actor-development")
    assert sim_core.get_target_skills(dev, manifest) == ["apify-actor-development"]
    generalist = scenario("apify-ultimate-scraper", "ultimate-scraper")
    assert sim_core.get_target_skills(generalist, manifest) == ["apify-ultimate-scraper"]
    assert sim_core.get_target_skills(scenario("x", ""), manifest) == ["x"]


def test_get_scenario_models(corpus):
    wf = Scenario("t", "t", "p", "s", "t.yaml", category="WF")
    assert sim_core.get_scenario_models(wf, cli_override=["haiku"]) == ["haiku"]
    assert sim_core.get_scenario_models(Scenario("t", "t", "p", "s", "x", models=["opus"])) == [
        "opus"
    ]
    assert sim_core.get_scenario_models(wf) == sim_core.DEFAULT_MODELS


# --- Scoring ------------------------------------------------------------------------------


def test_parse_scoring_response_reads_the_block():
    raw = (
        "## Analysis\nText.\n\n```json\n"
        '{"checks": {"WF-1": {"result": "pass", "evidence": "Good", "summary": "Steps"},'
        ' "WF-2": {"result": "fail", "evidence": "No loop"}}, "risk_level": "MEDIUM"}\n```\n'
    )
    markdown, checks, risk = sim_core.parse_scoring_response(raw)
    assert markdown == "## Analysis\nText."
    assert list(checks) == sim_core.LLM_CHECK_IDS
    assert (checks["WF-1"].result, checks["WF-1"].evidence) == ("pass", "Good")
    assert checks["WF-2"].result == "fail"
    assert checks["WF-3"].result == "unclear"
    assert risk == "MEDIUM"


@pytest.mark.parametrize(
    "raw", ["Just prose, no block", "## A\n```json\n{not valid json}\n```\n", "```json\n[1]\n```"]
)
def test_parse_scoring_response_falls_back_to_all_unclear(raw):
    markdown, checks, risk = sim_core.parse_scoring_response(raw)
    assert markdown == raw
    assert len(checks) == len(sim_core.LLM_CHECK_IDS)
    assert {c.result for c in checks.values()} == {"unclear"}
    assert all(c.evidence for c in checks.values())  # says why
    assert risk == "UNKNOWN"


# --- Comparison reports -------------------------------------------------------------------


def _comparison() -> tuple[list[Scenario], list[RunResult]]:
    scenarios = [
        Scenario("t-1", "One", "Prompt one", "skill-a", "a.yaml", category="WF"),
        Scenario("t-2", "Two", "Prompt two", "skill-a", "a.yaml"),
    ]
    results = [
        RunResult("t-1", "haiku", "## Approach\nAnswer one", 1.5, "input=100, output=200"),
        RunResult("t-2", "haiku", "", 0, "", error="Connection failed"),
    ]
    return scenarios, results


def test_generate_markdown_report():
    scenarios, results = _comparison()
    text = sim_core.generate_markdown_report(scenarios, results, ["haiku", "opus"])
    assert text.startswith("# Skill Checker Report")
    assert "## [t-1] One" in text and "**Category**: WF" in text
    assert "### haiku (1.5s, input=100, output=200)" in text and "Answer one" in text
    assert "### haiku: ERROR" in text and "Connection failed" in text
    assert "### opus: _not run_" in text


def test_generate_json_report():
    scenarios, results = _comparison()
    report = sim_core.generate_json_report(scenarios, results, ["haiku", "opus"])
    assert report["scenario_count"] == 2 and report["models"] == ["haiku", "opus"]
    first, second = report["results"]
    assert first["category"] == "WF"
    assert first["models"]["haiku"]["response"] == "## Approach\nAnswer one"
    assert first["models"]["opus"] == dict.fromkeys(
        ("response", "duration_s", "cost_info", "error")
    )
    assert second["models"]["haiku"]["error"] == "Connection failed"
    json.dumps(report)
