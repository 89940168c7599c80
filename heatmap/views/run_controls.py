"""The run controls' state: the selection kept in the session between pages, and the plan
line shown for it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.http import HttpRequest

from heatmap.forms import concurrency_value
from heatmap.security import public_catalog_warnings, public_model_choices, public_text
from heatmap.services import plans
from skillcheck.catalog import Catalog

RUN_FORM_SESSION_KEY = "heatmap:run-form"


def public_preview(preview: plans.PlanPreview) -> plans.PlanPreview:
    """The plan line as shown: an error naming an unavailable model says why, without paths."""
    return replace(preview, text=public_text(preview.text))


def run_form_remember(
    request: HttpRequest, domains: list[str], models: list[str], concurrency: Any
) -> None:
    """Keep the run controls' selection for the next page (after a run, an error, a refusal)."""
    request.session[RUN_FORM_SESSION_KEY] = {
        "domains": list(domains),
        "models": list(models),
        "concurrency": str(concurrency),
    }


def catalog_plan_preview(request: HttpRequest, catalog: Catalog) -> plans.PlanPreview:
    """The whole catalog's plan line with the models last chosen in the run controls: how
    many tasks it holds now (the scenario editor shows it after each change)."""
    remembered = request.session.get(RUN_FORM_SESSION_KEY) or {}
    return public_preview(
        plans.catalog_plan_preview(catalog=catalog, models=remembered.get("models"))
    )


def run_controls_context(request: HttpRequest, catalog: Catalog) -> dict:
    """The controls as last used in this session (first time: every domain, the heuristic)."""
    choices = public_model_choices()
    available = [c.name for c in choices if c.available]
    remembered = request.session.get(RUN_FORM_SESSION_KEY) or {}
    selected_domains = [d for d in remembered.get("domains", []) if d in catalog.domains]
    selected_models = [m for m in remembered.get("models", []) if m in available]
    if not remembered:
        selected_domains = list(catalog.domains)
        selected_models = plans.first_models(available)
    concurrency = concurrency_value(remembered.get("concurrency"))
    preview = public_preview(
        plans.run_plan_preview(
            catalog=catalog,
            domains=selected_domains,
            models=selected_models,
            concurrency=concurrency,
        )
    )
    return {
        "model_choices": choices,
        "selected_domains": set(selected_domains),
        "selected_models": set(selected_models),
        "concurrency": concurrency,
        "plan": preview,
        "catalog_warnings": public_catalog_warnings(catalog),
    }
