"""``manage.py run_routing`` end to end: lexical on the real corpus, haiku through the real SDK
against the stub; the report recounts, the gates' exit codes, stale picks after a description
edit, resume and the cache through the database."""

from __future__ import annotations

import io
import json
import os
import signal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from heatmap.models import RoutingCaseResult, RoutingRun
from skillcheck.catalog import NO_SKILL
from skillcheck.routing.report import load_routing_report
from tests.fakes import API_MODELS
from tests.fakes.anthropic_stub import Reply
from tests.routing_helpers import write_routing_catalog, write_skill

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"


@pytest.fixture
def stub_models(settings, anthropic_stub):
    settings.SKILLCHECK_MODELS = dict(API_MODELS)
    settings.ANTHROPIC_API_KEY = "sk-test-key"
    settings.ANTHROPIC_BASE_URL = anthropic_stub.base_url
    settings.SKILLCHECK_MAX_RETRIES = 0
    settings.SKILLCHECK_CLAUDE_BIN = "no-such-claude-binary"
    return anthropic_stub


def routing(*args: str) -> tuple[int, dict | str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("run_routing", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    text = out.getvalue()
    try:
        return code, json.loads(text), err.getvalue()
    except ValueError:
        return code, text, err.getvalue()


def truthful(model: str, prompt: str, choices: list[str]) -> str:
    lowered = prompt.lower()
    pairs = (("price", "price-watch"), ("cost", "price-watch"), ("review", "review-digest"))
    for word, skill in (*pairs, ("job", "job-board")):
        if word in lowered:
            return skill
    return NO_SKILL


def test_lexical_on_the_corpus_writes_a_report_that_recounts(corpus_dir):
    code, saved, _ = routing("--catalog", str(corpus_dir), "--json", "--runs", "3")
    assert code == 0
    assert saved["type"] == "routing" and saved["models"] == ["lexical"] and saved["runs"] == 3
    run = RoutingRun.objects.get(run_id=saved["run_id"])
    on_disk = load_routing_report(run.report_path)
    assert on_disk.recount() == saved["metrics"]
    assert json.loads(Path(run.report_path).read_text())["metrics"] == saved["metrics"]
    rows = RoutingCaseResult.objects.filter(run=run)
    assert rows.count() == len(saved["cases"])
    assert all(len(r.picks) == 3 and r.pick for r in rows)
    lexical = saved["metrics"]["lexical"]
    assert 0 < lexical["routed_right"] < 1
    assert set(lexical["skills"]) == set(saved["skills"])


def test_haiku_against_the_stub_recounts_and_gates(tmp_path, stub_models):
    stub_models.router = truthful
    catalog = write_routing_catalog(
        tmp_path / "catalog",
        routing=[{"id": "r-none", "prompt": "Bake me a cake", "expected": "none"}],
    )
    args = ["--catalog", str(catalog.root), "--models", "haiku", "--json"]
    code, saved, _ = routing(*args, "--fail-under", "0.8")
    assert code == 0
    assert saved["metrics"]["haiku"]["routed_right"] == 1.0
    assert len(stub_models.requests) == 5 * 3
    assert load_routing_report(RoutingRun.objects.get().report_path).recount() == saved["metrics"]

    # The same catalog again: every pick comes from the cache, and nothing regressed.
    stub_models.reset_counters()
    code, again, _ = routing(*args, "--fail-on-regression")
    assert code == 0 and stub_models.requests == []
    assert all(row["cached_from"] == saved["run_id"] for row in again["cases"])
    assert again["comparison"]["regressions"] == []

    # A model that now routes every prompt to job-board: under the F1 floor, and regressed.
    stub_models.router = lambda m, p, c: "job-board"
    code, worse, err = routing(*args, "--no-cache", "--fail-on-regression", saved["run_id"])
    assert code == 1 and "routed wrong now" in err
    assert {r["case_id"] for r in worse["comparison"]["regressions"]} >= {"price-watch-1"}
    code, _, err = routing(*args, "--no-cache", "--fail-under", "0.8")
    assert code == 1 and "mean F1" in err


def test_editing_one_description_makes_every_pick_stale(tmp_path, stub_models):
    stub_models.router = truthful
    catalog = write_routing_catalog(tmp_path / "catalog")
    args = ["--catalog", str(catalog.root), "--models", "haiku", "--json"]
    assert routing(*args)[0] == 0
    stub_models.reset_counters()
    assert routing(*args)[0] == 0 and stub_models.requests == []

    write_skill(catalog.root, "job-board", "Finds open positions. Use when asked for vacancies.")
    stub_models.reset_counters()
    code, fresh, _ = routing(*args)
    assert code == 0
    assert len(stub_models.requests) == 4 * 3  # every case, every sample, asked again
    assert not any(row["cached_from"] for row in fresh["cases"])
    assert (
        fresh["descriptions"]["job-board"]["fingerprint"]
        != (
            RoutingRun.objects.order_by("created_at")
            .first()
            .descriptions["job-board"]["fingerprint"]
        )
    )


def test_resume_finishes_a_stopped_run_and_refuses_a_stale_one(tmp_path, stub_models):
    stub_models.router = truthful
    catalog = write_routing_catalog(tmp_path / "catalog")
    from heatmap.services.routing_start import routing_run_create

    run = routing_run_create(models=["haiku"], runs=3, catalog_path=catalog.root)
    first = run.cases.first()
    first.picks = ["price-watch"] * 3
    first.save()
    RoutingRun.objects.filter(pk=run.pk).update(status="cancelled")  # a stopped run
    code, saved, _ = routing("--resume", run.run_id, "--json")
    assert code == 0 and len(stub_models.requests) == 3 * 3
    assert RoutingRun.objects.get(pk=run.pk).status == "completed"
    assert all(len(row["picks"]) == 3 for row in saved["cases"])

    other = routing_run_create(models=["haiku"], runs=3, catalog_path=catalog.root)
    code, _, err = routing("--resume", other.run_id)
    assert code == 2 and "waiting for a worker" in err  # pending: not stopped, not resumed
    RoutingRun.objects.filter(pk=other.pk).update(status="interrupted")
    write_skill(catalog.root, "price-watch", "Something else.")
    code, _, err = routing("--resume", other.run_id)
    assert code == 2 and "price-watch" in err and "descriptions changed" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--models", "gpt-17"], "unknown router"),
        (["--runs", "0"], "runs (K)"),
        (["--fail-under", "80"], "between 0 and 1"),
        (["--resume", "nope"], "no routing run"),
    ],
)
def test_bad_requests_exit_2(args, message):
    code, _, err = routing(*args)
    assert code == 2 and message in err


def test_routing_a_claude_model_without_an_api_key_says_it_needs_the_api(settings, tmp_path):
    settings.ANTHROPIC_API_KEY = ""
    settings.SKILLCHECK_CLAUDE_BIN = "/bin/true"  # a claude CLI is there: it cannot route
    catalog = write_routing_catalog(tmp_path / "catalog")
    code, _, err = routing("--catalog", str(catalog.root), "--models", "lexical,haiku")
    # Refused before any call, as an audit run refuses an unavailable model: a run whose
    # every call errors would end "completed" with nothing routed, and exit 0.
    assert code == 2 and "haiku: routing needs the Anthropic API" in err
    assert "ANTHROPIC_API_KEY" in err and RoutingRun.objects.count() == 0
    settings.SKILLCHECK_CLAUDE_BIN = "no-such-claude-binary"  # neither: the same fix
    code, _, err = routing("--catalog", str(catalog.root), "--models", "haiku")
    assert code == 2 and "routing needs the Anthropic API" in err


def test_resume_is_refused_when_a_model_can_no_longer_route(tmp_path, stub_models, settings):
    catalog = write_routing_catalog(tmp_path / "catalog")
    from heatmap.services.routing_start import routing_run_create

    run = routing_run_create(models=["haiku"], runs=1, catalog_path=catalog.root)
    RoutingRun.objects.filter(pk=run.pk).update(status="interrupted")
    settings.ANTHROPIC_API_KEY = ""
    code, _, err = routing("--resume", run.run_id)
    assert code == 2 and "routing needs the Anthropic API" in err
    assert RoutingRun.objects.get(pk=run.pk).status == "interrupted"


def test_compare_routing_pairs_two_runs_and_gates(tmp_path, stub_models):
    stub_models.router = truthful
    catalog = write_routing_catalog(tmp_path / "catalog")
    args = ["--catalog", str(catalog.root), "--models", "haiku", "--json", "--no-cache"]
    _, good, _ = routing(*args)
    stub_models.router = lambda m, p, c: "job-board"
    _, bad, _ = routing(*args)
    out = io.StringIO()
    call_command("compare_routing", good["run_id"], bad["run_id"], "--json", stdout=out)
    compared = json.loads(out.getvalue())
    assert {r["case_id"] for r in compared["regressions"]} == {
        "price-watch-1", "price-watch-2", "review-digest-1"
    }  # fmt: skip
    assert {c["skill"] for c in compared["skills"]} == {"job-board", "price-watch", "review-digest"}
    assert all(isinstance(c["significant"], bool) for c in compared["skills"])
    with pytest.raises(SystemExit) as stopped:
        call_command("compare_routing", good["run_id"], bad["run_id"], "--fail-on-regression",
                     stdout=io.StringIO())  # fmt: skip
    assert stopped.value.code == 1
    call_command("compare_routing", bad["run_id"], good["run_id"], "--fail-on-regression",
                 stdout=io.StringIO())  # fmt: skip
    with pytest.raises(CommandError):
        call_command("compare_routing", "nope", good["run_id"], stdout=io.StringIO())


def test_batch_mode_routes_through_message_batches_at_the_batch_rate(
    tmp_path, stub_models, settings
):
    settings.SKILLCHECK_BATCH_POLL_S = 0.05
    settings.SKILLCHECK_BATCH_SIZE = 5
    stub_models.router = truthful
    catalog = write_routing_catalog(tmp_path / "catalog")
    args = ["--catalog", str(catalog.root), "--models", "haiku", "--runs", "2", "--json"]
    code, direct, _ = routing(*args, "--no-cache")
    assert code == 0
    direct_cost = sum(row["cost_usd"] for row in direct["cases"])
    stub_models.reset_counters()

    code, batched, _ = routing(*args, "--no-cache", "--batch")
    assert code == 0 and batched["status"] == "completed"
    # Every forced tool call went in a batch (4 cases x K=2 = 8 requests, 5 a batch), none
    # as a direct Messages call; the stub answered each with a pick from the enum.
    assert stub_models.batch_creates == 2
    assert not [r for r in stub_models.requests if r.path.rstrip("/") == "/v1/messages"]
    assert batched["metrics"]["haiku"]["routed_right"] == 1.0
    assert [row["picks"] for row in batched["cases"]] == [row["picks"] for row in direct["cases"]]
    batch_cost = sum(row["cost_usd"] for row in batched["cases"])
    assert batch_cost == pytest.approx(direct_cost / 2, rel=0.05)
    run = RoutingRun.objects.get(run_id=batched["run_id"])
    assert run.batch and [b["status"] for b in run.batches] == ["collected", "collected"]
    assert run.batches[0]["tasks"][0][1:] == ["haiku", 1]  # (case id, model, sample)

    code, _, err = routing("--catalog", str(catalog.root), "--models", "lexical", "--batch")
    assert code == 2 and "lexical" in err and "batch mode" in err


def recount_by_hand(saved: dict) -> dict[str, dict]:
    """Per model and skill (tp, fp, fn, precision, recall, f1), none accuracy and confusion,
    counted from the report's own case rows with nothing of skillcheck's: what a reader of
    routing_run_{id}.json can do."""
    counted: dict[str, dict] = {}
    for model in saved["models"]:
        rows = [c for c in saved["cases"] if c["model"] == model]
        for row in rows:  # the pick is the majority of the answered picks, first on a tie
            answered = [p for p in row["picks"] if p is not None]
            top = max((answered.count(p) for p in answered), default=0)
            assert row["pick"] == next((p for p in answered if answered.count(p) == top), None)
        picked = [(c["expected"], c["pick"]) for c in rows if c["pick"] is not None]
        skills = {}
        for skill in saved["skills"]:
            tp = sum(e == p == skill for e, p in picked)
            fp = sum(p == skill != e for e, p in picked)
            fn = sum(e == skill != p for e, p in picked)
            skills[skill] = {
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "precision": round(tp / (tp + fp), 4) if tp + fp else None,
                "recall": round(tp / (tp + fn), 4) if tp + fn else None,
                "f1": round(2 * tp / (2 * tp + fp + fn), 4) if tp + fp + fn else None,
            }
        nones = [p for e, p in picked if e == NO_SKILL]
        confusion: dict[str, dict[str, int]] = {}
        for e, p in picked:
            confusion.setdefault(e, {}).setdefault(p, 0)
            confusion[e][p] += 1
        counted[model] = {
            "skills": skills,
            "none_accuracy": round(nones.count(NO_SKILL) / len(nones), 4) if nones else None,
            "routed_right": round(sum(e == p for e, p in picked) / len(picked), 4),
            "confusion": confusion,
        }
    return counted


def reported(saved: dict) -> dict[str, dict]:
    """The same figures as the report states them."""
    keys = ("tp", "fp", "fn", "precision", "recall", "f1")
    return {
        model: {
            "skills": {s: {k: v[k] for k in keys} for s, v in m["skills"].items()},
            "none_accuracy": m["none_accuracy"],
            "routed_right": m["routed_right"],
            "confusion": {
                e: {p: n for p, n in row.items() if n}
                for e, row in m["confusion"].items()
                if any(row.values())
            },
        }
        for model, m in saved["metrics"].items()
    }


def test_the_reports_figures_recount_by_hand_from_its_own_picks(corpus_dir, stub_models, tmp_path):
    """Done when: run_routing on the corpus, with lexical and with haiku against the stub
    (its default router: a pick hashed from the prompt, so right and wrong both occur), writes
    a report whose per-skill precision, recall and F1 a reader recounts from its cases."""
    for models in ("lexical", "haiku"):
        code, _, _ = routing("--catalog", str(corpus_dir), "--models", models, "--no-cache")
        assert code == 0
    for run in RoutingRun.objects.all():
        saved = json.loads(Path(run.report_path).read_text())
        assert recount_by_hand(saved) == reported(saved)
        assert 0 < saved["metrics"][run.models[0]]["routed_right"] < 1

    # A catalog with prompts that expect none, and errored calls left out of every rate.
    stub_models.router = truthful
    catalog = write_routing_catalog(
        tmp_path / "with-none",
        routing=[
            {"id": "r-none", "prompt": "Bake me a cake", "expected": "none"},
            {"id": "r-none-2", "prompt": "Find a job that pays", "expected": "none"},
        ],
    )
    stub_models.script(*[Reply(status=400)] * 3)
    code, saved, _ = routing(
        "--catalog", str(catalog.root), "--models", "haiku", "--json", "--concurrency", "1"
    )
    assert code == 0 and saved["metrics"]["haiku"]["errored_calls"] == 3
    assert recount_by_hand(saved) == reported(saved)
    assert saved["metrics"]["haiku"]["none_accuracy"] == 0.5


def test_the_regression_gate_compares_with_the_last_run_of_the_same_models(tmp_path, stub_models):
    stub_models.router = truthful
    catalog = write_routing_catalog(tmp_path / "catalog")
    base = ["--catalog", str(catalog.root), "--json", "--no-cache"]
    _, haiku, _ = routing(*base, "--models", "haiku")
    routing(*base, "--models", "lexical")  # newer, but of another router
    stub_models.router = lambda m, p, c: "job-board"
    code, worse, err = routing(*base, "--models", "haiku", "--fail-on-regression")
    assert code == 1 and worse["comparison"]["base"] == haiku["run_id"]
    assert len(worse["comparison"]["regressions"]) == 3

    # In text mode the lost cases are listed, as compare_routing lists them.
    code, out, err = routing(*base[:2], "--models", "haiku", "--fail-on-regression")
    assert code == 0 and f"compared with routing run {worse['run_id']}: 0 case(s)" in out
    assert "Lost:" not in out  # the same picks as the run before: nothing lost again
    code, out, _ = routing(*base[:2], "--models", "haiku", "--no-cache",
                           "--fail-on-regression", haiku["run_id"])  # fmt: skip
    assert code == 1 and "Lost: haiku price-watch-1 (expects price-watch)" in out

    # No earlier run of the model at all: nothing to compare, said, and the gate passes.
    code, _, err = routing(*base, "--models", "sonnet", "--fail-on-regression")
    assert code == 0 and "no earlier completed routing run of these models" in err


def test_comparing_runs_with_no_model_in_common_is_refused(tmp_path, stub_models):
    stub_models.router = truthful
    catalog = write_routing_catalog(tmp_path / "catalog")
    base = ["--catalog", str(catalog.root), "--json"]
    _, lexical, _ = routing(*base, "--models", "lexical")
    _, haiku, _ = routing(*base, "--models", "haiku")
    with pytest.raises(CommandError, match="no model in common"):
        call_command("compare_routing", lexical["run_id"], haiku["run_id"], stdout=io.StringIO())
    code, _, err = routing(*base, "--models", "haiku", "--fail-on-regression", lexical["run_id"])
    assert code == 2 and "no model in common" in err


def test_the_estimate_counts_only_what_the_cache_will_not_answer(tmp_path, stub_models):
    stub_models.router = truthful
    catalog = write_routing_catalog(tmp_path / "catalog")
    base = ["--catalog", str(catalog.root), "--estimate", "--json"]
    code, fresh, _ = routing(*base, "--models", "lexical,haiku,sonnet")
    assert code == 0 and RoutingRun.objects.count() == 0 and stub_models.requests == []
    assert fresh["lexical"] == {"calls": 4, "cached_cases": 0, "usd": 0.0, "usd_uncached": 0.0}
    assert fresh["haiku"]["calls"] == 4 * 3 and fresh["haiku"]["usd"] > 0

    routing("--catalog", str(catalog.root), "--models", "haiku")  # haiku's picks now cached
    _, after, _ = routing(*base, "--models", "haiku,sonnet")
    assert after["haiku"]["calls"] == 0 and after["haiku"]["cached_cases"] == 4
    assert after["haiku"]["usd"] == 0 and after["sonnet"] == fresh["sonnet"]
    _, uncached, _ = routing(*base, "--models", "haiku", "--no-cache")
    assert uncached["haiku"] == fresh["haiku"]
    _, batch, _ = routing(*base, "--models", "haiku", "--no-cache", "--batch")
    assert batch["haiku"]["usd"] == pytest.approx(fresh["haiku"]["usd"] / 2, rel=0.01)

    code, text, _ = routing("--catalog", str(catalog.root), "--estimate", "--models", "haiku")
    assert code == 0 and "haiku: 0 call(s), 4 case(s) from the pick cache" in text
    assert "nothing was asked" in text


def test_ctrl_c_keeps_the_calls_in_flight_and_resume_asks_only_the_rest(tmp_path, stub_models):
    """The first Ctrl-C stops new calls and waits for those in flight (paid for: their picks
    are saved); the run is cancelled with exit 130, and its resume asks only the rest."""
    catalog = write_routing_catalog(tmp_path / "catalog")
    fired = []

    def interrupting(model: str, prompt: str, choices: list[str]) -> str:
        if len(stub_models.requests) >= 3 and not fired:
            fired.append(True)
            os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C does
        return truthful(model, prompt, choices)

    stub_models.router = interrupting
    stub_models.latency_s = 0.3  # calls are still in flight when the signal comes
    args = ("--catalog", str(catalog.root), "--models", "haiku", "--runs", "3")
    code, _, err = routing(*args, "--concurrency", "4")
    assert code == 130 and "waiting for tasks in flight" in err and "--resume" in err
    run = RoutingRun.objects.get()
    assert run.status == "cancelled"
    total = run.cases.count() * 3
    asked = len(stub_models.requests)
    assert sum(len(row.picks) for row in run.cases.all()) == asked < total
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored

    stub_models.router, stub_models.latency_s = truthful, 0.0
    code, saved, _ = routing("--resume", run.run_id, "--json")
    assert code == 0 and len(stub_models.requests) == total
    assert all(len(row["picks"]) == 3 for row in saved["cases"])
