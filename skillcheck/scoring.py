"""Score one (scenario, skill) pair with one auditor: prompt, call, parse, apply n/a rules."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable

from skillcheck.auditors.base import Auditor, AuditRequest, AuditResponse
from skillcheck.catalog.files import CatalogError
from skillcheck.catalog.model import Scenario, Skill, Taxonomy
from skillcheck.parser import parse_response
from skillcheck.prompt import (
    build_scenario_block,
    build_skill_block,
    build_system_prompt,
    build_user_prompt,
    new_boundary,
    skill_documents,
)
from skillcheck.results import CheckVerdict, ScoredRun, TaskKey
from skillcheck.text import clean_text
from skillcheck.vocabulary import Result

DEV_NA_SUMMARY = "not applicable in a dev domain"


class PromptBook:
    """A run's prompts, each part built once: the system prompt at construction, each skill's
    documents (read, wrapped in one boundary for the whole run) on first use.

    Workers of one run share a book. ``tasks`` ((scenario, skill, model, epoch) keys) tells which
    prefixes the run sends to a model more than once, where a cache breakpoint pays off.
    """

    def __init__(self, taxonomy: Taxonomy, tasks: Iterable[TaskKey] = ()):
        self.taxonomy = taxonomy
        self.system_prompt = build_system_prompt(taxonomy)
        self._skills: dict[str, tuple[str, str]] = {}  # name -> (boundary, skill block)
        self._lock = threading.Lock()
        per_model: Counter[str] = Counter()
        per_skill: Counter[tuple[str, str]] = Counter()
        for _, skill, model, _epoch in tasks:
            per_model[model] += 1
            per_skill[(model, skill)] += 1
        self._per_model = per_model
        self._per_skill = per_skill

    def _skill(self, skill: Skill) -> tuple[str, str]:
        with self._lock:
            known = self._skills.get(skill.name)
        if known is None:
            documents = skill_documents(skill)
            boundary = new_boundary(text for _, text in documents)
            known = (boundary, build_skill_block(skill, boundary, documents))
            with self._lock:
                known = self._skills.setdefault(skill.name, known)
        return known

    def request(self, scenario: Scenario, skill: Skill, model: str = "") -> AuditRequest:
        """The audit request for one task; raises ``CatalogError`` if a skill file is unreadable."""
        boundary, skill_block = self._skill(skill)
        if boundary in scenario.prompt:  # a scenario carrying the marker: wrapped on its own
            user_prompt = build_user_prompt(scenario, skill)
            skill_block = scenario_block = ""
        else:
            scenario_block = build_scenario_block(scenario, boundary)
            user_prompt = f"{skill_block}\n{scenario_block}"
        return AuditRequest(
            scenario=scenario,
            skill=skill,
            taxonomy=self.taxonomy,
            system_prompt=self.system_prompt,
            user_prompt=user_prompt,
            skill_block=skill_block,
            scenario_block=scenario_block,
            system_reused=self._per_model[model] > 1,
            skill_reused=self._per_skill[(model, skill.name)] > 1,
        )


def score_task(
    auditor: Auditor,
    scenario: Scenario,
    skill: Skill,
    taxonomy: Taxonomy,
    *,
    prompts: PromptBook | None = None,
) -> ScoredRun:
    """Audit one pair; the answer's text enters here and is cleaned (``skillcheck.text``).

    Provider failures and answers without a readable JSON block are failed tasks (``error``
    set, the raw answer kept), so a resume asks again. ``prompts``: the run's shared book
    (default: a book of its own).
    """
    prompts = prompts or PromptBook(taxonomy)
    try:
        request = prompts.request(scenario, skill, auditor.name)
    except CatalogError as exc:
        # An unreadable skill file fails this task, not the run.
        response = AuditResponse(error=f"cannot read skill {skill.name}: {exc}")
    else:
        response = auditor.audit(request)
    return score_response(response, scenario, skill, taxonomy, model=auditor.name)


def score_response(
    response: AuditResponse, scenario: Scenario, skill: Skill, taxonomy: Taxonomy, *, model: str
) -> ScoredRun:
    """An auditor's answer (or failure) as a scored task; batch results come in here too."""
    result = ScoredRun(
        scenario_id=scenario.id,
        skill=skill.name,
        model=model,
        domain=scenario.domain,
        duration_s=response.duration_s,
        input_tokens=response.input_tokens,
        output_tokens=response.output_tokens,
        cost_usd=response.cost_usd,
        cache_write_tokens=response.cache_write_tokens,
        cache_read_tokens=response.cache_read_tokens,
        error=clean_text(response.error) if response.error else None,
    )
    check_ids = [c.id for c in taxonomy.model_checks]
    if result.error:
        result.markdown_response = clean_text(response.text)
        result.checks = [CheckVerdict(c, Result.UNCLEAR, "", result.error[:500]) for c in check_ids]
        return result
    parsed = parse_response(response.text, check_ids)
    if parsed.error:
        # No usable verdicts: a failed task (resume asks again), its answer kept to read.
        result.error = f"{model}: unparseable answer: {parsed.error}"
        result.markdown_response = parsed.markdown
        result.checks = parsed.checks
        return result
    na = taxonomy.na_for(dev=scenario.is_dev)
    result.checks = [
        CheckVerdict(c.check_id, Result.NA, c.evidence, DEV_NA_SUMMARY) if c.check_id in na else c
        for c in parsed.checks
    ]
    result.risk_level = parsed.risk_level
    result.markdown_response = parsed.markdown
    return result
