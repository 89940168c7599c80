"""The noisy Messages API stub: compare_runs tells change from noise, flaky marks find coin flips.

The stub's truth (tests/fakes/noisy.py) is fixed here and nowhere else: two coin-flip checks,
every other check stable with a 1 % flip rate; one skill made worse for the "degraded" case.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from heatmap.models import CheckResult
from tests.fakes.noisy import NoisyTruth

pytestmark = [pytest.mark.django_db]

DOMAINS = "price-tracking,general-scraping,job-market"
COINS = frozenset({"WF-2", "DK-1"})
EPOCHS = "5"


@pytest.fixture
def noisy(anthropic_stub, settings, tmp_path, catalog):
    settings.ANTHROPIC_API_KEY = "test-key"
    settings.ANTHROPIC_BASE_URL = anthropic_stub.base_url
    settings.SKILLCHECK_MODELS = {"sonnet": "claude-sonnet-4-6"}
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    settings.SKILLCHECK_MAX_RETRIES = 0
    anthropic_stub.noise = NoisyTruth(coin_checks=COINS, flip_rate=0.01, seed=17)
    return anthropic_stub


def scored_run() -> str:
    out = io.StringIO()
    call_command(
        "run_scored", "--models", "sonnet", "--domains", DOMAINS, "--epochs", EPOCHS,
        "--no-cache", "--concurrency", "8", "--json", stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    data = json.loads(out.getvalue())
    assert data["status"] == "completed" and data["failed"] == 0
    return data["run_id"]


def compare(base: str, new: str, *flags: str) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("compare_runs", base, new, "--json", *flags, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, json.loads(out.getvalue()), err.getvalue()


def test_compare_ignores_noise_and_finds_the_degraded_skill(noisy, client):
    base = scored_run()
    same = scored_run()
    code, data, _ = compare(base, same, "--fail-on-regression")
    # Noise alone flips verdicts (the coin-flip checks' majorities), and none is significant.
    assert data["noise"] == "known" and data["samples"] == {"base": 5, "new": 5}
    assert data["flips"], "the coin-flip checks flip between runs"
    assert all(f["significant"] is False and f["q"] is not None for f in data["flips"])
    assert all(s["significant"] is False for s in data["skills"])
    assert code == 0
    # Without noise-awareness, the same two runs would fail CI.
    any_flip, _, _ = compare(base, same, "--fail-on-regression", "--fail-on-any-flip")
    assert any_flip == 1 and data["regressions"] > 0

    noisy.noise.degraded = {"web-scraper": 0.6}
    worse = scored_run()
    code, data, err = compare(base, worse, "--fail-on-regression")
    assert code == 1 and "web-scraper" in err
    by_skill = {s["skill"]: s for s in data["skills"]}
    assert by_skill["web-scraper"]["significant"] is True
    assert by_skill["web-scraper"]["difference_pct"] < 0
    assert [s for s, c in by_skill.items() if c["significant"]] == ["web-scraper"]
    # The compare page leads with the same per-skill verdicts.
    page = client.get(f"/runs/{worse}/compare/{base}/").content.decode()
    assert page.index("Per skill") < page.index("Regressions")
    assert "significant regression" in page and "within noise" in page


def test_flaky_marks_find_the_coin_flip_checks(noisy, client):
    run_id = scored_run()
    cells = CheckResult.objects.filter(task__run__run_id=run_id).values_list(
        "task__scenario_id", "task__skill", "check_id"
    )
    coins = {key for key in cells if key[2] in COINS}
    flagged: set[tuple[str, str, str]] = set()
    shown = 0
    for domain in DOMAINS.split(","):
        matrix = client.get(f"/api/heatmap/domain/{domain}").json()
        for row in matrix["checks"]:
            for cell in row["cells"]:
                shown += sum(n == 5 for n in cell["samples"].values())
                flagged |= {(cell["scenario_id"], s, row["check_id"]) for s in cell["flaky"]}
    assert shown == len(set(cells))  # every cell of the run, each from its 5 samples
    recall = len(flagged & coins) / len(coins)
    precision = len(flagged & coins) / len(flagged)
    # A coin-flip check's cell shows no dissent in 2 of 32 draws of five: those are not marked.
    assert recall >= 0.9
    # Each cell alone, a stable check (1 % flips) would show a dissent in 4.9 % of its cells and
    # half the marks would be wrong; judged over the check's cells, they are not marked.
    assert precision >= 0.85
