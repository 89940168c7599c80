"""The JSON API for scripts, compatible with the earlier tool's ``POST /api/heatmap/run``.

Starting a run costs money, so POST bodies must be ``application/json``: a cross-site HTML
form cannot send that content type without a CORS preflight, which is what makes
``csrf_exempt`` safe here.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from heatmap import selectors
from heatmap.forms import RunStartForm
from heatmap.services import auditors, runs
from heatmap.services.runs import RunRequestError


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _json_body(request: HttpRequest) -> tuple[Any, JsonResponse | None]:
    if request.content_type != "application/json":
        return None, _error("the request body must be JSON (Content-Type: application/json)", 415)
    try:
        return json.loads(request.body or b"null"), None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, _error(f"invalid JSON: {exc}", 400)


@csrf_exempt
@require_POST
def run_create_view(request: HttpRequest) -> JsonResponse:
    """Start a run from ``{"domains", "models", "concurrency"}`` or the older ``{"model"}``."""
    data, error = _json_body(request)
    if error:
        return error
    catalog = selectors.catalog_current()
    try:
        form = RunStartForm.from_data(data)
        run = runs.run_start(
            catalog=catalog,
            domains=form.domains,
            models=form.models,
            concurrency=form.concurrency,
        )
    except RunRequestError as exc:
        return _error(str(exc), 400)
    return JsonResponse({"run_id": run.run_id, "total": run.total}, status=201)


@require_GET
def run_status(request: HttpRequest, run_id: str) -> JsonResponse:
    run = selectors.run_get(run_id=run_id)
    if run is None:
        return _error(f"no run {run_id!r}", 404)
    return JsonResponse(selectors.run_summary(run))


@csrf_exempt
@require_POST
def run_cancel_view(request: HttpRequest, run_id: str) -> JsonResponse:
    """Ask a run to stop; running tasks finish, no new ones start. Needs no body.

    A cross-site form always sends a form content type, so only none or JSON is accepted.
    """
    if request.content_type not in ("", "application/json"):
        return _error("send no body, or Content-Type: application/json", 415)
    run = selectors.run_get(run_id=run_id)
    if run is None:
        return _error(f"no run {run_id!r}", 404)
    if run.is_active:
        runs.run_cancel(run=run)
        run.refresh_from_db()
    return JsonResponse(selectors.run_summary(run))


@require_GET
def domain_list(request: HttpRequest) -> JsonResponse:
    catalog = selectors.catalog_current()
    domains = [
        {
            "id": d.id,
            "kind": d.kind,
            "specialist": d.specialist,
            "scenarios": len(d.scenarios),
            "skills": list(d.skills),
            "pairs": sum(len(s.target_skills) for s in d.scenarios),
        }
        for d in catalog.domains.values()
    ]
    return JsonResponse({"domains": domains})


@require_GET
def skill_list(request: HttpRequest) -> JsonResponse:
    catalog = selectors.catalog_current()
    rows = selectors.heatmap_overview(
        catalog=catalog, domain=request.GET.get("domain") or None, query=request.GET.get("q", "")
    )
    return JsonResponse({"skills": [row.as_dict() for row in rows]})


@require_GET
def domain_detail(request: HttpRequest, domain_id: str) -> JsonResponse:
    catalog = selectors.catalog_current()
    if domain_id not in catalog.domains:
        return _error(f"unknown domain {domain_id!r}; valid: {', '.join(catalog.domains)}", 404)
    matrix = selectors.heatmap_domain_matrix(catalog=catalog, domain_id=domain_id)
    return JsonResponse(matrix.as_dict())


@require_GET
def model_list(request: HttpRequest) -> JsonResponse:
    models = [
        {"name": c.name, "available": c.available, "reason": c.reason, "via": c.via}
        for c in auditors.model_choices()
    ]
    return JsonResponse({"models": models})
