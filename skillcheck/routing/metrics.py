"""Routing metrics, counted from saved picks: each case once per model, by its majority pick.

Per skill: TP (its cases routed to it), FP (other cases routed to it), FN (its cases routed
elsewhere, ``none`` included), precision, recall and F1, each with a 95 % Wilson interval
(statsmodels). n per skill is small, so the interval matters more than the point. The F1
interval treats F1 = TP / (TP + (FP + FN) / 2) as a proportion of that many trials: an
approximation, shown so that a skill with 2 cases does not look as sure as one with 40.
Cases whose every call errored have no pick: they are counted apart (``errored``) and left
out of every rate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from skillcheck.catalog import NO_SKILL
from skillcheck.stats import wilson_interval


def majority_pick(picks: Sequence[str | None]) -> str | None:
    """The most frequent answered pick; None when every call errored. A tie goes to the pick
    answered first (so K=2 with two different answers keeps the first)."""
    answered = [p for p in picks if p is not None]
    if not answered:
        return None
    counts = Counter(answered)
    top = max(counts.values())
    return next(p for p in answered if counts[p] == top)


def wilson(successes: float, trials: float) -> list[float] | None:
    """The 95 % Wilson score interval, or None with no trials (in closed form: importing
    statsmodels costs seconds of CPU, paid by a run's first save and every page)."""
    if trials <= 0:
        return None
    low, high = wilson_interval(successes, trials)
    return [round(low, 4), round(high, 4)]


def _ratio(top: float, bottom: float) -> float | None:
    return round(top / bottom, 4) if bottom else None


@dataclass
class SkillScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    # Which other pick won this skill's cases: pick -> case ids ("none" when nothing was).
    stolen_by: dict[str, list[str]] = field(default_factory=dict)

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "ci": {
                "precision": wilson(self.tp, self.tp + self.fp),
                "recall": wilson(self.tp, self.tp + self.fn),
                "f1": wilson(self.tp, self.tp + (self.fp + self.fn) / 2),
            },
            "stolen_by": {pick: ids for pick, ids in sorted(self.stolen_by.items())},
        }


@dataclass(frozen=True)
class PickedCase:
    """One case as one model answered it: what the metrics read from a report row."""

    case_id: str
    expected: str
    pick: str | None
    errored_calls: int = 0


def model_metrics(cases: Iterable[PickedCase], skills: Sequence[str]) -> dict[str, Any]:
    """The ``metrics`` entry of one model: per-skill scores, none accuracy, the confusion
    matrix (expected -> picked -> count), routed-right share and errored counts."""
    scores = {name: SkillScore() for name in skills}
    confusion: dict[str, dict[str, int]] = {}
    none_right = none_total = right = total = errored_cases = errored_calls = 0
    for case in cases:
        errored_calls += case.errored_calls
        if case.pick is None:
            errored_cases += 1
            continue
        total += 1
        right += case.pick == case.expected
        row = confusion.setdefault(case.expected, {})
        row[case.pick] = row.get(case.pick, 0) + 1
        if case.expected == NO_SKILL:
            none_total += 1
            none_right += case.pick == NO_SKILL
        elif case.pick == case.expected:
            scores.setdefault(case.expected, SkillScore()).tp += 1
        else:
            score = scores.setdefault(case.expected, SkillScore())
            score.fn += 1
            score.stolen_by.setdefault(case.pick, []).append(case.case_id)
        if case.pick != NO_SKILL and case.pick != case.expected:
            scores.setdefault(case.pick, SkillScore()).fp += 1
    return {
        "skills": {name: score.to_dict() for name, score in scores.items()},
        "none_accuracy": _ratio(none_right, none_total),
        "none_cases": none_total,
        "routed_right": _ratio(right, total),
        "routed_right_ci": wilson(right, total),
        "cases": total,
        "errored_cases": errored_cases,
        "errored_calls": errored_calls,
        "confusion": confusion,
    }


def mean_f1(metrics: dict[str, Any]) -> float | None:
    """The macro F1 of one model's metrics, over skills that had cases or picks."""
    values = [s["f1"] for s in metrics["skills"].values() if s["f1"] is not None]
    return round(sum(values) / len(values), 4) if values else None
