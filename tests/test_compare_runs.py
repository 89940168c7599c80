"""Comparing two runs: ``manage.py compare_runs``, the page and the API list the same flips."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from heatmap.models import Run
from tests.heatmap_data import add_task, make_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("catalog"), pytest.mark.both_databases]

S, K = "pt-1", "web-price-tracker"


def two_runs(new_results: dict[str, str], *, error: str = "") -> tuple[Run, Run]:
    base = make_run(created_at=timezone.now() - timedelta(hours=1), models=["haiku"])
    new = make_run(models=["haiku"])
    before = {"WF-1": "pass", "SEC-1": "pass", "DK-1": "fail"}
    add_task(base, scenario_id=S, skill=K, model="haiku", results=before)
    task = add_task(new, scenario_id=S, skill=K, model="haiku", results=new_results)
    if error:
        task.error = error
        task.save()
    add_task(base, scenario_id="gone", skill=K, model="haiku", results={"WF-1": "pass"})
    add_task(new, scenario_id="fresh", skill=K, model="haiku", results={"WF-1": "fail"})
    return base, new


def compare(*args: str) -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command("compare_runs", *args, stdout=out)
    except SystemExit as exc:
        return out.getvalue(), exc.code
    return out.getvalue(), 0


REGRESSED = {"WF-1": "fail", "SEC-1": "unclear", "DK-1": "pass"}


def test_json_lists_flips_regressions_first(settings):
    base, new = two_runs(REGRESSED)
    out, code = compare(base.run_id, new.run_id, "--json")
    data = json.loads(out)
    assert code == 0 and data["regressions"] == 2 and data["improvements"] == 1
    assert [(f["check_id"], f["before"], f["after"]) for f in data["flips"]] == [
        ("SEC-1", "pass", "unclear"),  # the most severe regression first
        ("WF-1", "pass", "fail"),
        ("DK-1", "fail", "pass"),
    ]
    assert set(data["flips"][0]) >= {"scenario_id", "skill", "model", "check_id", "severity"}
    assert data["added"] == [{"scenario_id": "fresh", "skill": K, "model": "haiku"}]
    assert data["removed"] == [{"scenario_id": "gone", "skill": K, "model": "haiku"}]


def test_fail_on_regression_exits_1_only_when_a_pass_was_lost():
    base, new = two_runs(REGRESSED)
    out, code = compare(base.run_id, new.run_id, "--fail-on-regression")
    assert code == 1 and "Regressions" in out and "2 regressions, 1 improvements" in out
    improved_base, improved = two_runs({"WF-1": "pass", "SEC-1": "pass", "DK-1": "pass"})
    assert compare(improved_base.run_id, improved.run_id, "--fail-on-regression")[1] == 0


def test_a_failed_task_is_not_compared_and_is_not_a_regression():
    base, new = two_runs({"WF-1": "unclear", "SEC-1": "unclear"}, error="timed out")
    out, code = compare(base.run_id, new.run_id, "--fail-on-regression")
    assert code == 0 and "a task failed in one of the runs: 1" in out


def test_unknown_run_is_an_error():
    with pytest.raises(CommandError, match="no run 'nope'"):
        call_command("compare_runs", "nope", "other", stdout=io.StringIO())


def test_page_and_api_list_the_same_flips(client):
    base, new = two_runs(REGRESSED)
    runs_page = client.get("/runs/").content.decode()
    url = f"/runs/{new.run_id}/compare/{base.run_id}/"
    assert url in runs_page and "compare with previous" in runs_page
    page = client.get(url).content.decode()
    assert page.count('data-flip="regression"') == 2 and page.count('data-flip="improvement"') == 1
    assert page.index("SEC-1") < page.index("DK-1")
    data = client.get("/api/heatmap/compare", {"base": base.run_id, "new": new.run_id}).json()
    assert data["regressions"] == 2 and len(data["flips"]) == 3
    assert client.get("/api/heatmap/compare", {"base": base.run_id}).status_code == 400
    missing = client.get("/api/heatmap/compare", {"base": base.run_id, "new": "zz"})
    assert missing.status_code == 404


def test_compare_with_previous_skips_runs_with_no_task_in_common():
    from heatmap import selectors

    now = timezone.now()
    same = make_run(created_at=now - timedelta(hours=3), models=["haiku"], domains=["wf"])
    make_run(created_at=now - timedelta(hours=2), models=["haiku"], domains=["job-market"])
    make_run(created_at=now - timedelta(hours=1), models=["sonnet"], domains=["wf"])
    new = make_run(models=["haiku"], domains=["wf", "price-tracking"])
    assert selectors.run_previous(run=new) == same
    assert selectors.run_previous(run=new, runs=list(Run.objects.all())) == same
