"""The static linter's BP checks: skills × BP checks, one check's findings, and the table,
gate and SARIF of ``lint_skills`` (a catalog's skills, or those at the paths given)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillcheck.catalog import Catalog, Skill, Taxonomy, load_taxonomy
from skillcheck.gates import ExitCode, finding_severity, lint_gate_failed
from skillcheck.lint_targets import skills_at
from skillcheck.linter import Finding, SkillLint, lint_catalog, lint_columns, lint_skill
from skillcheck.sarif import lint_sarif
from skillcheck.vocabulary import Result, Severity

# The gate's words for ``lint_skills``: the severities ``--fail-on`` names, its exit codes.
__all__ = [
    "ExitCode",
    "LintTable",
    "Severity",
    "lint_findings",
    "lint_matrix",
    "lint_paths",
    "lint_table",
]

_lint_cache: dict[Path | None, tuple[Catalog, dict[str, SkillLint]]] = {}


def lint_matrix(*, catalog: Catalog) -> dict[str, SkillLint]:
    """Skills × BP checks from the static linter, computed once per catalog fingerprint.

    The catalog object itself is cached per content change, so its identity stands in for the
    fingerprint without re-reading every skill file on each request. One entry per catalog
    folder: pages of two catalogs in turn do not lint each other's skills again.
    """
    held = _lint_cache.get(catalog.root)
    if held is None or held[0] is not catalog:
        held = _lint_cache[catalog.root] = (catalog, lint_catalog(catalog))
    return held[1]


def lint_findings(*, catalog: Catalog, skill: str, check_id: str) -> list[Finding]:
    """The linter's findings (file, line, detail) for one skill and BP check."""
    skill_lint = lint_matrix(catalog=catalog).get(skill)
    return list(skill_lint.findings_for(check_id)) if skill_lint is not None else []


@dataclass(frozen=True)
class LintTable:
    """The linter's results as ``lint_skills`` shows them: skills × the taxonomy's static
    checks, then FM (the frontmatter)."""

    lints: dict[str, SkillLint]
    skills: dict[str, Skill]
    taxonomy: Taxonomy
    root: Path
    """The catalog's folder, or the folder the paths were given from."""
    warnings: list[str] = field(default_factory=list)
    """What the catalog skipped (scenarios whose skill it does not have)."""

    @property
    def columns(self) -> tuple[str, ...]:
        return lint_columns(self.taxonomy)

    def passed(self, skill: str) -> list[bool]:
        """Per column, whether ``skill`` passes that check."""
        lint = self.lints[skill]
        return [lint.result(check_id) == Result.PASS for check_id in self.columns]

    def failed(self, skill: str) -> int:
        """How many of the columns' checks ``skill`` fails (a count of checks, not findings)."""
        return self.passed(skill).count(False)

    @property
    def findings(self) -> int:
        return sum(len(lint.findings) for lint in self.lints.values())

    def severity(self, finding: Finding) -> Severity:
        return finding_severity(finding.check_id, self.taxonomy)

    def gate_failed(self, fail_on: Severity | None) -> bool:
        """True when a finding is at least ``fail_on`` severe (None: never)."""
        return lint_gate_failed(self.lints, self.taxonomy, fail_on)

    def as_dict(self) -> dict[str, Any]:
        """The table for ``--format json``."""
        return {
            "catalog": str(self.root),
            "columns": list(self.columns),
            "skills": [lint.to_dict() for lint in self.lints.values()],
            "warnings": self.warnings,
        }

    def as_sarif(self, *, root: Path) -> dict[str, Any]:
        """SARIF 2.1.0 for code scanning, with paths relative to ``root`` (the repository)."""
        return lint_sarif(self.lints, self.skills, self.taxonomy, root=root)


def lint_table(*, catalog: Catalog) -> LintTable:
    """The linter over ``catalog`` (``lint_matrix``, computed once per catalog)."""
    return LintTable(
        lints=lint_matrix(catalog=catalog),
        skills=catalog.skills,
        taxonomy=catalog.taxonomy,
        root=catalog.root,
        warnings=catalog.warnings,
    )


def lint_paths(*, paths: Sequence[Path]) -> LintTable:
    """The linter over the skills at ``paths`` (SKILL.md files, or folders holding them), no
    catalog needed; ``CatalogError`` for a path that holds no skill."""
    taxonomy = load_taxonomy()
    skills = skills_at(paths)
    return LintTable(
        lints={key: lint_skill(skill, taxonomy) for key, skill in skills.items()},
        skills=skills,
        taxonomy=taxonomy,
        root=Path.cwd(),
    )
