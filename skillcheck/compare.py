"""Compare two runs check by check, and measure how much models agree with each other.

A flip is a check whose result differs between the base run and the new run for the same
(scenario, skill, model). A regression is a pass that became fail or unclear; an improvement
is a fail or unclear that became pass; anything else (to or from n/a, fail <-> unclear) is
listed as another change. Only tasks in both runs are compared, and only when both ended
without an error (a failed call scores every check unclear, which is no verdict); the rest
are listed as added, removed or errored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skillcheck.vocabulary import LOST, Result, Severity

TaskKey = tuple[str, str, str]


@dataclass(frozen=True)
class TaskChecks:
    """One task's verdicts (one sample of its cell), the minimum a comparison needs."""

    key: TaskKey
    checks: Mapping[str, str]  # check id -> pass | fail | unclear | na
    error: bool = False
    epoch: int = 1


def cell_verdicts(samples: Iterable[TaskChecks]) -> dict[str, str] | None:
    """A cell's verdict per check from its samples that did not error (``stats``' majority
    rule); None when every sample errored."""
    from skillcheck.stats import sampled_verdict

    ok = [s for s in samples if not s.error]
    if not ok:
        return None
    if len(ok) == 1:
        return dict(ok[0].checks)
    check_ids = dict.fromkeys(c for s in ok for c in s.checks)
    return {
        check_id: str(
            sampled_verdict(s.checks[check_id] for s in ok if check_id in s.checks).verdict
        )
        for check_id in check_ids
    }


def group_samples(tasks: Iterable[TaskChecks]) -> dict[TaskKey, list[TaskChecks]]:
    """A run's samples per cell (scenario, skill, model)."""
    cells: dict[TaskKey, list[TaskChecks]] = defaultdict(list)
    for task in tasks:
        cells[task.key].append(task)
    return dict(cells)


@dataclass(frozen=True)
class Flip:
    scenario_id: str
    skill: str
    model: str
    check_id: str
    before: str
    after: str
    severity: str = ""

    @property
    def kind(self) -> str:
        if self.before == Result.PASS and self.after in LOST:
            return "regression"
        if self.after == Result.PASS and self.before in LOST:
            return "improvement"
        return "change"

    def to_dict(self) -> dict[str, str]:
        return {
            "scenario_id": self.scenario_id,
            "skill": self.skill,
            "model": self.model,
            "check_id": self.check_id,
            "before": self.before,
            "after": self.after,
            "severity": self.severity,
            "kind": self.kind,
        }


@dataclass
class Comparison:
    base: str
    new: str
    flips: list[Flip] = field(default_factory=list)
    compared: int = 0
    added: list[TaskKey] = field(default_factory=list)
    removed: list[TaskKey] = field(default_factory=list)
    errored: list[TaskKey] = field(default_factory=list)

    @property
    def regressions(self) -> list[Flip]:
        return [f for f in self.flips if f.kind == "regression"]

    @property
    def improvements(self) -> list[Flip]:
        return [f for f in self.flips if f.kind == "improvement"]

    @property
    def changes(self) -> list[Flip]:
        return [f for f in self.flips if f.kind == "change"]

    def to_dict(self) -> dict[str, Any]:
        def keys(items: list[TaskKey]) -> list[dict[str, str]]:
            return [{"scenario_id": s, "skill": k, "model": m} for s, k, m in items]

        return {
            "base": self.base,
            "new": self.new,
            "flips": [f.to_dict() for f in self.flips],
            "regressions": len(self.regressions),
            "improvements": len(self.improvements),
            "changes": len(self.changes),
            "compared_tasks": self.compared,
            "added": keys(self.added),
            "removed": keys(self.removed),
            "errored": keys(self.errored),
        }


def _flip_order(flip: Flip) -> tuple:
    kind = {"regression": 0, "improvement": 1, "change": 2}[flip.kind]
    severity = -Severity.rank_of(flip.severity)  # most severe first, unknown last
    return (kind, severity, flip.skill, flip.model, flip.scenario_id, flip.check_id)


def compare_runs(
    base: Iterable[TaskChecks],
    new: Iterable[TaskChecks],
    *,
    severities: Mapping[str, str] | None = None,
    base_id: str = "",
    new_id: str = "",
) -> Comparison:
    """The flips from ``base`` to ``new``: regressions first (most severe first), then the rest.

    A cell with several samples is compared on its majority verdicts (``cell_verdicts``); a
    cell whose samples all errored on either side is listed as errored. ``severities`` maps
    check ids to their severity (from the taxonomy), for ordering and display; a check
    missing from either side is not a flip.
    """
    severities = severities or {}
    before = group_samples(base)
    after = group_samples(new)
    comparison = Comparison(base=base_id, new=new_id)
    comparison.added = sorted(k for k in after if k not in before)
    comparison.removed = sorted(k for k in before if k not in after)
    for key in sorted(k for k in after if k in before):
        old, current = cell_verdicts(before[key]), cell_verdicts(after[key])
        if old is None or current is None:
            comparison.errored.append(key)
            continue
        comparison.compared += 1
        for check_id, result in current.items():
            previous = old.get(check_id)
            if previous is None or previous == result:
                continue
            comparison.flips.append(
                Flip(*key, check_id, previous, result, severities.get(check_id, ""))
            )
    comparison.flips.sort(key=_flip_order)
    return comparison


# --- Agreement between models ---------------------------------------------------------------


@dataclass
class AgreementTally:
    """How many (scenario, skill, check) groups run on two or more models, and how many agree."""

    groups: int = 0
    agreeing: int = 0

    @property
    def rate(self) -> float | None:
        return self.agreeing / self.groups if self.groups else None

    @property
    def percent(self) -> int | None:
        return None if self.rate is None else round(100 * self.rate)


@dataclass
class Agreement:
    by_skill: dict[str, AgreementTally] = field(default_factory=dict)
    by_check: dict[str, AgreementTally] = field(default_factory=dict)
    overall: AgreementTally = field(default_factory=AgreementTally)

    def lowest_checks(self, n: int = 5, *, min_groups: int = 1) -> list[tuple[str, AgreementTally]]:
        """The checks models agree on least (a badly worded check shows up here)."""
        rows = [(c, t) for c, t in self.by_check.items() if t.groups >= min_groups]
        rows.sort(key=lambda row: (row[1].rate, -row[1].groups, row[0]))
        return rows[:n]


def verdicts_agree(verdicts: Iterable[str]) -> bool:
    """Models agree when they give the same verdict; ``unclear`` is a verdict like the others.

    ``heatmap.selectors.heatmap_agreement`` counts the same in SQL (one distinct result per
    group); tests/test_agreement_sql.py holds the two to the same answer.
    """
    return len(set(verdicts)) <= 1


def model_agreement(rows: Iterable[tuple[str, str, str, str, str]]) -> Agreement:
    """Agreement from (scenario, skill, model, check_id, result) rows, one per model's verdict.

    A group is one (scenario, skill, check) that two or more models scored.
    """
    verdicts: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    for scenario_id, skill, model, check_id, result in rows:
        verdicts[(scenario_id, skill, check_id)][model] = result
    tallies: dict[tuple[str, str], AgreementTally] = defaultdict(AgreementTally)
    for (_, skill, check_id), by_model in verdicts.items():
        if len(by_model) < 2:
            continue
        tally = tallies[(skill, check_id)]
        tally.groups += 1
        tally.agreeing += verdicts_agree(by_model.values())
    return agreement_from_tallies((s, c, t.groups, t.agreeing) for (s, c), t in tallies.items())


def agreement_from_tallies(rows: Iterable[tuple[str, str, int, int]]) -> Agreement:
    """Agreement from (skill, check_id, groups, agreeing) counts, one row per skill and check.

    The database counts these for the heatmap (reading every verdict into Python costs
    too much there); ``model_agreement`` counts them from single verdicts.
    """
    agreement = Agreement()
    for skill, check_id, groups, agreeing in rows:
        for tally in (
            agreement.by_skill.setdefault(skill, AgreementTally()),
            agreement.by_check.setdefault(check_id, AgreementTally()),
            agreement.overall,
        ):
            tally.groups += groups
            tally.agreeing += agreeing
    return agreement
