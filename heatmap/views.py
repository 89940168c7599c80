"""Pages and htmx fragments of the heatmap. Thin: reads come from ``selectors``.

Each page view also serves its fragment (a ``partialdef``) when htmx asks. While a run is
active the fragments carry an ``every 5s`` poll; once none is, the answer is
``HttpResponseStopPolling`` (286), which htmx still swaps in but then stops polling.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
)
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh, HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

from heatmap import selectors
from heatmap.forms import RunStartForm
from heatmap.models import Run
from heatmap.security import BadRequestBody, bounded_names, public_model_choices, public_text
from heatmap.services import auditors, reports, runs
from heatmap.services.runs import RunRequestError


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _poll_seconds() -> int:
    """The poll period while a run is active (5 s; browser tests shorten it)."""
    return settings.HEATMAP_POLL_S


def _fragment(request: HtmxHttpRequest, template: str, context: dict, active: bool) -> HttpResponse:
    """Full page, or its fragment for htmx; a fragment with no active run stops the polling."""
    context["poll_s"] = _poll_seconds()
    if not request.htmx:
        return render(request, template, context)
    response = render(request, f"{template}#{context['fragment']}", context)
    if active:
        return response
    return HttpResponseStopPolling(response.content)


RUN_FORM_SESSION_KEY = "heatmap:run-form"


def _public_preview(preview: runs.PlanPreview) -> runs.PlanPreview:
    """The plan line as shown: an error naming an unavailable model says why, without paths."""
    return replace(preview, text=public_text(preview.text))


def _run_form_remember(request: HttpRequest, domains: list[str], models: list[str], concurrency):
    """Keep the run controls' selection for the next page (after a run, an error, a refusal)."""
    request.session[RUN_FORM_SESSION_KEY] = {
        "domains": list(domains),
        "models": list(models),
        "concurrency": str(concurrency),
    }


def _run_controls_context(request: HttpRequest, catalog) -> dict:
    choices = public_model_choices()
    available = [c.name for c in choices if c.available]
    remembered = request.session.get(RUN_FORM_SESSION_KEY) or {}
    selected_domains = [d for d in remembered.get("domains", []) if d in catalog.domains]
    selected_models = [m for m in remembered.get("models", []) if m in available]
    if not remembered:
        selected_domains = list(catalog.domains)
        selected_models = ["heuristic"] if "heuristic" in available else available[:1]
    preview = _public_preview(
        runs.run_plan_preview(catalog=catalog, domains=selected_domains, models=selected_models)
    )
    return {
        "model_choices": choices,
        "selected_domains": set(selected_domains),
        "selected_models": set(selected_models),
        "concurrency": remembered.get("concurrency") or settings.SKILLCHECK_DEFAULT_CONCURRENCY,
        "plan": preview,
    }


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return redirect("heatmap:overview")


@require_GET
def overview(request: HtmxHttpRequest) -> HttpResponse:
    catalog = selectors.catalog_current()
    domain = request.GET.get("domain") or None
    if domain and domain not in catalog.domains:
        raise Http404(f"unknown domain {domain!r}")
    query = request.GET.get("q", "")
    active = selectors.run_active()
    rows = selectors.heatmap_overview(catalog=catalog, domain=domain, query=query)
    context: dict[str, Any] = {
        "catalog": catalog,
        "domain": domain,
        "query": query,
        "rows": rows,
        "has_results": any(row.models for row in rows),
        "active_run": active,
        "fragment": "overview-table",
    }
    if not request.htmx:
        context.update(_run_controls_context(request, catalog))
        if active:
            context["progress"] = selectors.run_progress(run=active)
    return _fragment(request, "heatmap/overview.html", context, active is not None)


@require_GET
def domain_view(request: HtmxHttpRequest, domain_id: str) -> HttpResponse:
    catalog = selectors.catalog_current()
    if domain_id not in catalog.domains:
        raise Http404(f"unknown domain {domain_id!r}")
    active = selectors.run_active()
    matrix = selectors.heatmap_domain_matrix(
        catalog=catalog,
        domain_id=domain_id,
        extra_models=active.models if active and _run_covers(active, domain_id) else (),
    )
    context = {
        "catalog": catalog,
        "domain": domain_id,
        "matrix": matrix,
        "active_run": active,
        "fragment": "domain-matrix",
    }
    if active and not request.htmx:
        context["progress"] = selectors.run_progress(run=active)
    return _fragment(request, "heatmap/domain.html", context, active is not None)


def _run_covers(run: Run, domain_id: str) -> bool:
    return not run.domains or domain_id in run.domains


@require_GET
def bp_matrix(request: HtmxHttpRequest, domain_id: str) -> HttpResponse:
    catalog = selectors.catalog_current()
    if domain_id not in catalog.domains:
        raise Http404(f"unknown domain {domain_id!r}")
    lint = selectors.lint_matrix(catalog=catalog)
    skills = list(catalog.domains[domain_id].skills)
    bp_checks = list(catalog.taxonomy.static_checks)
    rows = []
    if lint is not None:
        for skill in skills:
            results = getattr(lint.get(skill), "results", {}) or {}
            rows.append((skill, [(c, results.get(c.id, "notrun")) for c in bp_checks]))
    context = {
        "domain": domain_id,
        "bp_checks": bp_checks,
        "rows": rows,
        "lint_available": lint is not None,
        "lint": lint or {},
    }
    return render(request, "heatmap/bp-matrix.html", context)


@require_GET
def cell_detail(request: HtmxHttpRequest, domain_id: str) -> HttpResponse:
    catalog = selectors.catalog_current()
    scenario_id = request.GET.get("scenario", "")
    check_id = request.GET.get("check", "")
    try:
        scenario = catalog.scenario(scenario_id)
    except KeyError:
        raise Http404(f"unknown scenario {scenario_id!r}") from None
    check = catalog.taxonomy.by_id.get(check_id)
    if check is None:
        raise Http404(f"unknown check {check_id!r}")
    details = selectors.heatmap_cell_detail(
        catalog=catalog,
        scenario_id=scenario_id,
        check_id=check_id,
        model=request.GET.get("model") or None,
    )
    context = {"domain": domain_id, "scenario": scenario, "check": check, "details": details}
    template = "heatmap/cell-detail.html"
    return render(request, f"{template}#detail" if request.htmx else template, context)


def _admin_url(run: Run) -> str:
    """The run's change page in the admin, or "" when the admin is not installed."""
    try:
        return reverse("admin:heatmap_run_change", args=[run.pk])
    except NoReverseMatch:
        return ""


@require_GET
def run_list(request: HtmxHttpRequest) -> HttpResponse:
    listed = selectors.run_list()
    rows = [
        {
            "run": run,
            "progress": selectors.run_progress(run=run),
            "admin_url": _admin_url(run),
            "previous": selectors.run_previous(run=run, runs=listed),
        }
        for run in listed
    ]
    return render(request, "heatmap/runs.html", {"rows": rows})


@require_GET
def run_compare(request: HttpRequest, run_id: str, base_id: str) -> HttpResponse:
    """Two runs check by check: regressions first, then improvements, other changes."""
    new, base = _run_or_404(run_id), _run_or_404(base_id)
    comparison = selectors.run_comparison(base=base, new=new, catalog=selectors.catalog_current())
    sections = [
        (kind, title, [f for f in comparison.flips if f.kind == kind])
        for kind, title in (
            ("regression", "Regressions: a pass became fail or unclear"),
            ("improvement", "Improvements: became pass"),
            ("change", "Other changes"),
        )
    ]
    context = {"base": base, "new": new, "comparison": comparison, "sections": sections}
    return render(request, "heatmap/compare.html", context)


@require_GET
def run_plan(request: HtmxHttpRequest) -> HttpResponse:
    """The run controls' live plan line: "N domains × M pairs × K models = T tasks", the cost
    estimate, and the confirmation box when the estimate is above the threshold."""
    catalog = selectors.catalog_current()
    domains, models = request.GET.getlist("domains"), request.GET.getlist("models")
    try:
        bounded_names(domains, "domains")
        bounded_names(models, "models")
    except BadRequestBody as exc:
        context: dict[str, Any] = {"plan": runs.PlanPreview(str(exc), error=True)}
        return render(request, "heatmap/run-plan.html", context, status=exc.status)
    preview = _public_preview(
        runs.run_plan_preview(
            catalog=catalog,
            domains=domains,
            models=models,
            use_cache=not request.GET.get("no_cache"),
            batch=bool(request.GET.get("batch")),
        )
    )
    context = {"plan": preview, "confirmed": request.GET.get("confirm_cost")}
    return render(request, "heatmap/run-plan.html", context)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return reverse("heatmap:overview")


@require_POST
def run_start_view(request: HtmxHttpRequest) -> HttpResponse:
    """Start a run from the controls. "Run all" means every domain and every available model
    (the page ticks them all first, so the plan line shows it); a run estimated above the
    confirmation threshold starts only with the confirmation of that estimate."""
    catalog = selectors.catalog_current()
    available = [c.name for c in auditors.model_choices() if c.available]
    if request.POST.get("all"):
        domains, models = list(catalog.domains), available
    else:
        domains, models = request.POST.getlist("domains"), request.POST.getlist("models")
    _run_form_remember(
        request,
        domains,
        models,
        request.POST.get("concurrency") or settings.SKILLCHECK_DEFAULT_CONCURRENCY,
    )
    try:
        form = RunStartForm.from_post(request.POST, available_models=available)
        preview = runs.run_plan_preview(
            catalog=catalog,
            domains=form.domains or list(catalog.domains),
            models=form.models,
            use_cache=form.use_cache,
            batch=form.batch,
        )
        if preview.needs_confirm and request.POST.get("confirm_cost") != preview.confirm_token:
            raise RunRequestError(
                f"This run is estimated at ${preview.cost_usd:.2f}, above the "
                f"${preview.threshold_usd:.2f} that needs a confirmation: tick the "
                "confirmation box to start it."
            )
        run = runs.run_start(
            catalog=catalog,
            domains=form.domains,
            models=form.models,
            concurrency=form.concurrency,
            use_cache=form.use_cache,
            batch=form.batch,
        )
    except (RunRequestError, ValueError) as exc:
        messages.error(request, public_text(str(exc)))
        return redirect(_next_url(request))
    messages.success(request, f"Run {run.run_id} started: {run.total} tasks.")
    return redirect(_next_url(request))


def _run_or_404(run_id: str) -> Run:
    run = selectors.run_get(run_id=run_id)
    if run is None:
        raise Http404(f"no run {run_id!r}")
    return run


def _progress(request: HtmxHttpRequest, run: Run) -> HttpResponse:
    context = {"run": run, "progress": selectors.run_progress(run=run)}
    if request.htmx:
        return render(request, "heatmap/progress.html#progress-body", context)
    return redirect(_next_url(request))


@require_GET
def run_progress(request: HtmxHttpRequest, run_id: str) -> HttpResponse:
    """One run's page: its live progress panel, facts, report download and admin link."""
    run = _run_or_404(run_id)
    context = {
        "run": run,
        "progress": selectors.run_progress(run=run),
        "admin_url": _admin_url(run),
    }
    if request.htmx:
        return render(request, "heatmap/progress.html#progress-body", context)
    return render(request, "heatmap/run.html", context)


@require_POST
def run_cancel_view(request: HtmxHttpRequest, run_id: str) -> HttpResponse:
    run = _run_or_404(run_id)
    if run.is_active:
        runs.run_cancel(run=run)
        run.refresh_from_db()
    return _progress(request, run)


@require_POST
def run_resume_view(request: HtmxHttpRequest, run_id: str) -> HttpResponse:
    """Resume, then show the page it was asked from again (htmx: reload it in place).

    The button may sit in a panel pushed over the WebSocket, which has no ``next`` to go back
    to, so htmx reloads the current page instead of following a redirect.
    """
    run = _run_or_404(run_id)
    try:
        run = runs.run_restart(run_id=run.run_id)
    except (RunRequestError, ValueError) as exc:
        messages.error(request, public_text(str(exc)))
    else:
        messages.success(request, f"Run {run.run_id} resumed.")
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect(_next_url(request))


@require_POST
def run_retry_errors_view(request: HtmxHttpRequest, run_id: str) -> HttpResponse:
    """Run only the failed tasks of a run again, into it; then as Resume does."""
    run = _run_or_404(run_id)
    try:
        run = runs.run_retry_errors_start(run_id=run.run_id)
    except (RunRequestError, ValueError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Run {run.run_id}: retrying its failed tasks.")
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect(_next_url(request))


@require_GET
def run_report(request: HttpRequest, run_id: str) -> HttpResponseBase:
    """The run's report JSON; a missing file is first rewritten from the run's rows."""
    run = _run_or_404(run_id)
    path = reports.run_report_path(run)
    if not path.is_file():
        path = reports.run_report_sync(run=run)
    filename = f"skillcheck-{run.run_id}.json"
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename)
