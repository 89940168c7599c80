"""Statistics of repeated samples: one verdict from K, intervals, and change versus noise.

Framework-free, on scipy and statsmodels (no hand-written tests or corrections). The rules,
written down once here and in the docs:

- **Verdict of K samples**: the most common verdict of the samples that did not error; a tie
  between the most common gives ``unclear``. ``agreement`` is the share of samples that gave
  the verdict.
- **Flaky**: a check's samples disagree more than a stable check's would. A stable check
  flips at most ``FLIP_RATE`` (1 %) of the time. The test pools a check's cells on one model
  (``Dissent``): the check is flaky for that model when a one-sided binomial test rejects the
  flip rate for the dissenting samples of all its cells of several samples together
  (``binomtest(dissent, samples, FLIP_RATE, "greater")``, in closed form, see
  ``binomial_tail``), Holm-adjusted p < ``ALPHA`` across the checks and models tested. Its
  cells that show any dissent are then flaky. A cell of a check that
  is not flaky overall is still flaky when its own dissent passes the same test at ``ALPHA``
  divided by the check's cells (Bonferroni: a check flaky on a few borderline cells only).
  One sample is never flaky. Per cell alone, one dissent of five is already significant, and a
  stable check shows one in 1 − 0.99⁵ = 4.9 % of its cells: the pooled test does not flag them.
- **95 % interval of a pass %**: the checks of one answer are not independent, so the
  interval is Wilson's on the *effective* sample size of a cluster design,
  ``n_eff = p(1 - p) / variance``, at most the number of checks scored. With two samples or
  more of every task, the truth is the pass rate on these tasks: the clusters are the samples,
  stratified by task, and the variance is the within-task spread of the samples
  (``stratified_share``). With one sample, the clusters are the tasks (scenario × skill ×
  model), standing for a sample of tasks (``pass_interval``); one cluster gives
  ``n_eff = 1``.
- **Paired difference per skill (and model)**: the same scenarios on both sides. With two
  samples or more of each on both sides, each side's samples are clusters stratified by
  scenario and the variance is the two sides' added (``stratified_difference``), a t test on
  samples less scenarios, both sides; otherwise a cluster-robust standard error over the
  scenarios, a t test on ``clusters - 1`` degrees of freedom (``paired_difference``). Holm
  across the skills compared.
- **Per check**: a two-sided Fisher exact test on the pass counts of the samples of one
  scenario × skill × model × check on each side, Benjamini–Hochberg at q = 0.05 across every
  check compared.
- **Fleiss' kappa** across models for a check, the models' verdicts per scenario × skill as
  the ratings, beside the raw (mean pairwise) agreement.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TypeVar

from skillcheck.vocabulary import Result

FLIP_RATE = 0.01
ALPHA = 0.05
FDR_Q = 0.05
CONFIDENCE = 0.95
Key = TypeVar("Key", bound=Hashable)  # a cell's key, whatever its caller uses
Pool = TypeVar("Pool", bound=Hashable)  # a flaky pool's key: a check and model

Z_95 = 1.959963984540054  # the standard normal's 97.5 % quantile: a 95 % two-sided interval

# The pages' two rules (the flaky test and the Wilson interval) are computed here in closed
# form: importing scipy.stats costs 7 s and statsmodels 11 s of CPU on a busy machine, which a
# page cannot wait for. tests/test_stats.py holds both to the libraries' own results
# (scipy.stats.binomtest, statsmodels' proportion_confint); the comparison's tests, which run
# from the command line, use the libraries directly.


def binomial_tail(successes: int, trials: int, rate: float) -> float:
    """P(X ≥ ``successes``) for X ~ Binomial(``trials``, ``rate``): binomtest's one-sided
    "greater" p value. Summed in logs from ``successes`` away from the mean until the terms
    vanish, so a check's pool of thousands of samples costs little and cannot overflow."""
    if successes <= 0:
        return 1.0
    if successes > trials:
        return 0.0
    if rate <= 0.0 or rate >= 1.0:
        return 0.0 if rate <= 0.0 else 1.0
    log_rate, log_rest = math.log(rate), math.log1p(-rate)
    log_n = math.lgamma(trials + 1)

    def term(i: int) -> float:
        log_comb = log_n - math.lgamma(i + 1) - math.lgamma(trials - i + 1)
        return math.exp(log_comb + i * log_rate + (trials - i) * log_rest)

    upper = successes > trials * rate
    steps = range(successes, trials + 1) if upper else range(successes - 1, -1, -1)
    total = 0.0
    for i in steps:  # past the mode, each term is smaller than the one before
        value = term(i)
        total += value
        if value < 1e-17 * total:
            break
    return min(1.0, max(0.0, total if upper else 1.0 - total))


def wilson_interval(count: float, nobs: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson's score interval for ``count`` successes of ``nobs`` (both may be fractional,
    as an effective sample size is), as statsmodels' ``proportion_confint(method="wilson")``."""
    share = count / nobs
    denominator = 1 + z * z / nobs
    centre = (share + z * z / (2 * nobs)) / denominator
    margin = z * math.sqrt(share * (1 - share) / nobs + z * z / (4 * nobs * nobs)) / denominator
    return (max(0.0, centre - margin), min(1.0, centre + margin))


@dataclass(frozen=True)
class SampledVerdict:
    """One cell's verdict from its samples. ``flaky`` is decided over the check's cells
    (``mark_flaky``); ``sampled_verdict`` alone leaves it False."""

    verdict: Result
    samples: int
    agreement: float  # share of samples that gave ``verdict`` (0 when there are none)
    flaky: bool = False
    dissent: int = 0  # samples that did not give the most common verdict


def flaky_p(minority: int, samples: int, flip_rate: float = FLIP_RATE) -> float:
    """How likely ``minority`` or more dissenting samples of ``samples`` are for a stable
    check (one that flips ``flip_rate`` of the time): a one-sided binomial test."""
    if samples < 2 or minority <= 0:
        return 1.0
    return binomial_tail(minority, samples, flip_rate)


def sampled_verdict(results: Iterable[str]) -> SampledVerdict:
    """The majority verdict of a cell's samples (errored samples left out by the caller)."""
    counts = Counter(Result.parse(r) for r in results)
    samples = sum(counts.values())
    if not samples:
        return SampledVerdict(Result.UNCLEAR, 0, 0.0, False)
    ranked = counts.most_common()
    top, top_count = ranked[0]
    tie = len(ranked) > 1 and ranked[1][1] == top_count
    verdict = Result.UNCLEAR if tie else top
    return SampledVerdict(verdict, samples, top_count / samples, dissent=samples - top_count)


@dataclass(frozen=True)
class Dissent:
    """One check on one model, pooled over its cells of several samples: how many samples
    dissented from their cell's majority, of how many, in how many cells."""

    dissent: int = 0
    samples: int = 0
    cells: int = 0

    def __add__(self, other: Dissent) -> Dissent:
        return Dissent(
            self.dissent + other.dissent, self.samples + other.samples, self.cells + other.cells
        )

    @property
    def p(self) -> float:
        """The one-sided binomial p of the pooled dissent against a stable check's flip rate
        (before the correction across checks, ``flaky_checks``)."""
        return flaky_p(self.dissent, self.samples)


def cell_dissent(verdict: SampledVerdict) -> Dissent:
    """A cell's share of its check's pool (nothing for a cell of one sample)."""
    if verdict.samples < 2:
        return Dissent()
    return Dissent(verdict.dissent, verdict.samples, 1)


def pool_dissent(
    verdicts: Mapping[Key, SampledVerdict], group: Callable[[Key], Pool]
) -> dict[Pool, Dissent]:
    """Each pool's (check and model's) dissent over its cells of several samples."""
    pools: dict[Pool, Dissent] = {}
    for key, verdict in verdicts.items():
        name = group(key)
        pools[name] = pools.get(name, Dissent()) + cell_dissent(verdict)
    return pools


def flaky_checks(pools: Mapping[Pool, Dissent]) -> dict[Pool, float]:
    """The pools (checks on a model) whose dissent is more than a stable check's, each with
    its p Holm-adjusted across every pool tested (a catalog has dozens of checks per model:
    uncorrected, a stable one or two would pass the test in most runs)."""
    tested = [name for name, pool in pools.items() if pool.cells]
    adjusted = holm([pools[name].p for name in tested])
    return {name: p for name, p in zip(tested, adjusted, strict=True) if p < ALPHA}


def is_flaky(verdict: SampledVerdict, pool: Dissent, pool_flaky: bool) -> bool:
    """A cell is flaky when its samples dissent and its check is flaky on its model
    (``pool_flaky``; ``pool`` includes the cell), or when its own dissent is too much for a
    stable check even among all the check's cells (Bonferroni over them)."""
    if verdict.samples < 2 or verdict.dissent == 0:
        return False
    if pool_flaky:
        return True
    return flaky_p(verdict.dissent, verdict.samples) < ALPHA / max(pool.cells, 1)


def mark_flaky(
    verdicts: Mapping[Key, SampledVerdict],
    group: Callable[[Key], Pool],
    pools: Mapping[Pool, Dissent] | None = None,
) -> dict[Key, SampledVerdict]:
    """``verdicts`` with ``flaky`` decided per check and model: ``group`` names a cell's pool
    (its check and model). ``pools``: pools counted over a wider set of cells than
    ``verdicts`` (a domain's cells judged among the whole catalog's); by default they are
    counted from ``verdicts``."""
    if pools is None:
        pools = pool_dissent(verdicts, group)
    flaky = flaky_checks(pools)
    marked = {}
    for key, verdict in verdicts.items():
        name = group(key)
        pool = pools.get(name, Dissent())
        marked[key] = replace(verdict, flaky=is_flaky(verdict, pool, name in flaky))
    return marked


# --- Intervals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PassInterval:
    """A pass share (0–1) with its 95 % interval; ``effective_n`` is the Wilson sample size."""

    share: float
    low: float
    high: float
    effective_n: float
    clusters: int
    scored: int

    def percent(self) -> tuple[float, float, float]:
        return (100 * self.share, 100 * self.low, 100 * self.high)


@dataclass
class ClusterSums:
    """What ``pass_interval`` needs of its clusters, as sums that add up: the count of
    clusters that scored anything, Σpassed, Σscored, Σpassed², Σpassed·scored, Σscored².

    Sums can be kept in a database row and merged across rows (skills, models, domains)
    without keeping each cluster; the interval is the same as from the clusters themselves.
    """

    clusters: int = 0
    passed: int = 0
    scored: int = 0
    pp: int = 0
    pn: int = 0
    nn: int = 0

    @classmethod
    def of(cls, clusters: Iterable[tuple[int, int]]) -> ClusterSums:
        sums = cls()
        for passed, scored in clusters:
            sums.add(passed, scored)
        return sums

    def add(self, passed: int, scored: int, sign: int = 1) -> None:
        """Count one cluster in (``sign`` −1: take it out)."""
        if scored <= 0:
            return
        self.clusters += sign
        self.passed += sign * passed
        self.scored += sign * scored
        self.pp += sign * passed * passed
        self.pn += sign * passed * scored
        self.nn += sign * scored * scored

    def merge(self, other: ClusterSums) -> None:
        self.clusters += other.clusters
        self.passed += other.passed
        self.scored += other.scored
        self.pp += other.pp
        self.pn += other.pn
        self.nn += other.nn

    def interval(self) -> PassInterval | None:
        """``pass_interval`` of the clusters summed here; None when nothing was scored."""
        if self.scored <= 0:
            return None
        share = self.passed / self.scored
        k = self.clusters
        if k < 2:
            n_eff = 1.0
        else:
            mean_n = self.scored / k
            # Σ(p − share·n)², times scored², in integers: exact, so a spread of nothing
            # reads as nothing, as it does from the clusters.
            spread = (
                self.pp * self.scored**2
                - 2 * self.passed * self.scored * self.pn
                + self.passed**2 * self.nn
            )
            variance = spread / (self.scored**2 * k * (k - 1) * mean_n**2)
            n_eff = (
                float(self.scored)
                if variance <= 0
                else min(self.scored, share * (1 - share) / variance)
            )
            n_eff = max(n_eff, 1.0)
        low, high = wilson_interval(share * n_eff, n_eff)
        return PassInterval(share, low, high, n_eff, k, self.scored)


def pass_interval(clusters: Iterable[tuple[int, int]]) -> PassInterval | None:
    """The 95 % interval of a pass share from its clusters' (passed, scored) counts.

    Wilson on the effective sample size: the cluster-robust variance of the ratio estimator
    turned into how many independent checks it is worth. None when nothing was scored.
    """
    return ClusterSums.of(clusters).interval()


Sample = tuple[int, int]  # one sample (or task): (passed, scored)


@dataclass(frozen=True)
class StratifiedShare:
    """A pass share from repeated samples, tasks as strata and their samples as clusters:
    the truth it estimates is the pass rate on these very tasks, so only the spread between a
    task's own samples counts."""

    share: float
    variance: float
    scored: int
    df: int  # residual degrees of freedom: samples less tasks


def stratified_share(tasks: Iterable[Sequence[Sample]]) -> StratifiedShare | None:
    """The ratio estimator's linearized variance with samples as clusters stratified by task:
    ``Σ_t K_t/(K_t − 1) Σ_s (e_ts − ē_t)² / N²`` with ``e_ts = passed_ts − share·scored_ts``.
    Every task needs two samples or more; None otherwise, or when nothing was scored.
    (tests/test_stats.py holds it to statsmodels' cluster-robust OLS on task dummies.)"""
    strata = [[(p, n) for p, n in samples] for samples in tasks]
    scored = sum(n for samples in strata for _, n in samples)
    if not scored or any(len(samples) < 2 for samples in strata):
        return None
    share = sum(p for samples in strata for p, _ in samples) / scored
    total, df = 0.0, 0
    for samples in strata:
        k = len(samples)
        residuals = [p - share * n for p, n in samples]
        mean = sum(residuals) / k
        total += k / (k - 1) * sum((e - mean) ** 2 for e in residuals)
        df += k - 1
    return StratifiedShare(share, total / scored**2, scored, df)


def sampled_pass_interval(tasks: Iterable[Sequence[Sample]]) -> PassInterval | None:
    """The 95 % interval of a pass share from each task's samples, (passed, scored) each.

    With two samples or more of every task the truth is the pass rate on these tasks, so the
    samples are clusters stratified by task (``stratified_share``) and Wilson runs on the
    effective sample size ``share (1 − share) / variance``.
    With one sample of some task the tasks are the clusters (``pass_interval`` on their
    totals), standing for a sample of tasks: wider, as they must be. None when nothing was
    scored. (``StratifiedSums`` computes it, from sums a database row can keep.)
    """
    return StratifiedSums.of(tasks).interval()


@dataclass
class StratifiedSums:
    """What ``sampled_pass_interval`` needs of its tasks, as integer sums that add up, so a
    database row can keep them per skill and model and the overview can merge rows.

    ``totals``: each task's samples added up, one cluster per task (the design when some
    task has one sample). ``singles``: the tasks with one scored sample. ``strata``: per
    number of scored samples K ≥ 2, ``[tasks, Σ(KΣp² − (Σp)²), Σ(KΣpn − ΣpΣn),
    Σ(KΣn² − (Σn)²)]`` over the tasks with K: the within-task spread of ``stratified_share``
    with the share factored out, exact in integers.
    """

    totals: ClusterSums = field(default_factory=ClusterSums)
    singles: int = 0
    strata: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, tasks: Iterable[Sequence[Sample]]) -> StratifiedSums:
        sums = cls()
        for samples in tasks:
            sums.add(samples)
        return sums

    def add(self, samples: Sequence[Sample], sign: int = 1) -> None:
        """Count one task's samples in (``sign`` −1: take them out)."""
        scored = [(p, n) for p, n in samples if n > 0]
        if not scored:
            return
        self.totals.add(sum(p for p, _ in scored), sum(n for _, n in scored), sign)
        k = len(scored)
        if k == 1:
            self.singles += sign
            return
        sp, sn = sum(p for p, _ in scored), sum(n for _, n in scored)
        move = (
            1,
            k * sum(p * p for p, _ in scored) - sp * sp,
            k * sum(p * n for p, n in scored) - sp * sn,
            k * sum(n * n for _, n in scored) - sn * sn,
        )
        self._stratum_add(k, [sign * m for m in move])

    def merge(self, other: StratifiedSums) -> None:
        self.totals.merge(other.totals)
        self.singles += other.singles
        for k, move in other.strata.items():
            self._stratum_add(int(k), move)

    def _stratum_add(self, k: int, move: Sequence[int]) -> None:
        held = [a + b for a, b in zip(self.strata.get(k, [0, 0, 0, 0]), move, strict=True)]
        if any(held):
            self.strata[k] = held
        else:
            self.strata.pop(k, None)

    def interval(self) -> PassInterval | None:
        """``sampled_pass_interval`` of the tasks summed here; None when nothing was scored."""
        if self.singles or not self.strata:
            return self.totals.interval()
        passed, scored = self.totals.passed, self.totals.scored
        share = passed / scored
        # Σ_K (S²A − 2PS·B + P²C) / (K − 1) is the stratified spread times S²; the variance is
        # that over S⁴. Fractions keep it exact: no spread reads as none.
        spread = sum(
            (
                Fraction(scored * scored * a - 2 * passed * scored * b + passed * passed * c, k - 1)
                for k, (_, a, b, c) in self.strata.items()
            ),
            Fraction(0),
        )
        if spread <= 0 or passed in (0, scored):
            # No spread between any task's samples: nothing to measure the noise by, so as
            # many independent checks as were scored.
            n_eff = float(scored)
        else:
            # Not capped at the checks scored: with the tasks as strata, most checks give the
            # same verdict every time and the share varies less than independent checks would.
            n_eff = max(1.0, share * (1 - share) / float(spread / scored**4))
        low, high = wilson_interval(share * n_eff, n_eff)
        samples = self.singles + sum(k * held[0] for k, held in self.strata.items())
        return PassInterval(share, low, high, n_eff, samples, scored)


# --- Comparing two runs ------------------------------------------------------------------


@dataclass(frozen=True)
class PairedDifference:
    """Run B's pass share minus run A's, over the clusters both have."""

    difference: float
    low: float | None
    high: float | None
    p: float | None
    clusters: int


def paired_difference(
    pairs: Mapping[str, tuple[tuple[int, int], tuple[int, int]]],
) -> PairedDifference | None:
    """The paired difference of pass shares; ``pairs`` maps a cluster (a scenario) to its
    ((passed, scored) in A, (passed, scored) in B). Clusters scored on one side only are left
    out. With fewer than two clusters, or clusters that all moved alike, there is no standard
    error: ``p`` is None, unless the two sides are identical (p = 1)."""
    from scipy.stats import t as student_t

    rows = [(a, b) for a, b in pairs.values() if a[1] > 0 and b[1] > 0]
    if not rows:
        return None
    k = len(rows)
    scored_a = sum(a[1] for a, _ in rows)
    scored_b = sum(b[1] for _, b in rows)
    share_a = sum(a[0] for a, _ in rows) / scored_a
    share_b = sum(b[0] for _, b in rows) / scored_b
    difference = share_b - share_a
    if k < 2:
        p = 1.0 if difference == 0 else None
        return PairedDifference(difference, None, None, p, k)
    mean_a, mean_b = scored_a / k, scored_b / k
    residuals = [
        (b[0] - share_b * b[1]) / mean_b - (a[0] - share_a * a[1]) / mean_a for a, b in rows
    ]
    se = math.sqrt(sum(z * z for z in residuals) / (k * (k - 1)))
    if se == 0:
        # A few scenarios that moved by exactly the same share show no spread, which is not
        # proof of none: the change is untested (p None), not certain (a deterministic
        # auditor's change is judged by its difference alone, in compare).
        p = 1.0 if difference == 0 else None
        return PairedDifference(difference, None, None, p, k)
    df = k - 1
    margin = float(student_t.ppf(1 - (1 - CONFIDENCE) / 2, df)) * se
    p = float(2 * student_t.sf(abs(difference) / se, df))
    return PairedDifference(difference, difference - margin, difference + margin, p, k)


def stratified_difference(
    strata: Mapping[str, tuple[Sequence[Sample], Sequence[Sample]]],
) -> PairedDifference | None:
    """Run B's pass share minus run A's with repeated samples: ``strata`` maps a task (a
    scenario) to its samples' (passed, scored) in A and in B. Each side's samples are
    clusters stratified by task (``stratified_share``), the same tasks on both sides (the
    pairing), so the variance is the two sides' within-task variances added; a t test on
    their residual degrees of freedom (samples less tasks, both sides). Tasks scored on one
    side only are left out. None when a task has fewer than two samples on a side (the caller
    tests the tasks as clusters, ``paired_difference``) or nothing was scored."""
    from scipy.stats import t as student_t

    rows = [([s for s in a if s[1] > 0], [s for s in b if s[1] > 0]) for a, b in strata.values()]
    rows = [(a, b) for a, b in rows if a and b]
    side_a = stratified_share([a for a, _ in rows]) if rows else None
    side_b = stratified_share([b for _, b in rows]) if rows else None
    if side_a is None or side_b is None:
        return None
    difference = side_b.share - side_a.share
    se = math.sqrt(side_a.variance + side_b.variance)
    k = len(rows)
    if se == 0:
        p = 1.0 if difference == 0 else 0.0
        return PairedDifference(difference, difference, difference, p, k)
    df = side_a.df + side_b.df
    margin = float(student_t.ppf(1 - (1 - CONFIDENCE) / 2, df)) * se
    p = float(2 * student_t.sf(abs(difference) / se, df))
    return PairedDifference(difference, difference - margin, difference + margin, p, k)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p values (family-wise error across the skills compared, or the checks
    tested for flakiness), as statsmodels' ``multipletests(method="holm")`` gives them; in
    closed form, as the pages need it (tests/test_stats.py holds it to statsmodels)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def fisher_p(passed_a: int, scored_a: int, passed_b: int, scored_b: int) -> float:
    """Two-sided Fisher exact test of one check's pass counts on two sides."""
    from scipy.stats import fisher_exact

    table = [[passed_a, scored_a - passed_a], [passed_b, scored_b - passed_b]]
    return float(fisher_exact(table, alternative="two-sided").pvalue)


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p values (the q values) across every check compared."""
    if not p_values:
        return []
    from scipy.stats import false_discovery_control

    return [float(q) for q in false_discovery_control(list(p_values), method="bh")]


# --- Agreement between models ------------------------------------------------------------


@dataclass(frozen=True)
class ModelAgreement:
    """How far the models agree on one check: Fleiss' kappa (None when undefined: every
    rating the same, or fewer than two models) and the raw mean pairwise agreement."""

    kappa: float | None
    raw: float | None
    subjects: int


def fleiss_agreement(ratings: Iterable[Sequence[str]]) -> ModelAgreement:
    """``ratings``: per subject (scenario × skill), each model's verdict. Subjects rated by
    fewer models than the most are left out (Fleiss needs the same number of raters)."""
    import numpy as np
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    rows = [list(r) for r in ratings]
    raters = max((len(r) for r in rows), default=0)
    rows = [r for r in rows if len(r) == raters]
    if raters < 2 or not rows:
        return ModelAgreement(None, None, len(rows))
    categories = [str(v) for v in Result]
    coded = np.array([[categories.index(str(Result.parse(v))) for v in r] for r in rows])
    table, _ = aggregate_raters(coded, n_cat=len(categories))
    pairs = raters * (raters - 1)
    raw = float(np.mean((table * (table - 1)).sum(axis=1) / pairs))
    totals = table.sum(axis=0)
    if (totals > 0).sum() < 2:  # one category only: agreement by chance is total
        return ModelAgreement(None, raw, len(rows))
    return ModelAgreement(float(fleiss_kappa(table, method="fleiss")), raw, len(rows))
