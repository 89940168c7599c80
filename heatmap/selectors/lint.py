"""The static linter's BP checks: skills × BP checks, and one check's findings."""

from __future__ import annotations

from typing import Any

from skillcheck.catalog import Catalog
from skillcheck.linter import Finding, SkillLint, lint_catalog

_lint_cache: dict[str, Any] = {}


def lint_matrix(*, catalog: Catalog) -> dict[str, SkillLint]:
    """Skills × BP checks from the static linter, computed once per catalog fingerprint.

    The catalog object itself is cached per content change, so its identity stands in for the
    fingerprint without re-reading every skill file on each request.
    """
    if _lint_cache.get("catalog") is not catalog:
        _lint_cache.clear()
        _lint_cache["result"] = lint_catalog(catalog)
        _lint_cache["catalog"] = catalog
    return _lint_cache["result"]


def lint_findings(*, catalog: Catalog, skill: str, check_id: str) -> list[Finding]:
    """The linter's findings (file, line, detail) for one skill and BP check."""
    skill_lint = lint_matrix(catalog=catalog).get(skill)
    return list(skill_lint.findings_for(check_id)) if skill_lint is not None else []
