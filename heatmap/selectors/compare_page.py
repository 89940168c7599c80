"""The compare page's reads: the per-skill summary that leads, then the changed checks of each
skill with their verdicts and evidence before and after, and what changed in the skill's files.

Everything rests on ``run_comparison`` (the selector the CLI and the API use too); this adds
what only a page shows: evidence, each skill's fingerprints in the two runs, and the filters.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from heatmap.models import CheckResult, Run, TaskResult
from heatmap.selectors.compare import Comparison, Flip, run_comparison
from heatmap.selectors.skill_versions import SkillVersions, skill_snapshot_files, skill_versions
from skillcheck.catalog import Catalog
from skillcheck.compare import SkillChange

# Evidence beyond this many characters is cut on the compare page (the cell detail has it all).
EVIDENCE_LIMIT = 600


@dataclass(frozen=True)
class CompareFilters:
    """The list's filters, from the query string: one skill, one model, regressions only."""

    skill: str = ""
    model: str = ""
    regressions: bool = False

    @classmethod
    def from_query(cls, query) -> CompareFilters:
        return cls(
            skill=query.get("skill", "").strip(),
            model=query.get("model", "").strip(),
            regressions=query.get("regressions", "") in ("1", "on", "true"),
        )

    @property
    def active(self) -> bool:
        return bool(self.skill or self.model or self.regressions)

    def keeps(self, flip: Flip) -> bool:
        return (
            (not self.skill or flip.skill == self.skill)
            and (not self.model or flip.model == self.model)
            and (not self.regressions or flip.kind == "regression")
        )


@dataclass(frozen=True)
class Side:
    """One run's verdict of a flipped check, and the evidence of a sample that gave it."""

    result: str
    evidence: str = ""
    cut: bool = False


@dataclass(frozen=True)
class FlipRow:
    flip: Flip
    before: Side
    after: Side
    domain: str  # for the link to the cell detail; "" when the scenario left the catalog


@dataclass
class SkillFiles:
    """The skill's fingerprint (a hash of all its files) in each run: whether it changed."""

    before: str = ""
    after: str = ""

    @property
    def known(self) -> bool:
        return bool(self.before and self.after)

    @property
    def changed(self) -> bool | None:
        return self.before != self.after if self.known else None


@dataclass
class SkillSummary:
    """One skill: its change per model, its flips counted by kind, its files."""

    skill: str
    changes: list[SkillChange] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)  # flip kind -> count
    by_model: dict[str, Counter] = field(default_factory=dict)  # model -> kind -> count
    files: SkillFiles = field(default_factory=SkillFiles)

    @property
    def flips(self) -> int:
        return sum(self.counts.values())

    @property
    def quiet(self) -> bool:
        """Nothing to read: no flip, no change in pass %, the same files (or unknown)."""
        return (
            not self.flips
            and all(c.difference == 0 for c in self.changes)
            and not self.files.changed
        )

    @property
    def significant(self) -> bool:
        return any(c.significant for c in self.changes)


@dataclass
class SkillFlips:
    """The list's group for one skill: its flips that pass the filters, and what changed in
    its files (None when they did not, or when a run did not record them)."""

    summary: SkillSummary
    rows: list[FlipRow]
    versions: SkillVersions | None = None


@dataclass
class ComparePage:
    base: Run
    new: Run
    comparison: Comparison
    summaries: list[SkillSummary]
    groups: list[SkillFlips]
    filters: CompareFilters
    models: list[str]
    shown: int  # flips in the list after the filters

    @property
    def loud(self) -> list[SkillSummary]:
        """The skills with something to read, led by significant changes, then by flips."""
        return [s for s in self.summaries if not s.quiet]

    @property
    def quiet(self) -> list[SkillSummary]:
        return [s for s in self.summaries if s.quiet]


def _skill_fingerprints(run: Run) -> dict[str, str]:
    """Each skill's fingerprint as the run's results recorded it (the most common one, if a
    resume saw an edit), else as the run's start recorded the catalog."""
    counted: dict[str, Counter] = defaultdict(Counter)
    rows = (
        TaskResult.objects.filter(run=run)
        .exclude(skill_fingerprint="")
        .values_list("skill", "skill_fingerprint")
        .order_by()
    )
    for skill, fingerprint in rows:
        counted[skill][fingerprint] += 1
    found = dict((run.catalog_fingerprints or {}).get("skills", {}))
    found.update({skill: c.most_common(1)[0][0] for skill, c in counted.items()})
    return found


def _evidence(run: Run, flips: list[Flip]) -> dict[tuple[str, str, str, str], list[tuple]]:
    """(scenario, skill, model, check) -> [(result, evidence)] of every sample in ``run``, for
    the flipped checks only. One query."""
    if not flips:
        return {}
    wanted = {(f.scenario_id, f.skill, f.model, f.check_id) for f in flips}
    rows = (
        CheckResult.objects.filter(
            task__run=run,
            task__skill__in={f.skill for f in flips},
            check_id__in={f.check_id for f in flips},
        )
        .values_list(
            "task__scenario_id", "task__skill", "task__model", "check_id", "result", "evidence"
        )
        .order_by("task__epoch", "task__pk")
    )
    found: dict[tuple[str, str, str, str], list[tuple]] = defaultdict(list)
    for scenario_id, skill, model, check_id, result, evidence in rows:
        key = (scenario_id, skill, model, check_id)
        if key in wanted:
            found[key].append((result, evidence))
    return found


def _side(verdict: str, samples: list[tuple]) -> Side:
    """The verdict with the evidence of the first sample that gave it (a majority verdict
    may be no sample's: then the first sample's)."""
    evidence = next((e for r, e in samples if r == verdict), samples[0][1] if samples else "")
    cut = len(evidence) > EVIDENCE_LIMIT
    return Side(verdict, evidence[:EVIDENCE_LIMIT] + ("…" if cut else ""), cut)


def _summaries(comparison: Comparison, base: Run, new: Run) -> list[SkillSummary]:
    by_skill: dict[str, SkillSummary] = {}

    def summary(skill: str) -> SkillSummary:
        return by_skill.setdefault(skill, SkillSummary(skill))

    for change in comparison.skills:
        summary(change.skill).changes.append(change)
    for flip in comparison.flips:
        found = summary(flip.skill)
        found.counts[flip.kind] += 1
        found.by_model.setdefault(flip.model, Counter())[flip.kind] += 1
    before, after = _skill_fingerprints(base), _skill_fingerprints(new)
    for skill, found in by_skill.items():
        found.files = SkillFiles(before.get(skill, ""), after.get(skill, ""))
    return sorted(
        by_skill.values(),
        key=lambda s: (not s.significant, not s.files.changed, -s.counts["regression"], s.skill),
    )


def compare_page(
    *, base: Run, new: Run, catalog: Catalog, filters: CompareFilters | None = None
) -> ComparePage:
    """The compare page of ``new`` against ``base``; ``RunsOfDifferentCatalogs`` as
    ``run_comparison``. Evidence is read for the flips the filters keep only."""
    filters = filters or CompareFilters()
    comparison = run_comparison(base=base, new=new, catalog=catalog)
    summaries = _summaries(comparison, base, new)
    kept = [f for f in comparison.flips if filters.keeps(f)]
    before, after = _evidence(base, kept), _evidence(new, kept)
    domains = {s.id: s.domain for s in catalog.scenarios}
    rows: dict[str, list[FlipRow]] = defaultdict(list)
    for flip in kept:
        key = (flip.scenario_id, flip.skill, flip.model, flip.check_id)
        rows[flip.skill].append(
            FlipRow(
                flip,
                _side(flip.before, before.get(key, [])),
                _side(flip.after, after.get(key, [])),
                domains.get(flip.scenario_id, ""),
            )
        )
    # A skill is in the list for its flips, or for its edited files unless the filters ask
    # for regressions, a model or another skill.
    edited = [
        s
        for s in summaries
        if s.files.changed
        and not (filters.regressions or filters.model)
        and filters.skill in ("", s.skill)
    ]
    listed = {s.skill for s in edited} | set(rows)
    kept_files = skill_snapshot_files(
        fingerprints={
            fp
            for s in summaries
            if s.skill in listed and s.files.changed
            for fp in (s.files.before, s.files.after)
        }
    )
    groups = [
        SkillFlips(
            s,
            rows.get(s.skill, []),
            skill_versions(
                catalog=catalog,
                skill=s.skill,
                before=s.files.before,
                after=s.files.after,
                kept=kept_files,
            )
            if s.files.changed
            else None,
        )
        for s in summaries
        if s.skill in listed
    ]
    models = sorted({c.model for c in comparison.skills} | {f.model for f in comparison.flips})
    return ComparePage(base, new, comparison, summaries, groups, filters, models, len(kept))
