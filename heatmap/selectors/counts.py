"""Result counts as the heatmap shows them: the count columns, "not run", the pass %."""

from __future__ import annotations

from collections.abc import Mapping

from skillcheck.results import pass_percent
from skillcheck.stats import PassInterval, sampled_pass_interval
from skillcheck.vocabulary import Result

RESULT_ORDER = tuple(Result)  # the overview's count columns
NOT_RUN = "notrun"  # a cell with no result yet (not a verdict)

# Per task (scenario × skill × model), its samples' (passed, scored): one for a run of one
# sample, all K of the newest run otherwise; the interval's strata and clusters.
Clusters = list[list[tuple[int, int]]]


def percent_interval(clusters: Clusters) -> tuple[float, float] | None:
    """The 95 % interval of a pass % (``stats.sampled_pass_interval``: Wilson on the
    effective sample size, the samples as clusters stratified by task, or the tasks as
    clusters with one sample), in percent to one decimal; None when nothing was scored."""
    return interval_percent(sampled_pass_interval(clusters))


def interval_percent(interval: PassInterval | None) -> tuple[float, float] | None:
    """An interval's bounds in percent to one decimal, as the pages show them."""
    if interval is None:
        return None
    return (round(100 * interval.low, 1), round(100 * interval.high, 1))


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(RESULT_ORDER, 0)


def exact_pass_pct(counts: Mapping[str, int]) -> float | None:
    """The pass % of counts to one decimal (the API's, as the original tool gave it)."""
    pct = pass_percent(counts[Result.PASS], counts[Result.FAIL], counts[Result.UNCLEAR])
    return None if pct is None else round(pct, 1)


def whole_pass_pct(counts: Mapping[str, int]) -> int | None:
    """The pass % of a cell's or row's counts, rounded to a whole number; None: none scored."""
    pct = pass_percent(counts[Result.PASS], counts[Result.FAIL], counts[Result.UNCLEAR])
    return None if pct is None else round(pct)
