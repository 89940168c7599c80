"""Runs: the run list, a run's page and progress, the run controls' plan line and actions
(start, re-run stale, cancel, resume, retry errors) and the report download."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.text import capfirst
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from heatmap import exports, selectors
from heatmap.forms import RunStartForm, concurrency_value, number_value
from heatmap.models import Run
from heatmap.render_cache import run_state, shared_context, shared_fragment
from heatmap.security import BadRequestBody, bounded_names, public_text
from heatmap.services import auditors, cancel, plans, reports, rerun_stale, resume, retry
from heatmap.services.plans import RunRequestError
from heatmap.views.fragments import HtmxHttpRequest
from heatmap.views.lookups import catalog_scope_or_404, domain_or_404, run_or_404, run_to_change
from heatmap.views.redirects import redirect_back
from heatmap.views.run_controls import public_preview, run_form_remember


def _admin_url(run: Run) -> str:
    """The run's change page in the admin, or "" when the admin is not installed."""
    try:
        return reverse("admin:heatmap_run_change", args=[run.pk])
    except NoReverseMatch:
        return ""


@require_GET
def run_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every run with its catalog, newest first; ``?catalog=NAME`` lists one catalog's."""
    catalogs = selectors.catalog_list()
    shown = None
    if name := request.GET.get("catalog", ""):
        shown = next((c for c in catalogs if c.name == name), None)
        if shown is None:
            raise Http404(f"no catalog {name!r}")
    listed = selectors.run_list(catalog_id=shown.pk if shown else None)
    rows = [
        {
            "run": run,
            "progress": selectors.run_progress(run=run),
            "admin_url": _admin_url(run),
            "previous": selectors.run_previous(run=run, runs=listed),
            "may_change": selectors.run_may_change(run=run, user=request.user),
        }
        for run in listed
    ]
    context = {"rows": rows, "catalogs": catalogs, "shown_catalog": shown}
    return render(request, "heatmap/runs.html", context)


@require_GET
def run_progress(request: HtmxHttpRequest, run_id: str) -> HttpResponse:
    """One run's page: its live progress panel, facts, report download and admin link."""
    run = run_or_404(run_id)
    may_change = selectors.run_may_change(run=run, user=request.user)
    context = {"run": run, "may_change": may_change}
    if request.htmx:
        # Every page polling this run's progress shares one render per state of the run.
        return shared_fragment(
            request,
            run_state(run, may_change=may_change),
            lambda: render(
                request,
                "heatmap/progress.html#progress-body",
                {**context, "progress": selectors.run_progress(run=run), **shared_context()},
            ),
        )
    context["progress"] = selectors.run_progress(run=run)
    context["admin_url"] = _admin_url(run)
    scope = catalog_scope_or_404(request, run=run)
    catalog = scope.load()
    filters = selectors.HeatmapFilter(run=run, catalog_id=scope.catalog_id, include_removed=True)
    table = selectors.heatmap_overview_table(catalog=catalog, filters=filters, agreement=False)
    table.rows = [row for row in table.rows if row.models]
    context.update(
        {
            "catalog": catalog,
            "catalog_scope": scope,
            "table": table,
            "filters": filters,
            "filter_qs": f"?run={run.run_id}",
            "pin_qs": f"&run={run.run_id}",
            "run_domains": [d for d in catalog.domains if run.covers_domain(d)],
        }
    )
    return render(request, "heatmap/run.html", context)


@require_GET
def run_report(request: HttpRequest, run_id: str) -> HttpResponseBase:
    """The run's report JSON; a missing file is first rewritten from the run's rows."""
    run = run_or_404(run_id)
    path = reports.run_report_path(run)
    if not path.is_file():
        path = reports.run_report_sync(run=run)
    filename = f"skillcheck-{run.run_id}.json"
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename)


@require_GET
def run_report_markdown(request: HttpRequest, run_id: str) -> HttpResponse:
    """The run's Markdown summary (``run_scored --markdown``), for a pull request or a note."""
    run = run_or_404(run_id)
    response = HttpResponse(
        exports.run_markdown_text(run=run), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="skillcheck-{run.run_id}.md"'
    return response


# --- The run controls -------------------------------------------------------------------------


@require_GET
def run_plan(request: HtmxHttpRequest) -> HttpResponse:
    """The run controls' live plan line: "N domains × M pairs × K models = T tasks", the cost
    estimate, and the confirmation box when the estimate is above the threshold."""
    catalog = catalog_scope_or_404(request).load()
    domains, models = request.GET.getlist("domains"), request.GET.getlist("models")
    try:
        bounded_names(domains, "domains")
        bounded_names(models, "models")
    except BadRequestBody as exc:
        context: dict[str, Any] = {"plan": plans.PlanPreview(str(exc), error=True)}
        return render(request, "heatmap/run-plan.html", context, status=exc.status)
    preview = public_preview(
        plans.run_plan_preview(
            catalog=catalog,
            domains=domains,
            models=models,
            concurrency=concurrency_value(request.GET.get("concurrency")),
            use_cache=not request.GET.get("no_cache"),
            batch=bool(request.GET.get("batch")),
            epochs=number_value(request.GET.get("epochs"), 1),
        )
    )
    context = {"plan": preview, "confirmed": request.GET.get("confirm_cost")}
    return render(request, "heatmap/run-plan.html", context)


@require_POST
def run_start_view(request: HtmxHttpRequest) -> HttpResponse:
    """Start a run from the controls. "Run all" means every domain and every available model
    (the page ticks them all first, so the plan line shows it); a run estimated above the
    confirmation threshold starts only with the confirmation of that estimate.

    The run audits the catalog the page shows (the form's ``catalog``)."""
    scope = catalog_scope_or_404(request, data=request.POST)
    if scope.cannot_run:
        messages.error(request, f"{capfirst(scope.cannot_run)}.")
        return redirect_back(request)
    catalog = scope.load()
    available = [c.name for c in auditors.model_choices() if c.available]
    if request.POST.get("all"):
        domains, models = list(catalog.domains), available
    else:
        domains, models = request.POST.getlist("domains"), request.POST.getlist("models")
    run_form_remember(
        request,
        domains,
        models,
        request.POST.get("concurrency") or settings.SKILLCHECK_DEFAULT_CONCURRENCY,
    )
    try:
        form = RunStartForm.from_post(request.POST, available_models=available)
        run = form.start(catalog=catalog, started_by=request.user)
    except (RunRequestError, ValueError) as exc:
        messages.error(request, public_text(str(exc)))
        return redirect_back(request)
    messages.success(request, f"Run {run.run_id} started: {run.total} tasks.")
    return redirect_back(request)


@require_POST
def rerun_stale_view(request: HtmxHttpRequest) -> HttpResponse:
    """Start a run of exactly the tasks whose shown result is stale (of one domain, or all)."""
    scope = catalog_scope_or_404(request, data=request.POST)
    if scope.cannot_run:
        messages.error(request, f"{capfirst(scope.cannot_run)}.")
        return redirect_back(request)
    catalog = scope.load()
    domain = request.POST.get("domain") or None
    if domain:
        domain_or_404(catalog, domain)
    try:
        run = rerun_stale.run_start_stale(catalog=catalog, domain=domain, started_by=request.user)
    except RunRequestError as exc:
        messages.error(request, public_text(str(exc)))
    else:
        messages.success(request, f"Run {run.run_id} started: {run.total} stale tasks.")
    return redirect_back(request)


# --- A run's buttons: cancel, resume, retry errors --------------------------------------------


@require_POST
def run_cancel_view(request: HtmxHttpRequest, run_id: str) -> HttpResponse:
    run = run_to_change(request, run_id)
    if run.is_active:
        cancel.run_cancel(run=run)
        run.refresh_from_db()
    context = {"run": run, "progress": selectors.run_progress(run=run), "may_change": True}
    if request.htmx:
        return render(request, "heatmap/progress.html#progress-body", context)
    return redirect_back(request)


@require_POST
def run_resume_view(request: HtmxHttpRequest, run_id: str) -> HttpResponse:
    """Resume, then show the page it was asked from again (htmx: reload it in place).

    The button may sit in a panel pushed over the WebSocket, which has no ``next`` to go back
    to, so htmx reloads the current page instead of following a redirect.
    """
    return _restart(request, run_id, resume.run_restart, "Run {} resumed.")


@require_POST
def run_retry_errors_view(request: HtmxHttpRequest, run_id: str) -> HttpResponse:
    """Run only the failed tasks of a run again, into it; then as Resume does."""
    return _restart(
        request, run_id, retry.run_retry_errors_start, "Run {}: retrying its failed tasks."
    )


def _restart(
    request: HtmxHttpRequest, run_id: str, start: Callable[..., Run], done: str
) -> HttpResponse:
    """Resume and Retry errors: start, say how it went (without server paths), go back."""
    run = run_to_change(request, run_id)
    try:
        run = start(run_id=run.run_id)
    except (RunRequestError, ValueError) as exc:
        messages.error(request, public_text(str(exc)))
    else:
        messages.success(request, done.format(run.run_id))
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect_back(request)
