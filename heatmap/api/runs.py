"""``/api/heatmap/run…`` and ``/api/heatmap/compare``: start, follow, cancel, compare runs."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from heatmap import selectors
from heatmap.api.responses import error_response
from heatmap.forms import RunStartForm
from heatmap.models import Run
from heatmap.security import (
    BadRequestBody,
    json_body,
    json_or_csrf,
    public_catalog_warnings,
    public_text,
)
from heatmap.services import cancel
from heatmap.services.plans import RunRequestError


def _progress(run: Run) -> JsonResponse:
    """A run's progress; its error message without server paths or credentials."""
    progress = selectors.run_progress(run=run)
    if progress.get("error"):
        progress["error"] = public_text(progress["error"])
    return JsonResponse(progress)


@require_GET
def run_compare(request: HttpRequest) -> JsonResponse:
    """``?base=RUN&new=RUN``: the flips between two runs, as ``compare_runs --json`` prints."""
    found: dict[str, Run] = {}
    for which in ("base", "new"):
        run_id = request.GET.get(which, "")
        if not run_id:
            return error_response("give both runs: ?base=RUN_ID&new=RUN_ID", 400)
        run = selectors.run_get(run_id=run_id)
        if run is None:
            return error_response(f"no run {run_id!r}", 404)
        found[which] = run
    try:
        comparison = selectors.run_comparison(
            base=found["base"],
            new=found["new"],
            catalog=selectors.catalog_scope(run=found["new"]).load(),
        )
    except selectors.RunsOfDifferentCatalogs as exc:
        return error_response(str(exc), 400)
    return JsonResponse(comparison.to_dict())


@json_or_csrf
@require_POST
def run_create_view(request: HttpRequest) -> JsonResponse:
    """Start a run from ``{"domains", "models", "concurrency"}`` or the older ``{"model"}``;
    ``"catalog": NAME`` runs that catalog (default: the configured one)."""
    try:
        data = json_body(request)
        name = data.get("catalog", "") if isinstance(data, dict) else ""
        if not isinstance(name, str):
            raise RunRequestError("catalog must be a catalog's name")
        try:
            scope = selectors.catalog_scope(name=name)
        except selectors.UnknownCatalog as exc:
            return error_response(str(exc), 404)
        if scope.cannot_run:
            raise RunRequestError(scope.cannot_run)
        catalog = scope.load()
        form = RunStartForm.from_data(data)
        run = form.start(catalog=catalog, started_by=request.user)
    except BadRequestBody as exc:
        return error_response(str(exc), exc.status)
    except RunRequestError as exc:
        return error_response(str(exc), 400)
    return JsonResponse(
        {
            "run_id": run.run_id,
            "catalog": run.catalog.name,
            "total": run.total,
            "warnings": public_catalog_warnings(catalog),
        },
        status=201,
    )


@require_GET
def run_status(request: HttpRequest, run_id: str) -> JsonResponse:
    run = selectors.run_get(run_id=run_id)
    if run is None:
        return error_response(f"no run {run_id!r}", 404)
    return _progress(run)


@json_or_csrf
@require_POST
def run_cancel_view(request: HttpRequest, run_id: str) -> JsonResponse:
    """Ask a run to stop; running tasks finish, no new ones start.

    The body may be empty, but the request says ``Content-Type: application/json`` (or
    carries a CSRF token): a bodiless cross-site POST needs no preflight.
    """
    if request.content_type not in ("", "application/json"):
        return error_response("send no body, or Content-Type: application/json", 415)
    run = selectors.run_get(run_id=run_id)
    if run is None:
        return error_response(f"no run {run_id!r}", 404)
    if not selectors.run_may_change(run=run, user=request.user):
        return error_response(selectors.NOT_YOUR_RUN, 403)
    if run.is_active:
        cancel.run_cancel(run=run)
        run.refresh_from_db()
    return _progress(run)
