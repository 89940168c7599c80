"""``/api/routing/run…``: start a routing run of the current catalog, follow it, cancel it,
resume it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from heatmap import selectors
from heatmap.api.responses import error_response
from heatmap.models import RoutingRun
from heatmap.security import BadRequestBody, json_body, json_or_csrf, public_text
from heatmap.selectors.routing import DEFAULT_RUNS, LEXICAL, routing_report, routing_run_get
from heatmap.services.plans import RunRequestError
from heatmap.services.routing_cancel import routing_run_cancel
from heatmap.services.routing_resume import routing_run_resume_start
from heatmap.services.routing_start import routing_run_start


def _request(data: Any) -> dict[str, Any]:
    """``{"models": [...], "runs": K, "use_cache": bool, "batch": bool}``, checked;
    ``RunRequestError``."""
    if not isinstance(data, dict):
        raise RunRequestError("the body must be a JSON object")
    models = data.get("models", [LEXICAL])
    if isinstance(models, str):
        models = [models]
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise RunRequestError("'models' must be a list of model names")
    runs = data.get("runs", DEFAULT_RUNS)
    if not isinstance(runs, int) or isinstance(runs, bool):
        raise RunRequestError("'runs' must be a whole number")
    flags = {}
    for name, default in (("use_cache", True), ("batch", False)):
        flags[name] = data.get(name, default)
        if not isinstance(flags[name], bool):
            raise RunRequestError(f"'{name}' must be true or false")
    return {"models": models, "runs": runs, **flags}


@json_or_csrf
@require_POST
def routing_run_create_view(request: HttpRequest) -> JsonResponse:
    try:
        asked = _request(json_body(request))
        run = routing_run_start(catalog=selectors.catalog_current(), **asked)
    except BadRequestBody as exc:
        return error_response(str(exc), exc.status)
    except RunRequestError as exc:
        return error_response(str(exc), 400)
    return JsonResponse(
        {"run_id": run.run_id, "total": run.cases.count(), "estimate": run.estimate}, status=201
    )


def _progress(run: RoutingRun) -> dict[str, Any]:
    report = routing_report(run)
    asked = sum(len(row.picks) for row in report.cases)
    return {
        "run_id": run.run_id,
        "status": run.display_status,
        "models": run.models,
        "batch": run.batch,
        "runs": run.runs,
        "samples_done": asked,
        "samples_total": len(report.cases) * run.runs,
        "error": public_text(run.error) if run.error else "",
        "metrics": report.recount(),
    }


@require_GET
def routing_run_status(request: HttpRequest, run_id: str) -> JsonResponse:
    run = routing_run_get(run_id)
    if run is None:
        return error_response(f"no routing run {run_id!r}", 404)
    return JsonResponse(_progress(run))


@json_or_csrf
@require_POST
def routing_run_cancel_view(request: HttpRequest, run_id: str) -> JsonResponse:
    run = routing_run_get(run_id)
    if run is None:
        return error_response(f"no routing run {run_id!r}", 404)
    routing_run_cancel(run=run)
    return JsonResponse({"run_id": run.run_id, "status": run.status, "cancel_requested": True})


@json_or_csrf
@require_POST
def routing_run_resume_view(request: HttpRequest, run_id: str) -> JsonResponse:
    try:
        run = routing_run_resume_start(run_id=run_id)
    except RunRequestError as exc:
        missing = routing_run_get(run_id) is None
        return error_response(str(exc), 404 if missing else 409)
    return JsonResponse({"run_id": run.run_id, "status": run.status}, status=202)
