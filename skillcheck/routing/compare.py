"""Two routing runs of one catalog side by side: per-skill F1 changes, and lost routes.

A skill's F1 change is significant when a two-sided Fisher exact test on its counts
(TP against FP + FN, each side) stays under q = 0.05 after Benjamini–Hochberg across every
skill and model compared (``skillcheck.stats``, as the audit comparison does per check).
A *regression* is a case that BASE routed right and the new run routes wrong, for the same
model and prompt: ``--fail-on-regression`` fails on any, as the audit gate fails on any
lost pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skillcheck.routing.report import RoutingReport
from skillcheck.stats import FDR_Q, benjamini_hochberg, fisher_p


@dataclass(frozen=True)
class SkillChange:
    model: str
    skill: str
    f1_base: float | None
    f1_new: float | None
    p: float
    q: float

    @property
    def delta(self) -> float | None:
        if self.f1_base is None or self.f1_new is None:
            return None
        return round(self.f1_new - self.f1_base, 4)

    @property
    def significant(self) -> bool:
        return self.q < FDR_Q

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "skill": self.skill,
            "f1_base": self.f1_base,
            "f1_new": self.f1_new,
            "delta": self.delta,
            "p": round(self.p, 4),
            "q": round(self.q, 4),
            "significant": self.significant,
        }


@dataclass
class RoutingComparison:
    base: str
    new: str
    changes: list[SkillChange] = field(default_factory=list)
    # (model, case id, expected, base pick, new pick) of each case routed right before only
    regressions: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    improvements: list[tuple[str, str, str, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def cases(items: list[tuple[str, str, str, str, str]]) -> list[dict[str, str]]:
            keys = ("model", "case_id", "expected", "base_pick", "new_pick")
            return [dict(zip(keys, item, strict=True)) for item in items]

        return {
            "base": self.base,
            "new": self.new,
            "skills": [c.to_dict() for c in self.changes],
            "regressions": cases(self.regressions),
            "improvements": cases(self.improvements),
        }


class IncomparableRuns(ValueError):
    """Two routing runs of different catalogs, or with no model in common: nothing to pair,
    so a gate on them would pass without having compared anything."""


def compare_routing(base: RoutingReport, new: RoutingReport) -> RoutingComparison:
    if base.catalog != new.catalog:
        raise IncomparableRuns(
            f"runs {base.run_id} and {new.run_id} route different catalogs "
            f"({base.catalog} and {new.catalog})"
        )
    common = [m for m in new.models if m in base.models]
    if not common:
        raise IncomparableRuns(
            f"runs {base.run_id} and {new.run_id} have no model in common "
            f"({', '.join(base.models)} against {', '.join(new.models)}): nothing to compare"
        )
    comparison = RoutingComparison(base.run_id, new.run_id)
    base_metrics, new_metrics = base.recount(), new.recount()
    pending: list[tuple[str, str, dict[str, Any], dict[str, Any], float]] = []
    for model in common:
        for skill in [s for s in new.skills if s in base.skills]:
            a = base_metrics[model]["skills"].get(skill)
            b = new_metrics[model]["skills"].get(skill)
            if a is None or b is None:
                continue
            p = fisher_p(a["tp"], a["tp"] + a["fp"] + a["fn"], b["tp"], b["tp"] + b["fp"] + b["fn"])
            pending.append((model, skill, a, b, p))
    qs = benjamini_hochberg([p for *_, p in pending])
    comparison.changes = [
        SkillChange(model, skill, a["f1"], b["f1"], p, q)
        for (model, skill, a, b, p), q in zip(pending, qs, strict=True)
    ]
    before = {(r.model, r.case_id, r.prompt): r for r in base.cases}
    for row in new.cases:
        old = before.get((row.model, row.case_id, row.prompt))
        if old is None or old.pick is None or row.pick is None:
            continue
        item = (row.model, row.case_id, row.expected, old.pick, row.pick)
        if old.pick == old.expected and row.pick != row.expected:
            comparison.regressions.append(item)
        elif old.pick != old.expected and row.pick == row.expected:
            comparison.improvements.append(item)
    return comparison
