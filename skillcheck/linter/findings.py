"""What the linter reports: findings with a file, a line and a reason, and each skill's results."""

from __future__ import annotations

from dataclasses import dataclass, field

from skillcheck.catalog.load import load_taxonomy
from skillcheck.catalog.model import Taxonomy
from skillcheck.vocabulary import Result

FM = "FM"
# The only verdicts the linter gives: a check with a finding fails, any other passes.
LINT_RESULTS = (Result.PASS, Result.FAIL)


@dataclass(frozen=True)
class Finding:
    check_id: str
    file: str
    line: int
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {
            "check_id": self.check_id,
            "file": self.file,
            "line": self.line,
            "detail": self.detail,
        }


@dataclass
class SkillLint:
    """The findings for one skill and the pass/fail result of every reported check."""

    skill: str
    findings: list[Finding] = field(default_factory=list)
    check_ids: tuple[str, ...] = field(default_factory=lambda: lint_columns())

    def result(self, check_id: str) -> Result:
        failed = any(f.check_id == check_id for f in self.findings)
        return Result.FAIL if failed else Result.PASS

    @property
    def results(self) -> dict[str, Result]:
        return {check_id: self.result(check_id) for check_id in self.check_ids}

    def findings_for(self, check_id: str) -> list[Finding]:
        return [f for f in self.findings if f.check_id == check_id]

    def to_dict(self) -> dict[str, object]:
        return {
            "skill": self.skill,
            "results": self.results,
            "findings": [f.to_dict() for f in self.findings],
        }


def lint_columns(taxonomy: Taxonomy | None = None) -> tuple[str, ...]:
    """The columns of the BP matrix: the taxonomy's static checks in its order, then FM."""
    taxonomy = taxonomy or load_taxonomy()
    return (*(c.id for c in taxonomy.static_checks), FM)
