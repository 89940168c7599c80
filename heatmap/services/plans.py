"""Run planning: what a run request means before anything is saved or called.

``run_plan`` validates a request (models, domains, concurrency, batch) and lists its tasks,
with those the response cache would answer; ``run_plan_preview`` is the run controls' plan
line and cost estimate; ``plan_cost_estimate`` is the one estimate the dry run and the web use
(``plan_dry_run``: the dry run's table and JSON).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from heatmap import selectors
from heatmap.services import auditors as auditor_services
from skillcheck.auditors import Auditor
from skillcheck.auditors.pricing import price_for
from skillcheck.catalog import Catalog, CatalogError, UnknownDomains
from skillcheck.request_size import oversized_requests
from skillcheck.results import MAX_EPOCHS, TaskKey, task_key
from skillcheck.runs import (
    DEFAULT_CONCURRENCY,
    MAX_CONCURRENCY,
    MIN_CONCURRENCY,
    CostEstimate,
    Task,
    build_tasks,
    cached_tasks,
    check_epochs,
    estimate_costs,
    model_epochs,
)


class RunRequestError(ValueError):
    """A run cannot be planned, created or resumed as asked; the message says what is valid."""


def plan_catalog(*, path: Path | str | None = None) -> Catalog:
    """The catalog a run is planned from (the configured one unless ``path``), read afresh;
    an unusable one is a ``RunRequestError`` that says why."""
    try:
        return selectors.catalog_load(path=path)
    except CatalogError as exc:
        raise RunRequestError(f"catalog unusable: {exc}") from None


# --- Planning -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunPlan:
    tasks: list[Task]
    domains: list[str]
    models: list[str]
    concurrency: int
    unavailable: dict[str, str] = field(default_factory=dict)
    """Models planned although they cannot run here (a dry run), with the reason."""
    cached: frozenset[TaskKey] = frozenset()
    """Tasks the response cache would answer (planned with ``use_cache``): not called."""
    batch: bool = False
    """Batch mode: through the Message Batches API, at half price."""
    epochs: int = 1
    """Samples of each (scenario, skill, model); a deterministic model is sampled once."""

    @property
    def to_call(self) -> list[Task]:
        return [t for t in self.tasks if t.key not in self.cached]

    @property
    def total(self) -> int:
        return len(self.tasks)

    @property
    def per_model(self) -> dict[str, int]:
        counts = Counter(t.model for t in self.tasks)
        return {m: counts[m] for m in self.models}

    @property
    def pairs(self) -> int:
        """How many scenario-skill pairs each model audits."""
        return len({(t.scenario.id, t.skill.name) for t in self.tasks})

    def describe(self) -> str:
        """ "13 domains × 67 scenario-skill pairs × 3 models = 201 tasks": the plan in a line
        (with "× 5 samples" before the total when the run asks for more than one)."""
        parts = [
            _count(len(self.domains), "domain"),
            _count(self.pairs, "scenario-skill pair"),
            _count(len(self.models), "model"),
        ]
        if self.epochs > 1:
            once = [m for m in self.models if model_epochs(m, self.epochs) == 1]
            parts.append(
                _count(self.epochs, "sample") + (f" ({', '.join(once)} once)" if once else "")
            )
        return " × ".join(parts) + f" = {_count(self.total, 'task')}"

    def describe_cache(self, estimate_usd: float | None = None) -> str:
        """ "180 cached, 21 to call (est. $0.42)": what the cache saves, "" when nothing."""
        if not self.cached:
            return ""
        text = f"{len(self.cached)} cached, {len(self.to_call)} to call"
        if estimate_usd is not None:
            text += f" (est. ${estimate_usd:.2f})"
        return text


def caching_effect(saves_usd: float) -> str:
    """ "saves ~$0.74": what prompt caching does to an estimate; "" when under a cent."""
    if saves_usd >= 0.005:
        return f"saves ~${saves_usd:.2f}"
    if saves_usd <= -0.005:  # a prefix too rarely reused to pay for the writes
        return f"adds ~${-saves_usd:.2f} (requests sent together each write the cache)"
    return ""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def plan_check_models(
    models: Sequence[str], auditors: dict[str, Auditor], *, require_available: bool = True
) -> list[str]:
    models = list(dict.fromkeys(models))
    availability = {name: auditor.availability() for name, auditor in auditors.items()}
    usable = ", ".join(name for name, a in availability.items() if a.available)
    if not models:
        raise RunRequestError(f"choose at least one model; available models: {usable}")
    unknown = [m for m in models if m not in auditors]
    if unknown:
        raise RunRequestError(
            f"unknown model(s): {', '.join(unknown)}; valid models: {', '.join(auditors)}"
        )
    for model in models if require_available else ():
        if not availability[model].available:
            raise RunRequestError(
                f"model {model} is not available: {availability[model].reason}; "
                f"available models: {usable}"
            )
    return models


def run_plan(
    *,
    catalog: Catalog,
    domains: Sequence[str] | None,
    models: Sequence[str],
    concurrency: int | str = DEFAULT_CONCURRENCY,
    auditors: dict[str, Auditor] | None = None,
    require_available: bool = True,
    use_cache: bool = False,
    task_keys: Iterable[Sequence[str]] | None = None,
    batch: bool = False,
    epochs: int | str = 1,
) -> RunPlan:
    """Validate a run request and list its tasks; nothing is called or saved.

    ``batch``: every model must run on the Anthropic API (checked unless a dry run).

    ``require_available=False`` plans with models that cannot run here (a dry run's estimate).
    ``use_cache`` also finds the tasks the response cache would answer (``RunPlan.cached``);
    ``task_keys`` keeps only those tasks (a run of chosen tasks, such as the stale ones).
    ``epochs``: samples of each task (1 to 10), each its own call.
    """
    auditors = auditor_services.auditors_or_registry(auditors)
    models = plan_check_models(models, auditors, require_available=require_available)
    try:
        ordered = catalog.select_domains(domains)
    except UnknownDomains as exc:
        raise RunRequestError(str(exc)) from None
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not MIN_CONCURRENCY <= concurrency <= MAX_CONCURRENCY
    ):
        raise RunRequestError(
            f"concurrency must be an integer from {MIN_CONCURRENCY} to {MAX_CONCURRENCY}"
        )
    try:
        epochs = check_epochs(epochs)  # type: ignore[arg-type]
    except ValueError:
        raise RunRequestError(f"epochs must be an integer from 1 to {MAX_EPOCHS}") from None
    tasks = plan_only(
        build_tasks(catalog, domains=ordered, models=models, epochs=epochs), task_keys
    )
    if task_keys is not None and not tasks:
        raise RunRequestError("none of the chosen tasks is in the catalog any more")
    cached: frozenset[TaskKey] = frozenset()
    if use_cache:
        fingerprinter = selectors.catalog_fingerprinter(catalog=catalog)
        cached = frozenset(cached_tasks(tasks, selectors.StoredResultCache(), fingerprinter))
    availability = {m: auditors[m].availability() for m in models}
    unavailable = {m: a.reason for m, a in availability.items() if not a.available}
    not_api = [m for m in models if availability[m].via != "api"]
    if batch and require_available and not_api:
        raise RunRequestError(
            "batch mode sends tasks through the Anthropic API (ANTHROPIC_API_KEY); "
            f"not on it: {', '.join(not_api)}"
        )
    if batch:  # a dry run names them as it names unavailable models: the run would refuse
        for model in not_api:
            unavailable.setdefault(
                model, "batch mode sends tasks through the Anthropic API, and not this model's"
            )
    plan_check_request_sizes([t for t in tasks if t.key not in cached], catalog)
    return RunPlan(
        tasks=tasks,
        domains=ordered,
        models=models,
        concurrency=concurrency,
        unavailable=unavailable,
        cached=cached,
        batch=batch,
        epochs=epochs,
    )


def plan_check_request_sizes(tasks: Sequence[Task], catalog: Catalog) -> None:
    """``RunRequestError`` when a request to be sent cannot fit its model's context window:
    an oversized skill is refused before any call, in the plan line and the dry run too."""
    oversized = oversized_requests(tasks, dict(settings.SKILLCHECK_MODELS), catalog.taxonomy)
    if oversized:
        raise RunRequestError(
            "; ".join(o.describe() for o in oversized)
            + ". Make its files smaller, or leave it out of the run"
        )


@dataclass(frozen=True)
class PlanPreview:
    """What the run controls will start: the plan line, its cost estimate, and whether the
    estimate is high enough (above ``SKILLCHECK_CONFIRM_COST_USD``) to ask for a confirmation."""

    text: str
    error: bool = False
    costs: dict[str, float] = field(default_factory=dict)
    threshold_usd: float = 1.0
    cached: int = 0  # tasks the response cache answers: not called, not in ``costs``
    caching_saves_usd: float = 0.0  # ``costs`` count prompt caching; without it, this more

    @property
    def caching_effect(self) -> str:
        return caching_effect(self.caching_saves_usd)

    @property
    def cost_usd(self) -> float:
        return sum(self.costs.values())

    @property
    def paid_costs(self) -> list[tuple[str, float]]:
        return [(model, cost) for model, cost in self.costs.items() if cost > 0]

    @property
    def needs_confirm(self) -> bool:
        return not self.error and self.cost_usd > self.threshold_usd

    @property
    def confirm_token(self) -> str:
        """The value a confirmation carries: the estimate in cents, so a confirmation given
        for a cheaper selection does not confirm a dearer one."""
        return str(round(self.cost_usd * 100))


def run_plan_preview(
    *,
    catalog: Catalog,
    domains: list[str] | None,
    models: list[str],
    concurrency: int | str = DEFAULT_CONCURRENCY,
    use_cache: bool = True,
    batch: bool = False,
    epochs: int | str = 1,
) -> PlanPreview:
    """The plan line and cost estimate for a selection, or the reason it cannot run.

    ``concurrency`` counts in the estimate: the first wave of requests all write the cache.

    With ``use_cache`` the line also says how many tasks the response cache answers
    ("… = 91 tasks · 80 cached, 11 to call") and the estimate covers only the rest.
    """
    threshold = float(getattr(settings, "SKILLCHECK_CONFIRM_COST_USD", 1.0))
    if domains is not None and not domains:
        return PlanPreview("Choose at least one domain.", error=True, threshold_usd=threshold)
    if not models:
        return PlanPreview("Choose at least one model.", error=True, threshold_usd=threshold)
    try:
        plan = run_plan(
            catalog=catalog,
            domains=domains,
            models=models,
            concurrency=concurrency,
            use_cache=use_cache,
            batch=batch,
            epochs=epochs,
        )
    except RunRequestError as exc:
        return PlanPreview(str(exc), error=True, threshold_usd=threshold)
    estimates = plan_cost_estimate(plan=plan, catalog=catalog)
    text = plan.describe() + (f" · {plan.describe_cache()}" if plan.cached else "")
    text += " · batch: half price, results within hours" if batch else ""
    return PlanPreview(
        text,
        costs={model: estimate.usd for model, estimate in estimates.items()},
        threshold_usd=threshold,
        cached=len(plan.cached),
        caching_saves_usd=sum(e.caching_saves_usd for e in estimates.values()),
    )


def first_models(available: Sequence[str]) -> list[str]:
    """The models the run controls start with: the heuristic (offline, free) if it can run,
    else the first model that can."""
    return ["heuristic"] if "heuristic" in available else list(available[:1])


def catalog_plan_preview(*, catalog: Catalog, models: Sequence[str] | None) -> PlanPreview:
    """The plan line of every domain of ``catalog`` with ``models`` (those that can run;
    none: ``first_models``): how many tasks the catalog holds. The scenario editor shows it
    after each change."""
    available = [c.name for c in auditor_services.model_choices() if c.available]
    chosen = [m for m in models or () if m in available] or first_models(available)
    return run_plan_preview(catalog=catalog, domains=None, models=chosen, use_cache=False)


def plan_cost_estimate(*, plan: RunPlan, catalog: Catalog) -> dict[str, CostEstimate]:
    """Estimated cost per model (in plan order) of the tasks the plan would call (cached ones
    cost nothing), with prompt caching as the run's requests would use it
    (``SKILLCHECK_PROMPT_CACHING``) at the plan's concurrency, at the batch price for a batch
    plan; free models (heuristic) cost 0. ``CostEstimate.uncached_usd``: without caching."""
    configured = dict(settings.SKILLCHECK_MODELS)
    # Only paid models need the prompts; free ones cost nothing to estimate.
    paid = {m for m in plan.models if price_for(configured.get(m, "")) is not None}
    to_price = [t for t in plan.to_call if t.model in paid]
    estimates = estimate_costs(
        to_price,
        configured,
        catalog.taxonomy,
        # A batch's estimate is the direct run's at half price (how well the API caches
        # across a batch's requests is not known in advance).
        batch=plan.batch,
        caching=settings.SKILLCHECK_PROMPT_CACHING,
        concurrency=plan.concurrency,
    )
    return {model: estimates.get(model, CostEstimate()) for model in plan.models}


@dataclass(frozen=True)
class DryRun:
    """What ``run_scored --dry-run`` reports: the plan, and what it would cost per model."""

    plan: RunPlan
    estimates: dict[str, CostEstimate]

    @property
    def cost_usd(self) -> dict[str, float]:
        """Per model, in plan order: the tasks it would call, with prompt caching."""
        return {model: estimate.usd for model, estimate in self.estimates.items()}

    @property
    def total_usd(self) -> float:
        return sum(self.cost_usd.values())

    @property
    def uncached_usd(self) -> float:
        """The total without prompt caching."""
        return sum(estimate.uncached_usd for estimate in self.estimates.values())

    @property
    def caching_effect(self) -> str:
        return caching_effect(sum(e.caching_saves_usd for e in self.estimates.values()))

    @property
    def cached_per_model(self) -> dict[str, int]:
        cached = Counter(key[2] for key in self.plan.cached)
        return {model: cached[model] for model in self.plan.models}

    def as_dict(self, *, warnings: list[str]) -> dict[str, Any]:
        """The dry run for ``--json``; ``warnings``: what the catalog skipped."""
        plan = self.plan
        return {
            "dry_run": True,
            "total": plan.total,
            "cached": len(plan.cached),
            "to_call": len(plan.to_call),
            "cached_per_model": self.cached_per_model,
            "pairs": plan.pairs,
            "domains": plan.domains,
            "models": plan.models,
            "concurrency": plan.concurrency,
            "epochs": plan.epochs,
            "batch": plan.batch,
            "per_model": plan.per_model,
            "estimated_cost_usd": {m: round(c, 4) for m, c in self.cost_usd.items()},
            "estimated_cost_uncached_usd": {
                m: round(e.uncached_usd, 4) for m, e in self.estimates.items()
            },
            "unavailable": plan.unavailable,
            "warnings": warnings,
        }


def plan_dry_run(*, plan: RunPlan, catalog: Catalog) -> DryRun:
    """The dry run's estimate: it covers the tasks the run would call (cached ones cost 0)."""
    return DryRun(plan=plan, estimates=plan_cost_estimate(plan=plan, catalog=catalog))


def plan_only(tasks: list[Task], task_keys: Iterable[Sequence[Any]] | None) -> list[Task]:
    """The tasks ``task_keys`` choose: a key with an epoch is that sample; one of three
    (scenario, skill, model) is every sample of it."""
    if task_keys is None:
        return tasks
    keys = [list(key) for key in task_keys]
    samples = {task_key(key) for key in keys if len(key) > 3}
    cells = {tuple(key) for key in keys if len(key) == 3}
    return [t for t in tasks if t.key in samples or t.key[:3] in cells]


def plan_task_keys(
    *,
    catalog: Catalog,
    models: Sequence[str],
    scenarios: Sequence[str] = (),
    skills: Sequence[str] = (),
) -> list[tuple[str, str, str]] | None:
    """The tasks of the named scenarios and skills (the original CLI's ``-s`` and
    ``--skill``) for ``models``, or None when neither is named (every task).

    An unknown scenario or skill is a ``RunRequestError`` that lists the valid ones; so is a
    choice that leaves no task (a skill that none of the chosen scenarios audits).
    """
    if not scenarios and not skills:
        return None
    known_scenarios = {s.id: s for s in catalog.scenarios}
    for wanted, known, what in (
        (scenarios, list(known_scenarios), "scenario"),
        (skills, list(catalog.skills), "skill"),
    ):
        unknown = [name for name in dict.fromkeys(wanted) if name not in known]
        if unknown:
            raise RunRequestError(
                f"unknown {what}(s): {', '.join(unknown)}; valid: {', '.join(known)}"
            )
    chosen = [known_scenarios[s] for s in dict.fromkeys(scenarios)] or catalog.scenarios
    keys = [
        (scenario.id, skill, model)
        for scenario in chosen
        for skill in scenario.target_skills
        if not skills or skill in skills
        for model in models
    ]
    if not keys:
        raise RunRequestError("none of the chosen scenarios audits the chosen skills")
    return keys
