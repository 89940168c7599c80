"""Pre-flight: whether each request of a run fits its model's context window.

A skill whose files add up to more than a model can read would be sent whole, call after
call, and refused by the API (or cut short by it) every time: 12 reference files of 4 MB are
12 million input tokens a task. Before any call, the run's requests are measured from the
very prompts the run would send (``skillcheck.prompt``), at ``pricing.CHARS_PER_TOKEN``, and
a request whose input and answer budget do not fit its model's window is a clear error that
names the skill, the model and the figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from skillcheck.auditors.pricing import ANSWER_BUDGET_TOKENS, context_window_tokens, estimate_tokens
from skillcheck.catalog import CatalogError, Taxonomy
from skillcheck.prompt import (
    build_scenario_block,
    build_skill_block,
    build_system_prompt,
    skill_documents,
)
from skillcheck.runs import Task

# Stands for the random marker in the measured prompts: as long as a real one.
MARKER = "SKILLCHECK-DATA-0000000000000000"


@dataclass(frozen=True)
class Oversized:
    """A skill whose largest request to one model does not fit that model's window."""

    skill: str
    model: str
    model_id: str
    input_tokens: int
    window_tokens: int
    files: int

    def describe(self) -> str:
        return (
            f"skill {self.skill!r} ({self.files} file{'s' * (self.files != 1)}) is too large "
            f"for {self.model}: about {self.input_tokens:,} input tokens a request, and "
            f"{self.model_id}'s context window holds {self.window_tokens:,} "
            f"({ANSWER_BUDGET_TOKENS:,} of them kept for the answer)"
        )


def oversized_requests(
    tasks: Sequence[Task], model_ids: dict[str, str], taxonomy: Taxonomy
) -> list[Oversized]:
    """The (skill, model) pairs among ``tasks`` whose requests exceed the model's window,
    one entry each, in task order. Models without a window (``heuristic``: absent from
    ``model_ids``) are not measured; a skill whose files cannot be read is left to the run,
    which fails its tasks with the reason."""
    system_tokens = estimate_tokens(build_system_prompt(taxonomy))
    skill_tokens: dict[str, tuple[int, int] | None] = {}
    found: dict[tuple[str, str], Oversized] = {}
    for task in tasks:
        model_id = model_ids.get(task.model, "")
        window = context_window_tokens(model_id)
        if window is None:
            continue
        name = task.skill.name
        if name not in skill_tokens:
            try:
                documents = skill_documents(task.skill)
            except CatalogError:
                skill_tokens[name] = None
            else:
                block = build_skill_block(task.skill, MARKER, documents)
                skill_tokens[name] = (estimate_tokens(block), len(documents))
        measured = skill_tokens[name]
        if measured is None:
            continue
        tokens = (
            system_tokens
            + measured[0]
            + estimate_tokens(build_scenario_block(task.scenario, MARKER))
        )
        if tokens + ANSWER_BUDGET_TOKENS <= window:
            continue
        key = (name, task.model)
        if key not in found or found[key].input_tokens < tokens:
            found[key] = Oversized(name, task.model, model_id, tokens, window, measured[1])
    return list(found.values())
