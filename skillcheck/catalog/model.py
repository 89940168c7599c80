"""The catalog as data: skills, scenarios grouped in domains, and the check taxonomy."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from skillcheck.catalog.files import (
    DEFAULT_MAX_DOCUMENT_BYTES,
    DEFAULT_MAX_SKILL_BYTES,
    CatalogError,
    is_inside,
    read_text,
)
from skillcheck.vocabulary import Severity

GROUP_ORDER = ("WF", "DK", "BP", "APF", "SEC")
# A routing answer that picks no skill (and a routing prompt that expects none).
NO_SKILL = "none"


class UnknownDomains(KeyError):
    """Domain names the catalog does not have; the message lists the valid ones."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Check:
    id: str
    group: str
    name: str
    severity: Severity
    description: str
    static: bool = False
    line: int | None = None  # where the check starts in its checks.yaml


@dataclass(frozen=True)
class Taxonomy:
    groups: dict[str, str]
    checks: tuple[Check, ...]
    dev_na: frozenset[str]
    path: Path | None = None

    @cached_property
    def by_id(self) -> dict[str, Check]:
        return {c.id: c for c in self.checks}

    @property
    def model_checks(self) -> tuple[Check, ...]:
        """The checks models are asked (all but the static BP ones)."""
        return tuple(c for c in self.checks if not c.static)

    @property
    def static_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.static)

    def na_for(self, *, dev: bool) -> frozenset[str]:
        return self.dev_na if dev else frozenset()


@dataclass(frozen=True)
class Skill:
    name: str
    path: Path  # resolved, inside the catalog
    category: str = ""
    generalist: bool = False
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    max_skill_bytes: int = DEFAULT_MAX_SKILL_BYTES

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def is_dev(self) -> bool:
        return self.category == "dev"

    def document_paths(self) -> tuple[list[Path], list[Path]]:
        """(SKILL.md then every other Markdown file of the folder, sorted; links skipped).

        Only what resolves inside the skill's folder is sent to a model: a file or folder
        that is a symlink to somewhere else (a secret next to the catalog, ``/etc``) is
        skipped and returned second, for the catalog's warnings.
        """
        found: list[Path] = []
        skipped: list[Path] = []
        for folder, subfolders, files in os.walk(self.root):  # does not enter linked folders
            for name in sorted(subfolders):
                linked = Path(folder, name)
                if linked.is_symlink() and not is_inside(linked, self.root):
                    skipped.append(linked)
            for name in files:
                path = Path(folder, name)
                if not name.endswith(".md") or path == self.path:
                    continue
                (found if is_inside(path, self.root) else skipped).append(path)
        return [self.path, *sorted(found)], sorted(skipped)

    def documents(self) -> list[tuple[Path, str]]:
        """SKILL.md first, then every other Markdown file in the skill's folder, sorted;
        ``CatalogError`` when one is over ``max_document_bytes`` or all together are over
        ``max_skill_bytes`` (a file that grew since the catalog was loaded)."""
        paths, _ = self.document_paths()
        self.check_total_size(paths)
        return [(p, read_text(p, self.max_document_bytes)) for p in paths]

    def check_total_size(self, paths: list[Path]) -> None:
        """``CatalogError`` naming SKILL.md when the files together exceed
        ``max_skill_bytes``: every one of them is sent with every task."""
        total = 0
        for path in paths:
            try:
                total += path.stat().st_size
            except OSError:
                continue  # reported when the file is read
        if total > self.max_skill_bytes:
            raise CatalogError(
                self.path,
                f"skill {self.name!r}: its {len(paths)} files total {total:,} bytes, over the "
                f"limit of {self.max_skill_bytes:,} bytes for one skill "
                "(SKILLCHECK_MAX_SKILL_BYTES): all of them are sent with every task, and a "
                "model's context window holds about 200,000 tokens",
            )

    def files(self) -> list[tuple[str, str]]:
        """Each document as (its path in the skill's folder, with ``/``; its text), SKILL.md
        first: what the fingerprint hashes, and what a run keeps of the skill."""
        return [(path.relative_to(self.root).as_posix(), text) for path, text in self.documents()]

    def fingerprint(self) -> str:
        return files_fingerprint(self.files())


def files_fingerprint(files: Iterable[tuple[str, str]]) -> str:
    """The hash of a skill's files, (path, text) in order: ``Skill.fingerprint``."""
    digest = hashlib.sha256()
    for path, text in files:
        digest.update(path.encode())
        digest.update(b"\0" + text.encode() + b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Scenario:
    id: str
    name: str
    prompt: str
    domain: str
    specialist: str
    target_skills: tuple[str, ...]
    is_dev: bool
    models: tuple[str, ...] = ()
    source: Path | None = None
    line: int | None = None

    def fingerprint(self) -> str:
        text = "\0".join([self.prompt, self.specialist, *self.target_skills])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RoutingPrompt:
    """An extra routing case from a scenario file's ``routing:`` list: a prompt and the skill
    a router shown the whole catalog should pick for it (``NO_SKILL`` when none fits)."""

    id: str
    prompt: str
    expected: str
    tags: tuple[str, ...] = ()
    source: Path | None = None
    line: int | None = None


@dataclass(frozen=True)
class Domain:
    id: str
    kind: str  # "domain" (one specialist per file) or "category" (WF/DK/APF/SEC files)
    source: Path
    scenarios: tuple[Scenario, ...]
    specialist: str = ""
    routing: tuple[RoutingPrompt, ...] = ()
    line: int | None = None  # where its ``domain:`` or ``category:`` key is

    @property
    def skills(self) -> tuple[str, ...]:
        """Every skill audited in this domain, in first-seen order."""
        seen: dict[str, None] = {}
        for scenario in self.scenarios:
            seen.update(dict.fromkeys(scenario.target_skills))
        return tuple(seen)

    @property
    def is_dev(self) -> bool:
        return bool(self.scenarios) and all(s.is_dev for s in self.scenarios)


@dataclass
class Catalog:
    root: Path
    skills: dict[str, Skill]
    domains: dict[str, Domain]
    taxonomy: Taxonomy
    warnings: list[str] = field(default_factory=list)
    # Every scenario file's ``routing:`` prompts, in file order (a file may hold only these).
    routing: list[RoutingPrompt] = field(default_factory=list)

    @property
    def scenarios(self) -> list[Scenario]:
        return [s for d in self.domains.values() for s in d.scenarios]

    def select_domains(self, names: Sequence[str] | None) -> list[str]:
        """The named domains in catalog order (all of them for None or none): the one check
        of domain names, for the planner, the engine and every caller."""
        wanted = set(names or ())
        unknown = [d for d in dict.fromkeys(names or ()) if d not in self.domains]
        if unknown:
            raise UnknownDomains(
                f"unknown domain(s): {', '.join(unknown)}; valid domains: {', '.join(self.domains)}"
            )
        return [d for d in self.domains if not wanted or d in wanted]

    def scenario(self, scenario_id: str) -> Scenario:
        for s in self.scenarios:
            if s.id == scenario_id:
                return s
        raise KeyError(scenario_id)

    def fingerprints(self) -> dict[str, dict[str, str]]:
        """Per-skill and per-scenario content hashes, to tell what changed since a run."""
        return {
            "skills": {name: skill.fingerprint() for name, skill in self.skills.items()},
            "scenarios": {s.id: s.fingerprint() for s in self.scenarios},
        }

    def fingerprint(self) -> str:
        parts = self.fingerprints()
        digest = hashlib.sha256()
        for kind in ("skills", "scenarios"):
            for key, value in sorted(parts[kind].items()):
                digest.update(f"{kind}:{key}={value}\n".encode())
        return digest.hexdigest()[:16]
