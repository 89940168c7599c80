"""Static best-practice (BP) checks and frontmatter validation for Agent Skills.

These checks need no model: they read a skill's SKILL.md and reference Markdown files and
report findings with a file (relative to the skill folder), a line and a short reason. The
heuristics lean towards few false positives, since a finding is shown to skill authors as a
failed check. Odd input (no frontmatter, broken YAML, non-UTF-8 files, dangling links) turns
into findings, never into exceptions.

``checks`` runs the checks on a skill, ``documents`` reads its Markdown, ``wording`` judges
its text, ``findings`` is what comes out. This face names what callers use.
"""

from skillcheck.linter.checks import lint_catalog, lint_skill
from skillcheck.linter.findings import FM, LINT_RESULTS, Finding, SkillLint, lint_columns
from skillcheck.linter.wording import describe_problems, is_guidance, magic_numbers

__all__ = [
    "FM",
    "LINT_RESULTS",
    "Finding",
    "SkillLint",
    "describe_problems",
    "is_guidance",
    "lint_catalog",
    "lint_columns",
    "lint_skill",
    "magic_numbers",
]
