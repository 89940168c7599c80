"""The heatmap counts model agreement in SQL; it must give ``model_agreement``'s answer.

``skillcheck.compare.model_agreement`` is the definition (one verdict per model, a group is
a (scenario, skill, check) scored by two or more models, it agrees when the verdicts are
equal, ``unclear`` included). ``selectors.heatmap_agreement`` counts the same in the
database; these tests feed both the same newest successful verdicts, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from heatmap import selectors
from skillcheck.compare import AgreementTally, model_agreement
from tests.heatmap_data import add_task, make_run

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

Row = tuple[str, str, str, str, str]  # scenario, skill, model, check, result


@pytest.fixture
def verdicts() -> dict[str, list[Row]]:
    """Mixed verdicts in two domains; returns the rows that must count, per domain."""
    counted: dict[str, list[Row]] = {"alpha": [], "beta": []}

    def task(run, scenario, skill, model, results, *, domain="alpha", counts=True, **fields):
        fields.update(scenario_id=scenario, skill=skill, model=model, domain=domain)
        add_task(run, results=results, **fields)
        if counts:
            counted[domain].extend((scenario, skill, model, c, r) for c, r in results.items())

    old = make_run(models=["haiku", "sonnet", "opus"])
    new = make_run(models=["haiku", "sonnet", "opus"])
    # Superseded by the newer run: its verdicts must not count.
    task(old, "s1", "writer", "opus", {"WF-1": "fail", "WF-2": "pass"}, counts=False, age_s=60)
    # The sonnet result that counts is the older one: the newer task failed (an API error
    # scores every check unclear, which is no verdict).
    sonnet = {"WF-1": "pass", "WF-2": "unclear", "DK-1": "unclear", "SEC-1": "na"}
    task(old, "s1", "writer", "sonnet", sonnet, age_s=60)
    failed = dict.fromkeys(sonnet, "unclear")
    task(new, "s1", "writer", "sonnet", failed, counts=False, error="API error 529")
    # WF-1 all pass (agree); WF-2 fail vs unclear (disagree); DK-1 all unclear (agree);
    # SEC-1 na vs na (agree); WF-3 only haiku scored it (no group).
    haiku = {"WF-1": "pass", "WF-2": "fail", "DK-1": "unclear", "SEC-1": "na", "WF-3": "fail"}
    task(new, "s1", "writer", "haiku", haiku)
    task(new, "s1", "writer", "opus", {"WF-1": "pass", "WF-2": "fail", "DK-1": "unclear"})
    # A generalist on the same scenario: groups of its own (another skill).
    task(new, "s1", "general", "haiku", {"WF-1": "pass", "WF-2": "pass"})
    task(new, "s1", "general", "sonnet", {"WF-1": "fail", "WF-2": "pass"})
    # A skill run on one model only, and a key that only ever failed: no group.
    task(new, "s2", "loner", "haiku", {"WF-1": "fail", "WF-2": "pass"})
    task(new, "s2", "loner", "sonnet", {"WF-1": "unclear"}, counts=False, error="boom")
    # Another domain: counted across the catalog, not in alpha's.
    task(new, "s3", "writer", "haiku", {"WF-1": "pass", "WF-2": "fail"}, domain="beta")
    task(new, "s3", "writer", "sonnet", {"WF-1": "fail", "WF-2": "fail"}, domain="beta")
    return counted


def test_sql_agreement_equals_model_agreement_on_the_same_verdicts(verdicts):
    everything = verdicts["alpha"] + verdicts["beta"]
    assert selectors.heatmap_agreement() == model_agreement(everything)
    assert selectors.heatmap_agreement(domain="alpha") == model_agreement(verdicts["alpha"])
    assert selectors.heatmap_agreement(domain="beta") == model_agreement(verdicts["beta"])
    assert selectors.heatmap_agreement(domain="gamma") == model_agreement([])


def test_groups_and_agreeing_groups_as_counted_by_hand(verdicts):
    alpha = selectors.heatmap_agreement(domain="alpha")
    # writer on s1: WF-1, DK-1, SEC-1 agree, WF-2 does not (WF-3 has one model).
    assert alpha.by_skill["writer"] == AgreementTally(groups=4, agreeing=3)
    assert alpha.by_skill["general"] == AgreementTally(groups=2, agreeing=1)
    assert "loner" not in alpha.by_skill
    assert "WF-3" not in alpha.by_check
    assert alpha.by_check["WF-2"] == AgreementTally(groups=2, agreeing=1)
    everything = selectors.heatmap_agreement()
    assert everything.by_skill["writer"] == AgreementTally(groups=6, agreeing=4)
    assert everything.overall == AgreementTally(groups=8, agreeing=5)
    assert [c for c, _ in everything.lowest_checks(2)] == ["WF-1", "WF-2"]


def test_a_newer_result_changes_the_count_at_once(verdicts):
    before = selectors.heatmap_agreement(domain="beta").by_skill["writer"]
    assert before == AgreementTally(groups=2, agreeing=1)
    run = make_run(models=["sonnet"])
    results = {"WF-1": "pass", "WF-2": "fail"}
    add_task(run, scenario_id="s3", skill="writer", model="sonnet", results=results, domain="beta")
    after = selectors.heatmap_agreement(domain="beta").by_skill["writer"]
    assert after == AgreementTally(groups=2, agreeing=2)


def test_the_overview_page_reads_the_data_version_once(client, catalog, verdicts):
    """The least-agreed checks reuse the version the table read (a cached page is a few
    small queries; this one counts every task)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/heatmap/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/heatmap/").status_code == 200
    versions = [
        q["sql"] for q in queries.captured_queries if 'MAX("heatmap_taskresult"."id")' in q["sql"]
    ]
    assert len(versions) == 1, versions
