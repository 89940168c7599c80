"""SARIF 2.1.0 for the static checks, so code scanning shows each finding on its line.

A plain dictionary (no SARIF object model is maintained on PyPI today; the tests validate
the output against the OASIS 2.1.0 JSON schema). Each finding is a result with its rule id,
a level from the check's severity, a message and a physical location: the file relative to
the repository root (``%SRCROOT%``) and its line. The rules are the taxonomy's static checks
plus the frontmatter validation (FM), described in ``tool.driver.rules``.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from skillcheck.catalog.model import Skill, Taxonomy
from skillcheck.linter.findings import FM, SkillLint
from skillcheck.vocabulary import Severity

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
INFORMATION_URI = "https://agentskills.io/specification"
FM_RULE = {
    "id": FM,
    "name": "Frontmatter",
    "severity": Severity.HIGH,
    "description": "SKILL.md starts with valid YAML frontmatter: a name that matches its folder "
    "and a description within the specification's limits.",
}
# GitHub sorts and filters alerts by level: CRITICAL and HIGH break a skill, MEDIUM weakens it.
LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
}


def _tool_version() -> str:
    try:
        return version("skillcheck")
    except PackageNotFoundError:
        return "0"


def _rules(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    checks = [
        {"id": c.id, "name": c.name, "severity": c.severity, "description": c.description}
        for c in taxonomy.static_checks
    ]
    return [
        {
            "id": rule["id"],
            "name": "".join(word.capitalize() for word in str(rule["name"]).split()),
            "shortDescription": {"text": str(rule["name"])},
            "fullDescription": {"text": str(rule["description"])},
            "defaultConfiguration": {"level": LEVELS[Severity(rule["severity"])]},
            "properties": {"severity": str(rule["severity"]), "tags": ["agent-skills"]},
        }
        for rule in [*checks, FM_RULE]
    ]


def _uri(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in URI form; an absolute file URI when outside it."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return resolved.as_uri()


def lint_sarif(
    lints: Mapping[str, SkillLint],
    skills: Mapping[str, Skill],
    taxonomy: Taxonomy,
    *,
    root: Path,
) -> dict[str, Any]:
    """The lint of every skill (keyed as in ``skills``) as one SARIF log.

    ``root`` is the repository root: code scanning resolves each location's ``uri`` against
    the checkout, so the path must be relative to it.
    """
    root = root.resolve()
    rules = _rules(taxonomy)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for name, lint in lints.items():
        skill = skills[name]
        for finding in lint.findings:
            rule = rules[index[finding.check_id]]
            location = {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": _uri(skill.root / finding.file, root),
                        "uriBaseId": SRCROOT,
                    },
                    "region": {"startLine": max(finding.line, 1)},
                }
            }
            results.append(
                {
                    "ruleId": finding.check_id,
                    "ruleIndex": index[finding.check_id],
                    "level": rule["defaultConfiguration"]["level"],
                    "message": {"text": f"{rule['shortDescription']['text']}: {finding.detail}"},
                    "locations": [location],
                    "properties": {"skill": name},
                }
            )
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "skillcheck",
                        "version": _tool_version(),
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
