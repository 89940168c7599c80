"""Routing cases from a catalog: every scenario (expecting its specialist) and every extra
``routing:`` prompt (expecting a skill or ``none``); and the skills' descriptions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from skillcheck.catalog import NO_SKILL, Catalog, CatalogError, Skill, read_text, safe_yaml_load


class RoutingError(ValueError):
    """The catalog cannot be routed (a skill named ``none``, no skills)."""


@dataclass(frozen=True)
class RoutingCase:
    id: str
    prompt: str
    expected: str  # a skill name or NO_SKILL
    tags: tuple[str, ...] = ()
    source: Path | None = None
    line: int | None = None


def routing_cases(catalog: Catalog) -> list[RoutingCase]:
    """Scenarios first (catalog order; a scenario's expected skill is its specialist), then
    the ``routing:`` prompts."""
    if NO_SKILL in catalog.skills:
        raise RoutingError(
            f"the catalog has a skill named {NO_SKILL!r}, which a router's 'pick nothing' "
            "answer would be mistaken for; rename it"
        )
    cases = [
        RoutingCase(s.id, s.prompt, s.specialist, ("scenario",), s.source, s.line)
        for s in catalog.scenarios
    ]
    cases += [
        RoutingCase(r.id, r.prompt, r.expected, r.tags, r.source, r.line) for r in catalog.routing
    ]
    return cases


def skill_description(skill: Skill) -> str:
    """The ``description`` of the SKILL.md frontmatter ("" when there is none or it is not
    text: the linter reports why)."""
    try:
        text = read_text(skill.path, skill.max_document_bytes)
    except CatalogError:
        return ""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return ""
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return ""
    try:
        meta = safe_yaml_load("\n".join(lines[1:end]))
    except yaml.YAMLError:
        return ""
    description = meta.get("description") if isinstance(meta, dict) else None
    return description.strip() if isinstance(description, str) else ""


def catalog_descriptions(catalog: Catalog) -> dict[str, str]:
    """Every skill's description, in manifest order: what a router is shown."""
    if not catalog.skills:
        raise RoutingError("the catalog has no skills to route to")
    return {name: skill_description(skill) for name, skill in catalog.skills.items()}


def description_fingerprints(descriptions: dict[str, str]) -> dict[str, str]:
    """A short hash of each description, to say which one changed since a run."""
    return {
        name: hashlib.sha256(f"{name}\0{text}".encode()).hexdigest()[:16]
        for name, text in descriptions.items()
    }


def catalog_fingerprint(descriptions: dict[str, str]) -> str:
    """One hash over every name and description: editing any description changes it, so every
    routing answer given for the old catalog is stale (the competition changed)."""
    digest = hashlib.sha256()
    for name, value in description_fingerprints(descriptions).items():
        digest.update(f"{name}={value}\n".encode())
    return digest.hexdigest()[:16]
