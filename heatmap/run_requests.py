"""Turn a run request (JSON body or form) into a validated run, and start it.

The API and the run controls share this, so both give the same 400 messages naming the valid
values. The run itself is planned and created by ``heatmap.runs``; here is only what a web
request adds: parsing, availability of the chosen models, and handing the run to a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heatmap import runs
from heatmap.models import Run
from heatmap.runs import RunRequestError
from skillcheck.catalog import Catalog


@dataclass(frozen=True)
class RunRequest:
    domains: list[str] | None
    models: list[str]
    concurrency: Any  # validated by the planner, which names the valid range


def _str_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RunRequestError(f"{what} must be a list of strings")
    return value


def run_request_parse(data: Any) -> RunRequest:
    """Read a request body: the new ``{domains, models, concurrency}`` or the old ``{model}``.

    Only the shape is checked here; which models, domains and concurrency are valid is decided
    once, by ``heatmap.runs.run_plan``, when the run is created.
    """
    if not isinstance(data, dict):
        raise RunRequestError('the body must be a JSON object like {"models": ["heuristic"]}')
    if "models" in data:
        models = _str_list(data["models"], "models")
    elif isinstance(data.get("model"), str):
        models = [data["model"]]
    else:
        raise RunRequestError('models is required, e.g. {"models": ["heuristic"]}')
    domains = data.get("domains")
    if domains is not None:
        domains = _str_list(domains, "domains") or None
    concurrency = data.get("concurrency", runs.DEFAULT_CONCURRENCY)
    return RunRequest(domains=domains, models=models, concurrency=concurrency)


def run_plan_summary(*, catalog: Catalog, domains: list[str] | None, models: list[str]) -> str:
    """ "13 domains × 67 scenario-skill pairs × 3 models = 201 tasks" for the run controls."""
    return runs.run_plan(catalog=catalog, domains=domains, models=models).describe()


def run_start(request: RunRequest, *, catalog: Catalog) -> Run:
    """Create the run row (the engine's planner validates domains) and hand it to a worker."""
    from heatmap import worker

    run = runs.run_create(
        domains=request.domains,
        models=request.models,
        concurrency=request.concurrency,
        catalog=catalog,
    )
    worker.run_dispatch(run.run_id)
    return run
