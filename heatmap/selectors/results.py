"""A stored task row read back as the engine's result (``ScoredRun``), with its fingerprint.

A read, so the selectors that need it (the response cache, a cell's staleness) and the
services that write reports share it from here.
"""

from __future__ import annotations

from heatmap.models import TaskResult
from skillcheck.fingerprints import Fingerprint
from skillcheck.results import CheckVerdict, ScoredRun
from skillcheck.vocabulary import Result


def scored_from_task(task: TaskResult) -> ScoredRun:
    return ScoredRun(
        scenario_id=task.scenario_id,
        skill=task.skill,
        model=task.model,
        epoch=task.epoch,
        domain=task.domain,
        checks=[
            CheckVerdict(c.check_id, Result.parse(c.result), c.evidence, c.summary)
            for c in task.checks.all()
        ],
        risk_level=task.risk_level,
        markdown_response=task.markdown_response,
        duration_s=task.duration_s,
        input_tokens=task.input_tokens,
        output_tokens=task.output_tokens,
        cost_usd=task.cost_usd,
        cache_write_tokens=task.cache_write_tokens,
        cache_read_tokens=task.cache_read_tokens,
        batch=task.batch,
        cost_note=task.cost_note,
        error=task.error or None,
        finished_at=task.finished_at.isoformat(),
        fingerprint=task_fingerprint(task),
        cached_from=task.cached_from or None,
    )


def task_fingerprint(task: TaskResult) -> Fingerprint | None:
    """The fingerprint a task row was stored with; None for rows older than fingerprints."""
    if not task.fingerprint:
        return None
    return Fingerprint(
        task.skill_fingerprint, task.scenario_fingerprint, task.prompt_fingerprint, task.model_id
    )
