"""Repeated samples measured against a known truth: the noisy stub's (tests/fakes/noisy.py).

Run by hand: ``.venv/bin/python benchmarks/bench_epochs.py``. Four figures (goals in issue 17):

1. The flaky flag at K = 5: precision and recall against the coin-flip checks.
2. Coverage of the 95 % pass-% intervals over many skills (goal 0.90-0.99).
3. Two runs at K = 5 of an unchanged catalog, 20 times: how often ``--fail-on-regression``
   would fail (``Comparison.failing_regressions``, the gate compare_runs uses); then with one
   skill degraded: how often it is found, and how often another skill is named.
4. The cost of K = 5 against K = 1 with prompt caching (the engine's estimate of the very
   requests a run sends), for the example catalog.

The verdicts come from the stub's ``NoisyTruth`` called with the real audit prompts of the
example catalog (``PromptBook``), so the truth is the stub's; the samples go straight into the
engine's comparison and statistics (no HTTP, no database: those paths have their own tests).
"""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from skillcheck.catalog import load_catalog  # noqa: E402
from skillcheck.compare import TaskChecks, compare_runs  # noqa: E402
from skillcheck.runs import build_tasks, estimate_costs  # noqa: E402
from skillcheck.scoring import PromptBook  # noqa: E402
from skillcheck.stats import (  # noqa: E402
    ALPHA,
    flaky_checks,
    flaky_p,
    mark_flaky,
    pool_dissent,
    sampled_pass_interval,
    sampled_verdict,
)
from tests.fakes.noisy import NoisyTruth  # noqa: E402

CATALOG = PROJECT_DIR / "catalog"
MODEL = "sonnet"
K = 5
COINS = frozenset({"WF-2", "DK-1", "SEC-3"})


def prompts(catalog):
    tasks = build_tasks(catalog, domains=None, models=[MODEL])
    book = PromptBook(catalog.taxonomy, (t.key for t in tasks))
    return [(t, book.request(t.scenario, t.skill, MODEL)) for t in tasks]


def sample_run(truth: NoisyTruth, requests, k: int = K) -> list[TaskChecks]:
    out = []
    for task, request in requests:
        for epoch in range(1, k + 1):
            verdicts = truth.verdicts(MODEL, request.system_prompt, request.user_prompt)
            out.append(
                TaskChecks((task.scenario.id, task.skill.name, MODEL), verdicts, False, epoch)
            )
    return out


def check_and_model(key: tuple) -> tuple:
    """A cell's flaky pool: its check on its model."""
    return (key[3], key[2])


def flaky_and_coverage(requests, repetitions: int = 20) -> None:
    tally: dict[str, list[int]] = {}
    covered = covered_one = total = 0
    for seed in range(repetitions):
        truth = NoisyTruth(coin_checks=COINS, flip_rate=0.01, seed=seed)
        run = sample_run(truth, requests)
        by_cell: dict[tuple, list[str]] = {}
        for sample in run:
            for check_id, result in sample.checks.items():
                by_cell.setdefault((*sample.key, check_id), []).append(result)
        verdicts = {key: sampled_verdict(results) for key, results in by_cell.items()}
        pools = pool_dissent(verdicts, check_and_model)
        marked = mark_flaky(verdicts, check_and_model, pools)
        flaky_pools = flaky_checks(pools)
        for key, verdict in marked.items():
            coin = key[3] in COINS
            rules = {
                "pooled": verdict.flaky,
                "pooled, every cell": check_and_model(key) in flaky_pools,
                "per cell": flaky_p(verdict.dissent, verdict.samples) < ALPHA,
            }
            for rule, flaky in rules.items():
                counts = tally.setdefault(rule, [0, 0, 0])
                counts[0] += flaky and coin
                counts[1] += flaky and not coin
                counts[2] += coin and not flaky
        # Intervals: per skill, its tasks' samples (stratified by task); the truth is the mean
        # pass probability of its checks on these tasks. K = 1: the first sample of each
        # task, the tasks as clusters.
        skills: dict[str, list[list[tuple[int, int]]]] = {}
        true_rate: dict[str, list[float]] = {}
        for task, request in requests:
            samples = [s for s in run if s.key == (task.scenario.id, task.skill.name, MODEL)]
            per_sample = [
                (sum(r == "pass" for r in s.checks.values()), len(s.checks)) for s in samples
            ]
            skills.setdefault(task.skill.name, []).append(per_sample)
            for check_id in samples[0].checks:
                p = truth.pass_probability(MODEL, request.user_prompt, check_id)
                true_rate.setdefault(task.skill.name, []).append(p)
        for skill, tasks in skills.items():
            rate = sum(true_rate[skill]) / len(true_rate[skill])
            total += 1
            ci = sampled_pass_interval(tasks)
            covered += ci is not None and ci.low <= rate <= ci.high
            one = sampled_pass_interval([samples[:1] for samples in tasks])
            covered_one += one is not None and one.low <= rate <= one.high
    for rule, (tp, fp, fn) in tally.items():
        print(
            f"flaky flag ({rule}) at K={K} ({len(COINS)} coin-flip checks of 30, stable flip "
            f"rate 1 %, {repetitions} runs): precision {tp / (tp + fp):.2f}, "
            f"recall {tp / (tp + fn):.2f}"
        )
    print(
        f"95 % interval coverage of the true pass rate, K={K} (samples stratified by task): "
        f"{covered}/{total} = {covered / total:.2f}; K=1 (tasks as clusters): "
        f"{covered_one}/{total} = {covered_one / total:.2f}"
    )


def false_alarms_and_detection(requests, repetitions: int = 20) -> None:
    alarms = found = wrong = 0
    degraded_skill = requests[0][0].skill.name
    for seed in range(repetitions):
        truth = NoisyTruth(coin_checks=COINS, flip_rate=0.01, seed=100 + seed)
        base, same = sample_run(truth, requests), sample_run(truth, requests)
        alarms += bool(compare_runs(base, same).failing_regressions())
        truth.degraded = {degraded_skill: 0.3}
        worse = compare_runs(base, sample_run(truth, requests))
        named = {c.skill for c in worse.skills if c.kind == "regression" and c.significant}
        found += degraded_skill in named
        wrong += bool(named - {degraded_skill})
    print(f"unchanged catalog, K={K} both sides: --fail-on-regression fails {alarms}/{repetitions}")
    print(
        f"one skill ({degraded_skill}) 30 % of its passes made fails: found {found}/{repetitions}, "
        f"another skill named {wrong}/{repetitions}"
    )


def cost(catalog) -> None:
    ids = {MODEL: "claude-sonnet-4-6"}
    for concurrency in (1, 3):
        one = estimate_costs(
            build_tasks(catalog, domains=None, models=[MODEL]), ids, catalog.taxonomy,
            concurrency=concurrency,
        )[MODEL]  # fmt: skip
        five = estimate_costs(
            build_tasks(catalog, domains=None, models=[MODEL], epochs=K), ids, catalog.taxonomy,
            concurrency=concurrency,
        )[MODEL]  # fmt: skip
        print(
            f"cost, example catalog, sonnet, concurrency {concurrency}: K=1 ${one.usd:.2f}, "
            f"K={K} ${five.usd:.2f} = {five.usd / one.usd:.2f} x K=1 (without caching "
            f"{five.uncached_usd / one.uncached_usd:.2f} x); input share "
            f"{(one.usd - one.output_usd) / one.usd:.0%} at K=1"
        )


def main() -> None:
    catalog = load_catalog(CATALOG)
    requests = prompts(catalog)
    flaky_and_coverage(requests)
    false_alarms_and_detection(requests)
    cost(catalog)


if __name__ == "__main__":
    main()
