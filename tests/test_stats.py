"""The statistics of repeated samples, checked against a truth fixed in advance."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillcheck import stats
from skillcheck.vocabulary import Result


def test_majority_verdict_agreement_and_tie():
    cell = stats.sampled_verdict(["pass", "pass", "fail", "pass", "pass"])
    assert (cell.verdict, cell.samples, cell.agreement) == (Result.PASS, 5, 0.8)
    tie = stats.sampled_verdict(["pass", "fail"])
    assert tie.verdict == Result.UNCLEAR and tie.agreement == 0.5
    assert stats.sampled_verdict([]).samples == 0


def _flaky(cells: dict[str, list[str]]) -> set[str]:
    """The flaky cells among ``cells``, all of one check on one model."""
    verdicts = {key: stats.sampled_verdict(samples) for key, samples in cells.items()}
    return {key for key, v in stats.mark_flaky(verdicts, lambda key: "check").items() if v.flaky}


def test_flaky_rule_on_a_check_of_one_cell_is_a_binomial_test_against_a_small_flip_rate():
    assert not _flaky({"a": ["fail"]})
    assert not _flaky({"a": ["pass"] * 5})
    # K <= 5: any dissenting sample is more than a 1 % flip rate explains.
    assert _flaky({"a": ["pass"] * 4 + ["fail"]})
    assert _flaky({"a": ["pass", "pass", "na"]})
    # K = 10: one dissent in ten is within a stable check's reach, two are not.
    assert not _flaky({"a": ["pass"] * 9 + ["fail"]})
    assert _flaky({"a": ["pass"] * 8 + ["fail"] * 2})
    assert not stats.sampled_verdict(["pass"] * 4 + ["fail"]).flaky  # decided over the pool


def test_flaky_rule_pools_a_checks_cells():
    stable = {f"c{i}": ["pass"] * 5 for i in range(40)}
    # A stable check's few dissents (one each in 2 of 40 cells) are what a 1 % flip rate gives.
    few = {**stable, "c0": ["pass"] * 4 + ["fail"], "c1": ["fail"] * 4 + ["pass"]}
    assert not _flaky(few)
    # A coin flip dissents in most cells: the check is flaky, and so is each cell that dissents.
    coin = {f"c{i}": ["pass", "fail", "pass", "fail", "pass"] for i in range(10)}
    coin["c10"] = ["fail"] * 5
    assert _flaky(coin) == {f"c{i}" for i in range(10)}
    # A check flaky on one borderline cell only: that cell's own dissent is too much for a
    # stable check even among 41 cells (Bonferroni); the rest stay unmarked.
    assert _flaky({**stable, "odd": ["pass", "fail", "pass", "fail", "pass"]}) == {"odd"}
    pools = stats.pool_dissent(
        {k: stats.sampled_verdict(v) for k, v in few.items()}, lambda key: "check"
    )
    assert pools["check"] == stats.Dissent(2, 200, 40) and not stats.flaky_checks(pools)


def test_flaky_checks_are_corrected_across_the_checks_tested():
    # 4 dissents in 100 samples: p = 0.018 for one check alone, not among 30 (Holm).
    alone = {"a": stats.Dissent(4, 100, 20)}
    assert stats.flaky_checks(alone) == {"a": pytest.approx(alone["a"].p)}
    many = {**alone, **{f"s{i}": stats.Dissent(1, 100, 20) for i in range(29)}}
    assert stats.flaky_checks(many) == {}
    coin = {**many, "coin": stats.Dissent(30, 100, 20)}
    assert list(stats.flaky_checks(coin)) == ["coin"]


def test_flaky_flag_finds_coin_flips_and_spares_stable_checks():
    rng = random.Random(17)
    truth: dict[tuple[int, int], bool] = {}
    verdicts: dict[tuple[int, int], stats.SampledVerdict] = {}
    for check in range(40):
        coin = check % 5 == 0  # 8 coin-flip checks of 40
        for cell in range(50):
            p_pass = 0.5 if coin else (0.99 if rng.random() < 0.5 else 0.01)
            samples = ["pass" if rng.random() < p_pass else "fail" for _ in range(5)]
            truth[(check, cell)] = coin
            verdicts[(check, cell)] = stats.sampled_verdict(samples)
    marked = stats.mark_flaky(verdicts, lambda key: key[0])
    flagged = {key for key, v in marked.items() if v.flaky}
    coins = {key for key, coin in truth.items() if coin}
    precision, recall = len(flagged & coins) / len(flagged), len(flagged & coins) / len(coins)
    assert recall >= 0.9
    assert precision >= 0.95
    # Per cell alone, a stable check's single dissents (4.9 % of its cells) would be flagged.
    per_cell = {k for k, v in verdicts.items() if stats.flaky_p(v.dissent, v.samples) < 0.05}
    assert len(per_cell - coins) > 3 * len(flagged - coins)


def _clustered_sample(rng: random.Random, rate: float, clusters: int, checks: int):
    """Clusters whose own pass rates scatter around ``rate`` (correlated checks)."""
    rows = []
    for _ in range(clusters):
        own = min(1.0, max(0.0, rng.gauss(rate, 0.15)))
        rows.append((sum(rng.random() < own for _ in range(checks)), checks))
    return rows


def test_cluster_interval_covers_the_true_rate_at_about_its_nominal_rate():
    rng = random.Random(5)
    rate, covered, naive_covered, trials = 0.7, 0, 0, 400
    for _ in range(trials):
        rows = _clustered_sample(rng, rate, clusters=12, checks=30)
        ci = stats.pass_interval(rows)
        assert ci is not None and ci.low <= ci.share <= ci.high
        covered += ci.low <= rate <= ci.high
        # Wilson on every check as if independent is far too narrow.
        from statsmodels.stats.proportion import proportion_confint

        lo, hi = proportion_confint(sum(p for p, _ in rows), 360, method="wilson")
        naive_covered += lo <= rate <= hi
    assert 0.88 <= covered / trials <= 0.99
    assert naive_covered / trials < covered / trials


def test_interval_edges():
    assert stats.pass_interval([(0, 0)]) is None
    one = stats.pass_interval([(30, 30)])
    assert one is not None and one.effective_n == 1 and one.low < 0.5
    every = stats.pass_interval([(30, 30)] * 10)
    assert every is not None and every.high == pytest.approx(1.0) and every.low > 0.95


def test_paired_difference_finds_a_real_change_and_not_noise():
    rng = random.Random(11)
    false_alarms = 0
    for _ in range(200):
        pairs = {}
        for s in range(10):
            own = rng.uniform(0.3, 0.9)
            a = sum(rng.random() < own for _ in range(50))
            b = sum(rng.random() < own for _ in range(50))
            pairs[f"s{s}"] = ((a, 50), (b, 50))
        result = stats.paired_difference(pairs)
        assert result is not None and result.p is not None
        false_alarms += result.p < 0.05
    assert false_alarms <= 20  # about 5 % of 200
    worse = {
        f"s{s}": (
            (sum(rng.random() < 0.8 for _ in range(50)), 50),
            (
                sum(rng.random() < 0.6 for _ in range(50)),
                50,
            ),
        )
        for s in range(10)
    }
    found = stats.paired_difference(worse)
    assert found is not None and found.p is not None and found.p < 0.001
    assert found.high is not None and found.high < 0


def test_paired_difference_without_spread():
    same = stats.paired_difference({"a": ((3, 5), (3, 5)), "b": ((5, 5), (5, 5))})
    assert same is not None and same.p == 1.0
    # Two scenarios that lost exactly one check each: no spread, so no test (it once read
    # "significant, p=0.000" with an interval of [3.3, 3.3]).
    alike = stats.paired_difference({"a": ((5, 5), (4, 5)), "b": ((5, 5), (4, 5))})
    assert alike is not None and alike.p is None and alike.low is None
    assert alike.difference == pytest.approx(-0.2)
    single = stats.paired_difference({"a": ((5, 5), (4, 5))})
    assert single is not None and single.p is None


def test_holm_and_bh_adjust_upwards():
    from statsmodels.stats.multitest import multipletests

    ps = [0.001, 0.01, 0.04, 0.5]
    assert stats.holm(ps) == pytest.approx([0.004, 0.03, 0.08, 0.5])
    rng = random.Random(8)
    for size in (1, 2, 7, 40):
        ps = [rng.random() ** 3 for _ in range(size)]
        expected = multipletests(ps, alpha=0.05, method="holm")[1]
        assert stats.holm(ps) == pytest.approx(list(expected), abs=1e-12)
    qs = stats.benjamini_hochberg(ps)
    assert all(q >= p for p, q in zip(ps, qs, strict=True))
    assert stats.holm([]) == [] and stats.benjamini_hochberg([]) == []


def test_fisher_with_bh_ignores_noise_over_hundreds_of_checks():
    rng = random.Random(3)
    ps = []
    for _ in range(400):
        rate = rng.choice([0.5, 0.99, 0.01, 0.9])
        a = sum(rng.random() < rate for _ in range(5))
        b = sum(rng.random() < rate for _ in range(5))
        ps.append(stats.fisher_p(a, 5, b, 5))
    assert sum(p < 0.05 for p in ps) >= 1  # uncorrected, noise finds "changes"
    assert sum(q < stats.FDR_Q for q in stats.benjamini_hochberg(ps)) == 0
    assert stats.fisher_p(5, 5, 0, 5) == pytest.approx(2 / 252)


def test_fleiss_kappa_across_models():
    perfect = stats.fleiss_agreement([["pass", "pass"], ["fail", "fail"], ["pass", "pass"]])
    assert perfect.kappa == pytest.approx(1.0) and perfect.raw == 1.0
    constant = stats.fleiss_agreement([["pass", "pass"]] * 4)
    assert constant.kappa is None and constant.raw == 1.0
    rng = random.Random(2)
    noise = stats.fleiss_agreement(
        [[rng.choice(["pass", "fail"]) for _ in range(3)] for _ in range(300)]
    )
    assert noise.kappa is not None and abs(noise.kappa) < 0.1
    assert stats.fleiss_agreement([["pass"]]).kappa is None


def test_closed_forms_match_the_libraries():
    """The pages compute the binomial test and the Wilson interval without importing scipy or
    statsmodels (seconds of import): the same numbers as the libraries."""
    from scipy.stats import binomtest
    from statsmodels.stats.proportion import proportion_confint

    for trials in (2, 3, 5, 10):
        for successes in range(1, trials + 1):
            for rate in (0.01, 0.1, 0.5):
                expected = binomtest(successes, trials, rate, alternative="greater").pvalue
                assert stats.binomial_tail(successes, trials, rate) == pytest.approx(expected)
    for trials, rate in ((200, 0.01), (5000, 0.01), (40000, 0.01), (300, 0.5)):
        for successes in (0, 1, int(trials * rate) - 3, int(trials * rate) + 9, trials // 3):
            expected = binomtest(max(successes, 0), trials, rate, alternative="greater").pvalue
            got = stats.binomial_tail(successes, trials, rate)
            assert got == pytest.approx(expected, rel=1e-6, abs=1e-300)
    for count, nobs in [(0, 1), (1, 1), (3.5, 7.2), (40, 50), (0, 30), (29.9, 30), (1, 400)]:
        low, high = proportion_confint(count, nobs, alpha=0.05, method="wilson")
        assert stats.wilson_interval(count, nobs) == pytest.approx((low, high), abs=1e-12)


def _sampled_tasks(rng: random.Random, rates: list[list[float]], k: int) -> list[list]:
    """Per task, ``k`` samples' (passed, scored): each check passes with its own rate."""
    return [
        [(sum(rng.random() < r for r in checks), len(checks)) for _ in range(k)] for checks in rates
    ]


def test_stratified_share_is_statsmodels_cluster_robust_ols_on_task_dummies():
    """Samples as clusters within tasks as strata: the variance of the pass share is
    statsmodels' cluster-robust variance of the task means (no small-sample correction),
    weighted by the tasks' checks, times K / (K - 1)."""
    import numpy as np
    import statsmodels.api as sm

    rng = random.Random(4)
    tasks = _sampled_tasks(rng, [[rng.random() for _ in range(12)] for _ in range(4)], k=5)
    found = stats.stratified_share(tasks)
    assert found is not None
    y, x, groups = [], [], []
    for t, samples in enumerate(tasks):
        for s, (passed, scored) in enumerate(samples):
            for i in range(scored):
                y.append(float(i < passed))
                x.append([float(t == j) for j in range(len(tasks))])
                groups.append(t * 10 + s)
    fit = sm.OLS(np.array(y), np.array(x)).fit(
        cov_type="cluster", cov_kwds={"groups": np.array(groups), "use_correction": False}
    )
    weights = np.array([sum(n for _, n in samples) for samples in tasks]) / found.scored
    assert found.share == pytest.approx(float(weights @ fit.params))
    assert found.variance == pytest.approx(float(weights @ fit.cov_params() @ weights) * 5 / 4)
    assert found.df == 4 * 4
    assert stats.stratified_share([[(3, 5)], [(2, 5), (1, 5)]]) is None  # one sample of a task


def test_sampled_interval_covers_the_pass_rate_on_these_tasks():
    """With K samples, the truth is the pass rate on the tasks run: mostly stable checks and
    a few coin flips, as the noisy stub has. Tasks as clusters would be far too wide here."""
    rng = random.Random(9)
    covered = tasks_covered = 0
    trials = 300
    for _ in range(trials):
        rates = [
            [0.5 if c < 3 else (0.99 if rng.random() < 0.75 else 0.01) for c in range(30)]
            for _ in range(4)
        ]
        truth = sum(map(sum, rates)) / 120
        tasks = _sampled_tasks(rng, rates, k=5)
        ci = stats.sampled_pass_interval(tasks)
        assert ci is not None and ci.low <= ci.share <= ci.high
        covered += ci.low <= truth <= ci.high
        wide = stats.pass_interval([(sum(p for p, _ in s), sum(n for _, n in s)) for s in tasks])
        assert wide is not None
        tasks_covered += wide.low <= truth <= wide.high
    assert 0.9 <= covered / trials <= 0.99
    assert tasks_covered == trials
    # One sample of a task: the tasks are the clusters.
    one = stats.sampled_pass_interval([[(20, 30)], [(10, 30), (12, 30)]])
    assert one == stats.pass_interval([(20, 30), (22, 60)])
    assert stats.sampled_pass_interval([[(0, 0)]]) is None


samples = st.lists(
    st.integers(0, 30).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    min_size=1,
    max_size=6,
)


@given(st.lists(samples, max_size=8), st.lists(samples, max_size=8))
def test_stratified_sums_give_the_interval_of_their_tasks_and_add_up(first, second):
    """The sums a database row keeps give ``stratified_share``'s interval, whether counted
    at once, merged from two halves, or with a task counted in and taken out again."""
    tasks = first + second
    whole = stats.StratifiedSums.of(tasks)
    halves = stats.StratifiedSums.of(first)
    halves.merge(stats.StratifiedSums.of(second))
    churned = stats.StratifiedSums.of(tasks)
    for task in second:
        churned.add(task, -1)
    churned.merge(stats.StratifiedSums.of(second))
    assert halves == whole == churned
    found = whole.interval()
    strata = [[(p, n) for p, n in task if n] for task in tasks]
    strata = [s for s in strata if s]
    estimate = stats.stratified_share(strata)
    if not strata:
        assert found is None
    elif estimate is None:  # a task of one sample: the tasks are the clusters
        totals = [(sum(p for p, _ in s), sum(n for _, n in s)) for s in strata]
        assert found == stats.pass_interval(totals)
    else:
        assert found is not None and found.share == pytest.approx(estimate.share)
        assert found.clusters == sum(map(len, strata)) and found.scored == estimate.scored
        if estimate.share in (0.0, 1.0):
            assert found.effective_n == estimate.scored
        elif estimate.variance > 1e-12:
            expected = max(1.0, estimate.share * (1 - estimate.share) / estimate.variance)
            assert found.effective_n == pytest.approx(expected, rel=1e-9)
        else:  # no spread, or float rounding's: exact in the sums
            assert found.effective_n >= estimate.scored


def test_stratified_difference_finds_a_real_change_and_not_noise():
    rng = random.Random(12)
    false_alarms = found = 0
    for _ in range(200):
        rates = [
            [0.5 if c < 3 else (0.99 if rng.random() < 0.75 else 0.01) for c in range(30)]
            for _ in range(4)
        ]
        # 30 % of the stable passes become fails on the worse side.
        worse = [[0.01 if r == 0.99 and rng.random() < 0.3 else r for r in t] for t in rates]
        base, same, bad = (_sampled_tasks(rng, r, k=5) for r in (rates, rates, worse))
        unchanged = stats.stratified_difference(
            {f"s{i}": (a, b) for i, (a, b) in enumerate(zip(base, same, strict=True))}
        )
        assert unchanged is not None and unchanged.p is not None
        false_alarms += unchanged.p < 0.05
        changed = stats.stratified_difference(
            {f"s{i}": (a, b) for i, (a, b) in enumerate(zip(base, bad, strict=True))}
        )
        assert changed is not None and changed.p is not None and changed.high is not None
        found += changed.p < 0.05 and changed.high < 0
    assert false_alarms <= 20  # about 5 % of 200
    assert found == 200
    # Too few samples of a scenario: the caller tests the scenarios as clusters instead.
    assert stats.stratified_difference({"a": ([(3, 5)], [(3, 5), (2, 5)])}) is None
