"""Content fingerprints: what produced a task's result, so it can be reused or marked stale.

A task's answer depends on four things: the skill's documents, the scenario's prompt, the
prompt the auditor is given (the taxonomy, the prompt's wording, the parser's reading of the
answer) and the model. Each gets its own short hash, so a stale result can say *what*
changed; the task fingerprint is the hash of the four, so one lookup finds a result to reuse.

``PROMPT_VERSION`` is bumped by hand when the prompt or the way answers are read changes in a
way the prompt text alone does not show. The prompt text itself (built from the taxonomy) and
the source of ``skillcheck/prompt.py`` are hashed too, so editing checks.yaml or the prompt
code invalidates results without anybody remembering to bump anything.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from skillcheck.catalog.files import CatalogError
from skillcheck.catalog.model import Catalog, Scenario, Skill, Taxonomy

PROMPT_VERSION = "1"
FINGERPRINT_LENGTH = 16

COMPONENTS = ("skill", "scenario", "prompt", "model")


def _hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:FINGERPRINT_LENGTH]


def skill_fingerprint(skill: Skill) -> str:
    """Every document of the skill (SKILL.md and its references), with their paths.

    An unreadable skill has no fingerprint (""), so nothing is reused for it.
    """
    try:
        return skill.fingerprint()
    except (CatalogError, OSError):
        return ""


def scenario_fingerprint(scenario: Scenario) -> str:
    """What of a scenario reaches the result: its prompt, and whether dev rules (n/a) apply.

    Not its list of target skills: adding a generalist must not invalidate the specialist.
    """
    return _hash(scenario.prompt, "dev" if scenario.is_dev else "")


def _source_of(name: str) -> str:
    """The source file of the module ``name`` as text, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        raise RuntimeError(f"{name} has no source file to fingerprint")
    return Path(spec.origin).read_text(encoding="utf-8")


def _source(module: ModuleType) -> str:
    """A module's source file as text (the engine's modules are plain files)."""
    if module.__file__ is None:
        raise RuntimeError(f"{module.__name__} has no source file to fingerprint")
    return Path(module.__file__).read_text(encoding="utf-8")


def prompt_fingerprint(taxonomy: Taxonomy) -> str:
    """The system prompt as sent (built from the taxonomy), the prompt code and its version."""
    from skillcheck import prompt

    source = _source(prompt)
    return _hash(PROMPT_VERSION, prompt.build_system_prompt(taxonomy), source)


def model_ids(configured: dict[str, str]) -> dict[str, str]:
    """Each model name and what it stands for: the configured id, or for the offline
    ``heuristic`` its rules' source, so editing the rules invalidates its results too."""
    # Read, not imported: compiling the rules' patterns costs every run's start 33 ms of CPU,
    # and only a run with the heuristic needs them.
    names = ("skillcheck.auditors.heuristic", "skillcheck.auditors.heuristic_rules")
    rules = "".join(_source_of(name) for name in names)
    return {"heuristic": f"heuristic@{_hash(rules)}", **configured}


@dataclass(frozen=True)
class Fingerprint:
    """The four component hashes of one task and their combined hash (``key``)."""

    skill: str
    scenario: str
    prompt: str
    model: str  # the model id the alias stood for (``sonnet`` -> ``claude-sonnet-4-5``)

    @property
    def key(self) -> str:
        """The cache key; "" when a component is unknown (such a task is never reused)."""
        if not all((self.skill, self.scenario, self.prompt, self.model)):
            return ""
        return _hash(self.skill, self.scenario, self.prompt, self.model)

    def to_dict(self) -> dict[str, str]:
        return {
            "key": self.key,
            "skill": self.skill,
            "scenario": self.scenario,
            "prompt": self.prompt,
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Fingerprint | None:
        if not isinstance(data, dict):
            return None
        return cls(**{name: str(data.get(name) or "") for name in COMPONENTS})

    def changes_from(self, current: Fingerprint) -> list[str]:
        """The components that differ from ``current``; a component unknown here is not one."""
        return [
            name
            for name in COMPONENTS
            if getattr(self, name) and getattr(self, name) != getattr(current, name)
        ]


CHANGE_TEXT = {
    "skill": "SKILL.md changed since this result",
    "scenario": "the scenario's prompt changed since this result",
    "prompt": "the checks or the audit prompt changed since this result",
    "model": "the model behind this name changed since this result",
}


def explain_changes(changes: list[str]) -> str:
    """ "SKILL.md changed since this result": the reasons a result is stale, in one line."""
    text = "; ".join(CHANGE_TEXT[c] for c in changes)
    return text[:1].upper() + text[1:]


class Fingerprinter:
    """Fingerprints of one catalog's tasks, each skill and scenario hashed once.

    ``model_ids`` maps a model name to the id it stands for; a name it lacks stands for
    itself (the offline ``heuristic``).
    """

    def __init__(self, catalog: Catalog | None, taxonomy: Taxonomy, model_ids: dict[str, str]):
        self.catalog = catalog
        self.taxonomy = taxonomy
        self.model_ids = dict(model_ids)
        self._prompt: str | None = None
        self._skills: dict[str, str] = {}
        self._scenarios: dict[str, str] = {}
        self._by_id: dict[str, Scenario] | None = None

    @property
    def prompt(self) -> str:
        if self._prompt is None:
            self._prompt = prompt_fingerprint(self.taxonomy)
        return self._prompt

    def skill(self, skill: Skill) -> str:
        found = self._skills.get(skill.name)
        if found is None:
            found = self._skills[skill.name] = skill_fingerprint(skill)
        return found

    def scenario(self, scenario: Scenario) -> str:
        found = self._scenarios.get(scenario.id)
        if found is None:
            found = self._scenarios[scenario.id] = scenario_fingerprint(scenario)
        return found

    def model(self, model: str) -> str:
        return self.model_ids.get(model) or model

    def of(self, scenario: Scenario, skill: Skill, model: str) -> Fingerprint:
        return Fingerprint(
            self.skill(skill), self.scenario(scenario), self.prompt, self.model(model)
        )

    def of_key(self, scenario_id: str, skill_name: str, model: str) -> Fingerprint | None:
        """The current fingerprint of a task named by its key; None when the catalog lacks it."""
        if self.catalog is None:
            return None
        skill = self.catalog.skills.get(skill_name)
        scenario = self._scenario_by_id().get(scenario_id)
        if skill is None or scenario is None:
            return None
        return self.of(scenario, skill, model)

    def _scenario_by_id(self) -> dict[str, Scenario]:
        if self._by_id is None:
            self._by_id = {s.id: s for s in self.catalog.scenarios} if self.catalog else {}
        return self._by_id
