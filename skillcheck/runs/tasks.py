"""A run's unit of work: one scenario, one target skill, one model, one sample (epoch); and a
task's failed result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from skillcheck.auditors.registry import SAMPLED_ONCE
from skillcheck.catalog.model import Catalog, Scenario, Skill, Taxonomy
from skillcheck.results import MAX_EPOCHS, CheckVerdict, ScoredRun, TaskKey
from skillcheck.vocabulary import Result


@dataclass(frozen=True)
class Task:
    """One call: a scenario, a target skill, a model, and which sample of them (``epoch``)."""

    scenario: Scenario
    skill: Skill
    model: str
    epoch: int = 1

    @property
    def key(self) -> TaskKey:
        return (self.scenario.id, self.skill.name, self.model, self.epoch)


def check_epochs(epochs: int) -> int:
    """How many samples per task a run may ask for: 1 to ``MAX_EPOCHS``."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= MAX_EPOCHS:
        raise ValueError(f"epochs must be a whole number from 1 to {MAX_EPOCHS}")
    return epochs


def model_epochs(model: str, epochs: int) -> int:
    """Samples a model is asked for: a deterministic auditor answers the same every time, so
    it is sampled once whatever ``epochs`` is."""
    return 1 if model in SAMPLED_ONCE else epochs


def build_tasks(
    catalog: Catalog,
    *,
    domains: Sequence[str] | None,
    models: Sequence[str],
    epochs: int = 1,
) -> list[Task]:
    """Every (scenario, target skill, model) of the selected domains, ``epochs`` samples of
    each (one of a deterministic auditor's); model, then epoch, innermost.

    ``domains=None`` (or empty) means all, in catalog order; unknown names raise
    ``UnknownDomains`` (a ``KeyError``).
    """
    check_epochs(epochs)
    wanted = set(catalog.select_domains(domains))
    models = list(dict.fromkeys(models))
    tasks: list[Task] = []
    for domain_id, domain in catalog.domains.items():
        if domain_id not in wanted:
            continue
        for scenario in domain.scenarios:
            for skill_name in scenario.target_skills:
                skill = catalog.skills[skill_name]
                tasks.extend(
                    Task(scenario, skill, model, epoch)
                    for model in models
                    for epoch in range(1, model_epochs(model, epochs) + 1)
                )
    return tasks


def error_result(task: Task, error: str, duration_s: float, taxonomy: Taxonomy) -> ScoredRun:
    """A task that raised or timed out: every model check unclear, the run goes on."""
    return ScoredRun(
        scenario_id=task.scenario.id,
        skill=task.skill.name,
        model=task.model,
        epoch=task.epoch,
        domain=task.scenario.domain,
        duration_s=duration_s,
        error=error,
        checks=[CheckVerdict(c.id, Result.UNCLEAR, "", error[:500]) for c in taxonomy.model_checks],
    )
