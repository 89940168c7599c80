from __future__ import annotations

from skillcheck.auditors.base import AuditResponse, Availability
from skillcheck.catalog import load_catalog
from skillcheck.scoring import DEV_NA_SUMMARY, score_task
from tests.test_catalog import write_catalog


class EchoAuditor:
    """Answers every check with one result, and records what it was asked."""

    name = "echo"

    def __init__(self, result: str = "pass"):
        self.result = result
        self.requests = []

    def availability(self) -> Availability:
        return Availability(True, via="offline")

    def audit(self, request):
        self.requests.append(request)
        checks = ", ".join(
            f'"{c.id}": {{"result": "{self.result}"}}' for c in request.taxonomy.model_checks
        )
        text = f'## Verdict\nok\n```json\n{{"risk_level": "LOW", "checks": {{{checks}}}}}\n```'
        return AuditResponse(text=text, input_tokens=10, output_tokens=5, cost_usd=0.25)


def test_dev_domain_checks_are_na_whatever_the_model_says(tmp_path):
    catalog = load_catalog(write_catalog(tmp_path))
    scenario = catalog.domains["dev"].scenarios[0]
    result = score_task(EchoAuditor(), scenario, catalog.skills["dev-skill"], catalog.taxonomy)
    by_id = {c.check_id: c for c in result.checks}
    for check_id in catalog.taxonomy.dev_na:
        assert (by_id[check_id].result, by_id[check_id].summary) == ("na", DEV_NA_SUMMARY)
    assert by_id["WF-1"].result == "pass"
    assert (result.input_tokens, result.output_tokens, result.cost_usd) == (10, 5, 0.25)
    assert result.domain == "dev"


def test_prompt_carries_scenario_and_skill_files(tmp_path):
    catalog = load_catalog(write_catalog(tmp_path))
    (tmp_path / "skills" / "shop-skill" / "references").mkdir()
    (tmp_path / "skills" / "shop-skill" / "references" / "limits.md").write_text("Max 100.")
    auditor = EchoAuditor()
    scenario = catalog.domains["shop"].scenarios[0]
    score_task(auditor, scenario, catalog.skills["shop-skill"], catalog.taxonomy)
    prompt = auditor.requests[0].user_prompt
    assert "Track prices" in prompt
    assert "## File: references/limits.md" in prompt
    assert "Max 100." in prompt


def test_unreadable_reference_fails_the_task_not_the_caller(tmp_path):
    catalog = load_catalog(write_catalog(tmp_path))
    (tmp_path / "skills" / "shop-skill" / "bad.md").write_bytes(b"\xff\xfe bad")
    auditor = EchoAuditor()
    scenario = catalog.domains["shop"].scenarios[0]
    result = score_task(auditor, scenario, catalog.skills["shop-skill"], catalog.taxonomy)
    assert "bad.md: not valid UTF-8" in result.error
    assert {c.result for c in result.checks} == {"unclear"}
    assert auditor.requests == []
