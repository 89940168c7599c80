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

from skillcheck.auditors.registry import SAMPLED_ONCE
from skillcheck.vocabulary import LOST, Result, Severity

TaskKey = tuple[str, str, str]
Sample = tuple[int, int]  # one sample's (passed, scored)


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


@dataclass
class Flip:
    """A check whose (majority) verdict changed. ``significant``: True when the change is
    more than noise (Fisher exact on the samples' pass counts, Benjamini–Hochberg ``q`` below
    0.05; always for a deterministic auditor), False when within noise, None when one side has
    a single sample ("unknown noise")."""

    scenario_id: str
    skill: str
    model: str
    check_id: str
    before: str
    after: str
    severity: str = ""
    significant: bool | None = None
    p: float | None = None
    q: float | None = None

    @property
    def kind(self) -> str:
        if self.before == Result.PASS and self.after in LOST:
            return "regression"
        if self.after == Result.PASS and self.before in LOST:
            return "improvement"
        return "change"

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario_id": self.scenario_id,
            "skill": self.skill,
            "model": self.model,
            "check_id": self.check_id,
            "before": self.before,
            "after": self.after,
            "severity": self.severity,
            "kind": self.kind,
            "significant": self.significant,
            "p": self.p,
            "q": self.q,
        }


@dataclass
class SkillChange:
    """One skill on one model: the paired difference of pass shares (new − base), over the
    scenarios both runs scored. ``p`` is Holm-adjusted across the skills compared;
    ``significant`` as for ``Flip``."""

    skill: str
    model: str
    base_pass: float
    new_pass: float
    difference: float
    low: float | None = None
    high: float | None = None
    p: float | None = None
    significant: bool | None = None
    scenarios: int = 0
    # Each side's pass share with its own 95 % interval (``stats.pass_interval``, the
    # scenarios as clusters): what the compare page shows before and after.
    base_ci: tuple[float, float] | None = None
    new_ci: tuple[float, float] | None = None

    @property
    def kind(self) -> str:
        if self.difference < 0:
            return "regression"
        return "improvement" if self.difference > 0 else "unchanged"

    @property
    def verdict(self) -> str:
        """What a person reads: changed significantly, within noise, or unknown noise."""
        if self.significant is None:
            # No test: one sample a task on a side, or one scenario (no spread to measure).
            return (
                "unknown noise (one scenario)"
                if self.scenarios < 2
                else "unknown noise (one sample)"
            )
        if self.significant:
            return f"significant {self.kind}"
        return "within noise"

    def to_dict(self) -> dict[str, Any]:
        return {
            "skill": self.skill,
            "model": self.model,
            "base_pass_pct": round(100 * self.base_pass, 1),
            "new_pass_pct": round(100 * self.new_pass, 1),
            "difference_pct": round(100 * self.difference, 1),
            "ci_pct": None
            if self.low is None or self.high is None
            else [round(100 * self.low, 1), round(100 * self.high, 1)],
            "base_ci_pct": _percent_pair(self.base_ci),
            "new_ci_pct": _percent_pair(self.new_ci),
            "kind": self.kind,
            "significant": self.significant,
            "p": self.p,
            "scenarios": self.scenarios,
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
    skills: list[SkillChange] = field(default_factory=list)
    base_samples: int = 1
    new_samples: int = 1

    @property
    def knows_noise(self) -> bool:
        """Both runs have two or more samples per cell: changes can be told from noise."""
        return min(self.base_samples, self.new_samples) >= 2

    def failing_regressions(self, *, any_flip: bool = False) -> list[str]:
        """What ``--fail-on-regression`` fails on, named: significant skill regressions and
        significant check regressions; with ``any_flip`` (or with unknown noise) every
        regression flip, as before samples existed."""
        if any_flip:
            return [_flip_name(f) for f in self.regressions]
        named = [
            f"{c.skill} × {c.model}: {100 * c.difference:+.1f} pass % ({c.verdict})"
            for c in self.skills
            if c.kind == "regression" and c.significant
        ]
        named += [_flip_name(f) for f in self.regressions if f.significant is not False]
        return named

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
            "skills": [c.to_dict() for c in self.skills],
            "samples": {"base": self.base_samples, "new": self.new_samples},
            "noise": "known" if self.knows_noise else "unknown",
        }


def _percent_pair(pair: tuple[float, float] | None) -> list[float] | None:
    return None if pair is None else [round(100 * pair[0], 1), round(100 * pair[1], 1)]


def _side_interval(clusters: Iterable[tuple[int, int]]) -> tuple[float, float] | None:
    from skillcheck.stats import pass_interval

    interval = pass_interval(clusters)
    return None if interval is None else (interval.low, interval.high)


def _flip_name(flip: Flip) -> str:
    where = f"{flip.skill} × {flip.model} × {flip.scenario_id}"
    return f"{where}: {flip.check_id} {flip.before} → {flip.after}"


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
    deterministic: Iterable[str] = SAMPLED_ONCE,
) -> Comparison:
    """The flips from ``base`` to ``new``: regressions first (most severe first), then the rest.

    A cell with several samples is compared on its majority verdicts (``cell_verdicts``); a
    cell whose samples all errored on either side is listed as errored. ``severities`` maps
    check ids to their severity (from the taxonomy), for ordering and display; a check
    missing from either side is not a flip.

    With two or more samples per cell on both sides, every flip and every skill (per model)
    is tested against noise (``stats``): Fisher exact per check with Benjamini–Hochberg across
    all the checks compared, a paired difference per skill (the samples as clusters
    stratified by scenario) with Holm across the skills. The
    flips of a ``deterministic`` model (the same answer every time) are real changes.
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
    comparison.base_samples = _samples_per_cell(before)
    comparison.new_samples = _samples_per_cell(after)
    _test_changes(comparison, before, after, set(deterministic))
    comparison.flips.sort(key=_flip_order)
    return comparison


def _plain_difference(pairs: Mapping[str, tuple[tuple[int, int], tuple[int, int]]]) -> Any:
    """New pass share minus base pass share over the scenarios both scored, untested."""
    from skillcheck.stats import PairedDifference

    rows = [(a, b) for a, b in pairs.values() if a[1] > 0 and b[1] > 0]
    if not rows:
        return None
    share_a = sum(a[0] for a, _ in rows) / sum(a[1] for a, _ in rows)
    share_b = sum(b[0] for _, b in rows) / sum(b[1] for _, b in rows)
    return PairedDifference(share_b - share_a, None, None, None, len(rows))


def _samples_per_cell(cells: Mapping[TaskKey, list[TaskChecks]]) -> int:
    """The fewest samples a cell of a run has (1 for a run without repeats)."""
    return min((len(samples) for samples in cells.values()), default=1)


def _pass_counts(samples: Iterable[TaskChecks]) -> dict[str, tuple[int, int]]:
    """Per check, (passed, scored) over the samples that did not error; n/a is not scored."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sample in samples:
        if sample.error:
            continue
        for check_id, result in sample.checks.items():
            if result == Result.NA:
                continue
            counts[check_id][1] += 1
            counts[check_id][0] += result == Result.PASS
    return {check_id: (p, n) for check_id, (p, n) in counts.items()}


def _sample_counts(samples: Iterable[TaskChecks], check_ids: set[str]) -> list[Sample]:
    """Per sample that did not error, (passed, scored) over ``check_ids``; n/a is not scored."""
    counts = []
    for sample in samples:
        if sample.error:
            continue
        results = [sample.checks[c] for c in check_ids if c in sample.checks]
        scored = [r for r in results if r != Result.NA]
        counts.append((sum(r == Result.PASS for r in scored), len(scored)))
    return counts


def _test_changes(
    comparison: Comparison,
    before: Mapping[TaskKey, list[TaskChecks]],
    after: Mapping[TaskKey, list[TaskChecks]],
    deterministic: set[str],
) -> None:
    """Mark each flip and each skill as significant, within noise, or unknown noise."""
    from skillcheck.stats import (
        ALPHA,
        FDR_Q,
        benjamini_hochberg,
        fisher_p,
        holm,
        paired_difference,
        stratified_difference,
    )

    errored = set(comparison.errored)
    keys = sorted(k for k in after if k in before and k not in errored)
    # Per check: every compared (cell, check) gets a p; BH over all of them.
    tested: list[tuple[TaskKey, str]] = []
    p_values: list[float] = []
    # Per skill and model: clusters (scenarios) of (passed, scored) on each side, and each
    # scenario's samples on each side (their (passed, scored) over the checks both scored).
    clusters: dict[tuple[str, str], dict[str, list[tuple[int, int]]]] = defaultdict(dict)
    strata: dict[tuple[str, str], dict[str, tuple[list[Sample], list[Sample]]]] = defaultdict(dict)
    for key in keys:
        old, new = _pass_counts(before[key]), _pass_counts(after[key])
        scenario_id, skill, model = key
        common = old.keys() & new.keys()
        strata[(skill, model)][scenario_id] = (
            _sample_counts(before[key], common),
            _sample_counts(after[key], common),
        )
        totals = [[0, 0], [0, 0]]
        for check_id in common:
            (pa, na), (pb, nb) = old[check_id], new[check_id]
            totals[0][0] += pa
            totals[0][1] += na
            totals[1][0] += pb
            totals[1][1] += nb
            if model not in deterministic and min(len(before[key]), len(after[key])) >= 2:
                tested.append((key, check_id))
                p_values.append(fisher_p(pa, na, pb, nb))
        clusters[(skill, model)][scenario_id] = [tuple(totals[0]), tuple(totals[1])]  # type: ignore[list-item]
    q_values = dict(
        zip(tested, zip(p_values, benjamini_hochberg(p_values), strict=True), strict=True)
    )
    for flip in comparison.flips:
        key = (flip.scenario_id, flip.skill, flip.model)
        if flip.model in deterministic:
            flip.significant = True
        elif (key, flip.check_id) in q_values:
            flip.p, flip.q = q_values[(key, flip.check_id)]
            flip.significant = flip.q < FDR_Q
    changes: list[SkillChange] = []
    for (skill, model), by_scenario in sorted(clusters.items()):
        pairs = {s: (a, b) for s, (a, b) in by_scenario.items()}
        if comparison.knows_noise and model not in deterministic:
            # The scenarios' own samples give the noise; with too few, the scenarios do.
            result = stratified_difference(strata[(skill, model)]) or paired_difference(pairs)
        elif model in deterministic:
            result = paired_difference(pairs)
        else:  # one sample a side: the difference alone (no test, and no scipy to import)
            result = _plain_difference(pairs)
        if result is None:
            continue
        scored_a = sum(a[1] for a, _ in pairs.values())
        scored_b = sum(b[1] for _, b in pairs.values())
        change = SkillChange(
            skill,
            model,
            sum(a[0] for a, _ in pairs.values()) / scored_a if scored_a else 0.0,
            sum(b[0] for _, b in pairs.values()) / scored_b if scored_b else 0.0,
            result.difference,
            result.low,
            result.high,
            result.p,
            scenarios=result.clusters,
            base_ci=_side_interval(a for a, _ in pairs.values()),
            new_ci=_side_interval(b for _, b in pairs.values()),
        )
        if model in deterministic:
            change.significant = change.difference != 0
        elif not comparison.knows_noise or result.p is None:
            change.p = None
        changes.append(change)
    testable = [c for c in changes if c.model not in deterministic and c.p is not None]
    for change, adjusted in zip(testable, holm([c.p or 0.0 for c in testable]), strict=True):
        change.p = adjusted
        change.significant = adjusted < ALPHA
    comparison.skills = changes


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


def verdicts_split(verdicts: Iterable[str]) -> bool:
    """Some models pass what others fail: the disagreement that changes a reading of the
    skill. The matrix marks only these; pass against ``unclear`` or ``na`` is mere noise
    (``verdicts_agree`` still counts it, for the agreement rate)."""
    found = set(verdicts)
    return Result.PASS in found and Result.FAIL in found


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
