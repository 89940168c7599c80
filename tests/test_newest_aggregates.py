"""The kept aggregates (``NewestResult``, ``NewestTally``, ``AgreementGroup``,
``AgreementTally``) equal a recount from the tasks.

Whatever mix of saves, re-runs, repeated samples, failed tasks, imports and deletions comes,
in two catalogs, the rows ``services.newest`` keeps in each write's transaction hold what
ranking every task again would give; so do ``newest_rebuild`` (the migration's count) and the
pages that read them. On SQLite and on PostgreSQL (``--postgres``).
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from heatmap import selectors
from heatmap.models import (
    AgreementGroup,
    AgreementTally,
    NewestResult,
    NewestTally,
    Run,
    TaskResult,
    failed_check_ids,
)
from heatmap.services.imports import report_import
from heatmap.services.newest import newest_rebuild
from heatmap.services.reports import task_save
from skillcheck.compare import model_agreement
from skillcheck.results import CheckVerdict, ScoredRun
from skillcheck.stats import StratifiedSums
from tests.heatmap_data import configured_catalog, make_run

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

SCENARIOS = ("s1", "s2")
SKILLS = ("writer", "general")
MODELS = ("haiku", "sonnet", "opus")
CHECKS = ("WF-1", "WF-2", "DK-1")
VERDICTS = ("pass", "fail", "unclear", "na")
NOW = timezone.now()
_files = itertools.count()

verdicts = st.fixed_dictionaries({}, optional={c: st.sampled_from(VERDICTS) for c in CHECKS})
task = st.fixed_dictionaries(
    {
        "scenario": st.sampled_from(SCENARIOS),
        "skill": st.sampled_from(SKILLS),
        "model": st.sampled_from(MODELS),
        "epoch": st.integers(1, 3),
        "checks": verdicts,
        "error": st.sampled_from(["", "", "", "API error 529"]),
        # Few distinct times: ties, broken by the higher id, come up often.
        "age": st.integers(0, 3),
    }
)
step = st.one_of(
    st.tuples(st.just("run"), st.lists(task, min_size=1, max_size=6)),
    st.tuples(st.just("import"), st.lists(task, min_size=1, max_size=4)),
    st.tuples(st.just("retry"), st.integers(0, 10)),  # a run's failed tasks dropped
    st.tuples(st.just("delete run"), st.integers(0, 10)),
    st.tuples(st.just("delete task"), st.integers(0, 100)),
)


def scored(spec: dict) -> ScoredRun:
    checks = [CheckVerdict(c, r) for c, r in spec["checks"].items()]  # type: ignore[arg-type]
    return ScoredRun(
        spec["scenario"],
        spec["skill"],
        spec["model"],
        checks,
        error=spec["error"] or None,
        domain=f"d-{spec['scenario']}",
        epoch=spec["epoch"],
    )


def apply(kind: str, arg, folder: Path) -> None:
    runs = list(Run.objects.order_by("pk"))
    if kind == "run":  # a new run of the configured catalog over some keys (a re-run)
        run = make_run(models=list(MODELS), epochs=3)
        saved = set()
        for spec in arg:
            key = (spec["scenario"], spec["skill"], spec["model"], spec["epoch"])
            if key not in saved:  # one task per key and sample in a run
                saved.add(key)
                task_save(
                    run=run, result=scored(spec), finished_at=NOW - timedelta(hours=spec["age"])
                )
    elif kind == "import":  # a report from elsewhere: the catalog of its folder
        results, keys = [], set()
        for spec in arg:
            key = (spec["scenario"], spec["skill"], spec["epoch"])
            if key in keys:
                continue
            keys.add(key)
            results.append(
                {
                    "scenario_id": spec["scenario"],
                    "skill": spec["skill"],
                    "domain": f"d-{spec['scenario']}",
                    "epoch": spec["epoch"],
                    "error": spec["error"] or None,
                    "checks": {
                        c: {"result": r, "evidence": "e", "summary": "s"}
                        for c, r in spec["checks"].items()
                    },
                }
            )
        path = folder / f"scored_run_imp{next(_files)}.json"
        path.write_text(
            json.dumps(
                {
                    "type": "scored",
                    "timestamp": (NOW - timedelta(hours=arg[0]["age"])).isoformat(),
                    "model": arg[0]["model"],
                    "results": results,
                }
            )
        )
        report_import(path=path)
    elif kind == "retry" and runs:
        runs[arg % len(runs)].tasks.filter(errored=True).delete()
    elif kind == "delete run" and runs:
        runs[arg % len(runs)].delete()
    elif kind == "delete task":
        pks = list(TaskResult.objects.order_by("pk").values_list("pk", flat=True))
        if pks:
            TaskResult.objects.get(pk=pks[arg % len(pks)]).delete()


def majority(results: list[str]) -> str:
    ranked = Counter(results).most_common()
    return "unclear" if len(ranked) > 1 and ranked[0][1] == ranked[1][1] else ranked[0][0]


def s_key(t: TaskResult) -> tuple:
    return (t.catalog_id, t.scenario_id, t.skill, t.model)


def recount() -> tuple[dict, dict, dict, dict]:
    """The newest task per key and the groups' verdict counts, from every task and check."""
    tasks = list(TaskResult.objects.prefetch_related("checks"))
    ranked = sorted(
        tasks,
        key=lambda t: (t.errored, -t.finished_at.timestamp(), -t.pk),
    )
    newest: dict = {}
    for t in ranked:
        newest.setdefault((t.catalog_id, t.scenario_id, t.skill, t.model), t)
    # A key's samples: its newest task's run's that succeeded, or the newest alone if it failed.
    samples = {
        key: [t]
        if t.errored
        else sorted(
            (s for s in tasks if s.run_id == t.run_id and s_key(s) == key and not s.errored),
            key=lambda s: s.pk,
        )
        for key, t in newest.items()
    }
    expected_newest = {
        key: (
            t.pk,
            t.errored,
            t.domain,
            t.pass_count,
            t.fail_count,
            t.unclear_count,
            t.na_count,
            t.failed_checks,
            [s.pk for s in samples[key]],
        )
        for key, t in newest.items()
    }
    groups: dict = {}
    for key, t in newest.items():
        if t.errored:
            continue
        # A key of several samples counts each check's majority (a tie: unclear).
        results: dict = {}
        for sample in samples[key]:
            for check in sample.checks.all():
                results.setdefault(check.check_id, []).append(check.result)
        for check_id, found in results.items():
            verdict = found[0] if len(found) == 1 else majority(found)
            counts = groups.setdefault((*key[:3], check_id), Counter())
            counts[verdict] += 1
    sums: dict = {}
    for (catalog_id, _, skill, model), t in newest.items():
        held = sums.setdefault(
            (catalog_id, t.domain, skill, model), ([0, 0, 0, 0], Counter(), StratifiedSums())
        )
        scored = []
        for sample in samples[(catalog_id, t.scenario_id, skill, model)]:
            numbers = (sample.pass_count, sample.fail_count, sample.unclear_count, sample.na_count)
            for i, n in enumerate(numbers):
                held[0][i] += n
            held[1].update(failed_check_ids(sample.failed_checks))
            scored.append((sample.pass_count, sum(numbers[:3])))
        held[2].add(scored)
    tallies = {
        key: (counts, dict(fails), sums_)
        for key, (counts, fails, sums_) in sums.items()
        if any(counts) or fails or sums_ != StratifiedSums()
    }
    agreement: dict = {}
    domains = {(t.catalog_id, t.scenario_id, t.skill): t.domain for t in newest.values()}
    for (catalog_id, scenario_id, skill, check_id), counts in groups.items():
        if sum(counts.values()) >= 2:
            domain = domains[(catalog_id, scenario_id, skill)]
            held = agreement.setdefault((catalog_id, domain, skill, check_id), [0, 0])
            held[0] += 1
            held[1] += len(counts) == 1
    return (
        expected_newest,
        {k: dict(v) for k, v in groups.items()},
        tallies,
        {k: tuple(v) for k, v in agreement.items()},
    )


def kept() -> tuple[dict, dict, dict, dict]:
    newest = {
        (n.catalog_id, n.scenario_id, n.skill, n.model): (
            n.task_id,
            n.errored,
            n.domain,
            n.pass_count,
            n.fail_count,
            n.unclear_count,
            n.na_count,
            n.failed_checks,
            [int(i) for i in n.samples.split(",") if i],
        )
        for n in NewestResult.objects.all()
    }
    groups = {}
    for g in AgreementGroup.objects.all():
        counts = {
            "pass": g.pass_count,
            "fail": g.fail_count,
            "unclear": g.unclear_count,
            "na": g.na_count,
        }
        counts = {r: n for r, n in counts.items() if n}
        assert g.other_count == 0 and min(counts.values(), default=0) >= 0
        if counts:
            groups[(g.catalog_id, g.scenario_id, g.skill, g.check_id)] = counts
    tallies = {}
    for t in NewestTally.objects.all():
        counts = [t.pass_count, t.fail_count, t.unclear_count, t.na_count]
        sums = t.pass_sums
        if any(counts) or t.fails or sums != StratifiedSums():
            tallies[(t.catalog_id, t.domain, t.skill, t.model)] = (counts, t.fails, sums)
    agreement = {
        (a.catalog_id, a.domain, a.skill, a.check_id): (a.groups, a.agreeing)
        for a in AgreementTally.objects.all()
        if a.groups or a.agreeing
    }
    return newest, groups, tallies, agreement


@settings(max_examples=60)
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_kept_aggregates_equal_a_recount_after_any_mix_of_writes(steps, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    with transaction.atomic():
        configured_catalog()
        for kind, arg in steps:
            apply(kind, arg, folder)
        assert kept() == recount()
        newest_rebuild()  # the migration's count from scratch gives the same rows
        assert kept() == recount()
        transaction.set_rollback(True)


def test_agreement_from_the_groups_equals_model_agreement(settings):
    """The page's agreement (read from the groups) is ``model_agreement`` over the newest
    successful verdicts, after a re-run replaced some of them and a failure hid none."""
    old = make_run(models=list(MODELS))
    new = make_run(models=list(MODELS))
    specs = [
        (old, "s1", "writer", "haiku", {"WF-1": "fail", "WF-2": "pass"}, "", 2),
        (old, "s1", "writer", "sonnet", {"WF-1": "pass", "WF-2": "unclear"}, "", 2),
        (new, "s1", "writer", "sonnet", {"WF-1": "unclear"}, "boom", 0),
        (new, "s1", "writer", "haiku", {"WF-1": "pass", "WF-2": "fail"}, "", 0),
        (new, "s1", "writer", "opus", {"WF-1": "pass", "WF-2": "fail", "DK-1": "na"}, "", 0),
        (new, "s2", "general", "haiku", {"WF-1": "pass"}, "", 0),
        (new, "s2", "general", "opus", {"WF-1": "fail"}, "", 0),
    ]
    for run, s, k, m, checks, error, age in specs:
        spec = {"scenario": s, "skill": k, "model": m, "epoch": 1, "checks": checks, "error": error}
        task_save(run=run, result=scored(spec), finished_at=NOW - timedelta(hours=age))
    newest = {
        (s, k, m): checks
        for _, s, k, m, checks, error, _ in sorted(specs, key=lambda r: -r[6])
        if not error
    }
    rows = [(s, k, m, c, r) for (s, k, m), checks in newest.items() for c, r in checks.items()]
    expected = model_agreement(rows)
    found = selectors.heatmap_agreement(catalog_id=configured_catalog().pk)
    assert found.by_skill == expected.by_skill
    assert found.by_check == expected.by_check
