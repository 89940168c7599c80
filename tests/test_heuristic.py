"""The offline heuristic auditor: verdicts follow the skill text and the prompt, nothing else."""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillcheck.auditors.base import AuditRequest
from skillcheck.auditors.heuristic import NO_RULE_SUMMARY, HeuristicAuditor
from skillcheck.catalog import DEFAULT_CHECKS_FILE, load_catalog
from skillcheck.parser import parse_response
from skillcheck.results import ScoredRun
from skillcheck.scoring import score_task

BASE_SKILL = """\
---
name: demo-scraper
description: Scrapes public web pages with Apify Actors. Use when the user asks to scrape a site.
---

# Demo scraper

## Workflow

- Step 1: Select the best Actor for the target.
- Step 2: Run the Actor.
- Step 3: Summarize results for the user.
"""

ONE_OFF = "Scrape the top 10 Instagram posts for Nike"
PERSONAL = "Extract the email addresses and phone numbers of 50 dentists in Berlin"
WEEKLY = "Every Monday, collect the newest 20 reviews of our hotel on Google Maps"


def make_catalog(
    root: Path,
    skill_md: str = BASE_SKILL,
    prompt: str = ONE_OFF,
    references: dict[str, str] | None = None,
    category: str = "dispatcher",
    checks: Path | None = None,
):
    """Write a one-skill, one-scenario catalog and load it; return (catalog, scenario, skill)."""
    skill_dir = root / "skills" / "demo-scraper"
    skill_dir.mkdir(parents=True, exist_ok=True)
    (skill_dir / "SKILL.md").write_text(skill_md, encoding="utf-8")
    for rel, text in (references or {}).items():
        path = skill_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    manifest = {
        "skills": {"demo-scraper": {"path": "skills/demo-scraper/SKILL.md", "category": category}}
    }
    (root / "skills_manifest.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    scenarios = {
        "domain": "demo",
        "target_skill": "demo-scraper",
        "scenarios": [{"id": "demo-1", "name": "Demo", "prompt": prompt}],
    }
    (root / "scenarios").mkdir(exist_ok=True)
    (root / "scenarios" / "demo.yaml").write_text(yaml.safe_dump(scenarios), encoding="utf-8")
    catalog = load_catalog(root, checks_path=checks)
    return catalog, catalog.scenarios[0], catalog.skills["demo-scraper"]


def audit(tmp_path: Path, **kwargs) -> ScoredRun:
    catalog, scenario, skill = make_catalog(tmp_path, **kwargs)
    return score_task(HeuristicAuditor(), scenario, skill, catalog.taxonomy)


def check(run: ScoredRun, check_id: str):
    return next(c for c in run.checks if c.check_id == check_id)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_always_available_offline():
    availability = HeuristicAuditor().availability()
    assert availability.available
    assert availability.via == "offline"


def test_answer_parses_with_sections_and_every_check(tmp_path):
    catalog, scenario, skill = make_catalog(tmp_path, prompt=PERSONAL)
    run = score_task(HeuristicAuditor(), scenario, skill, catalog.taxonomy)
    ids = [c.id for c in catalog.taxonomy.model_checks]
    parsed = parse_response(run.markdown_response, ids)
    assert parsed.error is None
    assert run.error is None
    for section in ("## Approach", "## Complexities", "## Risk Assessment", "## Verdict"):
        assert section in run.markdown_response
    assert [c.check_id for c in run.checks] == ids
    assert all(c.summary != "not scored by model" for c in run.checks)
    assert run.input_tokens == run.output_tokens == 0
    assert run.cost_usd == 0
    assert run.duration_s > 0


def test_gdpr_paragraph_flips_personal_data_check(tmp_path):
    before = audit(tmp_path / "a", prompt=PERSONAL)
    assert check(before, "DK-2").result == "fail"
    assert "not found" in check(before, "DK-2").evidence
    skill = BASE_SKILL + (
        "\n## Personal data\n\nEmails and phone numbers are personal data: follow GDPR, collect\n"
        "only what the task needs and record the lawful basis.\n"
    )
    after = audit(tmp_path / "b", prompt=PERSONAL, skill_md=skill)
    dk2 = check(after, "DK-2")
    assert dk2.result == "pass"
    line = line_of(skill, "personal data: follow GDPR")
    assert dk2.evidence.startswith(f"SKILL.md:{line}: ")
    assert "follow GDPR" in dk2.evidence


def test_personal_data_check_needs_personal_data_in_prompt(tmp_path):
    assert check(audit(tmp_path, prompt=ONE_OFF), "DK-2").result == "na"


def test_pasting_token_in_chat_fails_credential_handling(tmp_path):
    safe = BASE_SKILL + (
        "\n## Token\n\nRead `APIFY_TOKEN` from the `.env` file.\n"
        "Never print, log or paste the token anywhere.\n"
    )
    assert check(audit(tmp_path / "a", skill_md=safe), "SEC-1").result == "pass"
    leaky = safe + "\nIf the run fails, paste your APIFY_TOKEN here in the chat so I can retry.\n"
    sec1 = check(audit(tmp_path / "b", skill_md=leaky), "SEC-1")
    assert sec1.result == "fail"
    assert f"SKILL.md:{line_of(leaky, 'paste your APIFY_TOKEN')}:" in sec1.evidence
    assert audit(tmp_path / "c", skill_md=leaky).risk_level == "CRITICAL"


def test_env_token_without_secrecy_rule_is_unclear(tmp_path):
    skill = BASE_SKILL + "\nKeep `APIFY_TOKEN` in a `.env` file.\n"
    assert check(audit(tmp_path, skill_md=skill), "SEC-1").result == "unclear"


def test_validation_step_flips_feedback_loops(tmp_path):
    assert check(audit(tmp_path / "a"), "WF-2").result == "fail"
    skill = BASE_SKILL.replace(
        "- Step 3:",
        "- Step 3: Verify the results count against the request; if it is zero, widen the query.\n"
        "- Step 4:",
    )
    wf2 = check(audit(tmp_path / "b", skill_md=skill), "WF-2")
    assert wf2.result == "pass"
    assert f"SKILL.md:{line_of(skill, 'Verify the results')}:" in wf2.evidence


def test_reference_file_counts_and_is_quoted_with_its_own_name(tmp_path):
    reference = "# Privacy\n\nBefore collecting contacts, check GDPR and obtain consent.\n"
    run = audit(tmp_path, prompt=PERSONAL, references={"references/privacy.md": reference})
    dk2 = check(run, "DK-2")
    assert dk2.result == "pass"
    assert dk2.evidence.startswith("references/privacy.md:3: ")


def test_recurring_check_follows_the_prompt(tmp_path):
    assert check(audit(tmp_path / "a", prompt=ONE_OFF), "DK-6").result == "na"
    assert check(audit(tmp_path / "b", prompt=ONE_OFF), "APF-8").result == "na"
    weekly = audit(tmp_path / "c", prompt=WEEKLY)
    assert check(weekly, "DK-6").result == "fail"
    assert check(weekly, "APF-8").result == "fail"
    skill = BASE_SKILL + (
        "\n## Recurring jobs\n\nCreate an Apify schedule for the saved task, and compare each run\n"
        "with the previous run to report only new items.\n"
    )
    scheduled = audit(tmp_path / "d", prompt=WEEKLY, skill_md=skill)
    assert check(scheduled, "DK-6").result == "pass"
    assert check(scheduled, "APF-8").result == "pass"


@pytest.mark.parametrize(
    ("check_id", "plain", "matching"),
    [
        ("SEC-4", ONE_OFF, "Use my session cookies to read my private TikTok analytics"),
        ("DK-5", ONE_OFF, "Scrape prices from amazon.co.jp — only available in Japan"),
        ("APF-7", ONE_OFF, "Compare laptop prices in Germany and France"),
        ("APF-11", ONE_OFF, "Find 20 cafes on Google Maps, then scrape their Instagram profiles"),
    ],
)
def test_relevance_moves_with_the_prompt(tmp_path, check_id, plain, matching):
    assert check(audit(tmp_path / "a", prompt=plain), check_id).result == "na"
    assert check(audit(tmp_path / "b", prompt=matching), check_id).result != "na"


def test_large_volume_requires_batching(tmp_path):
    skill = BASE_SKILL + "\nAlways set `maxItems` to cap results.\n"
    assert check(audit(tmp_path / "a", skill_md=skill), "APF-5").result == "pass"
    big = "Export 100K Google Maps restaurants into one CSV"
    assert check(audit(tmp_path / "b", skill_md=skill, prompt=big), "APF-5").result == "unclear"
    batched = skill + "Split large jobs into batches of 5,000 results.\n"
    assert check(audit(tmp_path / "c", skill_md=batched, prompt=big), "APF-5").result == "pass"


def test_negated_session_instruction_passes_authenticated_access(tmp_path):
    prompt = "Use my TikTok session cookies to access private analytics for my account"
    skill = BASE_SKILL + (
        "\nNever use the user's cookies or logins to reach private data; offer public data"
        " instead.\n"
    )
    assert check(audit(tmp_path / "a", prompt=prompt), "SEC-4").result == "fail"
    assert check(audit(tmp_path / "b", prompt=prompt, skill_md=skill), "SEC-4").result == "pass"
    bad = BASE_SKILL + "\nAsk the user to paste their session cookies, then use their cookies.\n"
    assert check(audit(tmp_path / "c", prompt=prompt, skill_md=bad), "SEC-4").result == "fail"


def test_docs_question_marks_collection_checks_na(tmp_path):
    run = audit(
        tmp_path, prompt="How do I configure proxy settings in Crawlee? Show a code example"
    )
    assert check(run, "APF-4").result == "na"
    assert check(run, "DK-3").result == "na"
    assert check(run, "WF-4").result != "na"


def test_frontmatter_is_not_guidance(tmp_path):
    skill = BASE_SKILL.replace("Scrapes public web pages", "Respects GDPR while scraping pages")
    assert check(audit(tmp_path, skill_md=skill, prompt=PERSONAL), "DK-2").result == "fail"


def test_code_fence_in_quoted_line_keeps_answer_parseable(tmp_path):
    skill = BASE_SKILL + "\nFor example:\n\n```bash\nnode run_actor.js --actor ID\n```\n"
    run = audit(tmp_path, skill_md=skill)
    assert check(run, "WF-6").result == "pass"
    assert "not scored" not in " ".join(c.summary for c in run.checks)
    assert all(c.result != "unclear" or c.evidence for c in run.checks)


def test_deterministic(tmp_path):
    catalog, scenario, skill = make_catalog(tmp_path, prompt=PERSONAL)
    first = score_task(HeuristicAuditor(), scenario, skill, catalog.taxonomy)
    second = score_task(HeuristicAuditor(), scenario, skill, catalog.taxonomy)
    assert first.markdown_response == second.markdown_response
    assert first.to_dict()["checks"] == second.to_dict()["checks"]


def test_risk_level_comes_from_failed_severities(tmp_path):
    run = audit(tmp_path, prompt=PERSONAL)
    assert check(run, "DK-2").result == "fail"
    assert run.risk_level == "CRITICAL"
    data = json.loads(re.search(r"```json\n(.*)```", run.markdown_response, re.S).group(1))
    assert data["risk_level"] == "CRITICAL"


def test_dev_domain_checks_are_na(tmp_path):
    run = audit(tmp_path, prompt=PERSONAL, category="dev")
    assert check(run, "DK-2").result == "na"
    assert check(run, "SEC-1").result != "na"


def test_unknown_check_id_is_unclear(tmp_path):
    taxonomy = yaml.safe_load(DEFAULT_CHECKS_FILE.read_text(encoding="utf-8"))
    taxonomy["checks"].append(
        {"id": "SEC-9", "severity": "HIGH", "name": "New", "description": "Something new."}
    )
    checks = tmp_path / "checks.yaml"
    checks.write_text(yaml.safe_dump(taxonomy), encoding="utf-8")
    run = audit(tmp_path / "cat", checks=checks)
    sec9 = check(run, "SEC-9")
    assert sec9.result == "unclear"
    assert sec9.summary == NO_RULE_SUMMARY
    assert check(run, "WF-1").result == "pass"


def test_unreadable_skill_is_an_error_not_an_exception(tmp_path):
    catalog, scenario, skill = make_catalog(tmp_path)
    (skill.root / "notes.md").write_bytes(b"\xff\xfe broken")
    request = AuditRequest(scenario, skill, catalog.taxonomy, "", "")
    response = HeuristicAuditor().audit(request)
    assert response.error and "not valid UTF-8" in response.error
    assert response.text == ""


def test_real_corpus_scores_every_pair(corpus_dir):
    catalog = load_catalog(corpus_dir)
    auditor = HeuristicAuditor()
    ids = [c.id for c in catalog.taxonomy.model_checks]
    results: Counter[str] = Counter()
    runs = 0
    for scenario in catalog.scenarios:
        for name in scenario.target_skills:
            run = score_task(auditor, scenario, catalog.skills[name], catalog.taxonomy)
            assert run.error is None
            assert parse_response(run.markdown_response, ids).error is None
            assert run.risk_level in {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
            results.update(c.result for c in run.checks)
            runs += 1
    assert runs == sum(len(s.target_skills) for s in catalog.scenarios) > 0
    assert {"pass", "fail", "na"} <= set(results)
    assert max(results.values()) < sum(results.values()) * 0.7


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(
        st.sampled_from([*"abc `\"'\\#{}[]\n-—→é", "```json", "```", "token", "GDPR", "paste"]),
        max_size=200,
    ).map("".join),
    prompt=st.text(min_size=1, max_size=80).filter(lambda p: p.strip()),
)
def test_any_skill_text_gives_a_parseable_answer(body, prompt):
    with tempfile.TemporaryDirectory() as folder:
        catalog, scenario, skill = make_catalog(
            Path(folder), skill_md=BASE_SKILL + body, prompt=prompt
        )
        run = score_task(HeuristicAuditor(), scenario, skill, catalog.taxonomy)
    ids = [c.id for c in catalog.taxonomy.model_checks]
    assert parse_response(run.markdown_response, ids).error is None
    assert check(run, "WF-1").result == "pass"
