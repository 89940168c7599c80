"""A run's unit of work: one scenario, one target skill, one model; and a task's failed result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from skillcheck.catalog.model import Catalog, Scenario, Skill, Taxonomy
from skillcheck.results import CheckVerdict, ScoredRun
from skillcheck.vocabulary import Result


@dataclass(frozen=True)
class Task:
    scenario: Scenario
    skill: Skill
    model: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.scenario.id, self.skill.name, self.model)


def build_tasks(
    catalog: Catalog, *, domains: Sequence[str] | None, models: Sequence[str]
) -> list[Task]:
    """Every (scenario, target skill, model) of the selected domains; model innermost.

    ``domains=None`` (or empty) means all, in catalog order; unknown names raise
    ``UnknownDomains`` (a ``KeyError``).
    """
    wanted = set(catalog.select_domains(domains))
    models = list(dict.fromkeys(models))
    tasks: list[Task] = []
    for domain_id, domain in catalog.domains.items():
        if domain_id not in wanted:
            continue
        for scenario in domain.scenarios:
            for skill_name in scenario.target_skills:
                skill = catalog.skills[skill_name]
                tasks.extend(Task(scenario, skill, model) for model in models)
    return tasks


def error_result(task: Task, error: str, duration_s: float, taxonomy: Taxonomy) -> ScoredRun:
    """A task that raised or timed out: every model check unclear, the run goes on."""
    return ScoredRun(
        scenario_id=task.scenario.id,
        skill=task.skill.name,
        model=task.model,
        domain=task.scenario.domain,
        duration_s=duration_s,
        error=error,
        checks=[CheckVerdict(c.id, Result.UNCLEAR, "", error[:500]) for c in taxonomy.model_checks],
    )
