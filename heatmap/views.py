"""Pages and htmx fragments of the heatmap. Thin: reads come from ``selectors``.

Each page view also serves its fragment (a ``partialdef``) when htmx asks. While a run is
active the fragments carry an ``every 5s`` poll; once none is, the answer is
``HttpResponseStopPolling`` (286), which htmx still swaps in but then stops polling.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
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
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh, HttpResponseStopPolling
from django_htmx.middleware import HtmxDetails

from heatmap import selectors
from heatmap.forms import RunStartForm, concurrency_value
from heatmap.models import Run
from heatmap.security import (
    BadRequestBody,
    bounded_names,
    public_catalog_warnings,
    public_model_choices,
    public_text,
)
from heatmap.services import auditors, plans, reports, runs
from heatmap.services.plans import RunRequestError


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


def _public_preview(preview: plans.PlanPreview) -> plans.PlanPreview:
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
    concurrency = concurrency_value(remembered.get("concurrency"))
    preview = _public_preview(
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


CATALOG_NOTICE_SESSION_KEY = "catalog_notice_dismissed"


def _catalog_notice_key(warnings: list[str]) -> str:
    """Which warnings were dismissed: a changed catalog that warns anew shows the notice again."""
    return hashlib.sha256("\n".join(warnings).encode()).hexdigest()[:16]


def _catalog_notice(request: HttpRequest, catalog) -> list[str]:
    """The catalog's warnings for the overview's notice, unless this browser dismissed them."""
    warnings = catalog.warnings
    if not warnings:
        return []
    dismissed = request.session.get(CATALOG_NOTICE_SESSION_KEY)
    return [] if dismissed == _catalog_notice_key(warnings) else public_catalog_warnings(catalog)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return redirect("heatmap:overview")


# --- Filters in the query string ----------------------------------------------------------

FILTER_KEYS = ("q", "model", "group", "severity", "failures", "run", "sort")


def _heatmap_filter(request: HttpRequest, catalog) -> selectors.HeatmapFilter:
    """The view's filters from the query string (unknown values are ignored, an unknown run
    is a 404: a shared link to a deleted run should say so, not show something else)."""
    run = None
    if run_id := request.GET.get("run", ""):
        run = _run_or_404(run_id)
    group = request.GET.get("group", "")
    severity = request.GET.get("severity", "").upper()
    return selectors.HeatmapFilter(
        models=tuple(m for m in request.GET.getlist("model") if m),
        group=group if group in catalog.taxonomy.groups else "",
        severity=severity if severity in selectors.SEVERITIES else "",
        failures=request.GET.get("failures", "") in ("1", "on", "true"),
        query=request.GET.get("q", "").strip(),
        run=run,
        sort=sort if (sort := request.GET.get("sort", "")) in selectors.SORTS else "",
    )


def _query(request: HttpRequest, *, keep: tuple[str, ...] = FILTER_KEYS, **extra) -> str:
    """The filters of this request as a query string ("?…", or "" when there are none)."""
    params = QueryDict(mutable=True)
    for key in keep:
        values = [v for v in request.GET.getlist(key) if v]
        if values:
            params.setlist(key, values)
    for key, value in extra.items():
        params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else ""


def _filter_context(request: HttpRequest, catalog, filters: selectors.HeatmapFilter) -> dict:
    return {
        "filters": filters,
        "filter_qs": _query(request),
        "pin_qs": f"&run={filters.run.run_id}" if filters.run else "",
        "csv_url": _query(request, keep=(*FILTER_KEYS, "domain"), format="csv"),
        "filter_models": selectors.model_order(
            [c.name for c in auditors.model_choices()] + list(filters.models)
        ),
        "filter_groups": [
            (gid, name) for gid, name in catalog.taxonomy.groups.items() if gid != "BP"
        ],
        "severities": selectors.SEVERITIES,
        # The overview's column headers sort by their column, keeping the other filters.
        "sort_qs": {
            key: _query(request, keep=(*unsorted, "domain"), **({"sort": key} if key else {}))
            for key in ("", *selectors.SORTS)
            for unsorted in [tuple(k for k in FILTER_KEYS if k != "sort")]
        },
    }


def _csv_response(filename: str, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return response


CSV_HEADER = (
    "domain",
    "scenario",
    "skill",
    "model",
    "check",
    "result",
    "severity",
    "run_id",
    "finished_at",
)


def _csv_rows(catalog, domain_ids, filters: selectors.HeatmapFilter):
    """One row per cell result a matrix shows (not-run cells have no run and no time)."""
    for domain_id in domain_ids:
        matrix = selectors.heatmap_domain_matrix(
            catalog=catalog, domain_id=domain_id, filters=filters
        )
        times = selectors.heatmap_task_times(
            scenario_ids=[s.id for s in matrix.scenarios], filters=filters
        )
        for row in matrix.rows:
            for cell in row.cells:
                for r in cell.results:
                    run_id, finished = times.get(
                        (cell.scenario_id, r.skill, cell.model), ("", None)
                    )
                    yield (
                        domain_id,
                        cell.scenario_id,
                        r.skill,
                        cell.model,
                        row.check.id,
                        r.result,
                        row.check.severity,
                        run_id,
                        finished.isoformat() if finished else "",
                    )


# --- Overview -------------------------------------------------------------------------------


@require_GET
def overview(request: HtmxHttpRequest) -> HttpResponse:
    catalog = selectors.catalog_current()
    domain = request.GET.get("domain") or None
    if domain:
        _domain_or_404(catalog, domain)
    filters = _heatmap_filter(request, catalog)
    if request.GET.get("format") == "csv":
        domains = [domain] if domain else list(catalog.domains)
        return _csv_response("skillcheck-overview.csv", _csv_rows(catalog, domains, filters))
    if request.htmx.target == "agreement":
        return _overview_agreement(request, catalog, domain, filters)
    active = selectors.run_active()
    table = selectors.heatmap_overview_table(
        catalog=catalog, domain=domain, filters=filters, agreement=False
    )
    context: dict[str, Any] = {
        "catalog": catalog,
        "domain": domain,
        "table": table,
        "rows": table.rows,
        "has_results": table.has_results,
        "stale_total": sum(row.stale for row in table.rows),
        "active_run": active,
        "fragment": "overview-table",
        **_filter_context(request, catalog, filters),
    }
    if not request.htmx:
        context.update(_run_controls_context(request, catalog))
        context["recent_runs"] = selectors.run_list(limit=30)
        context["catalog_notice"] = _catalog_notice(request, catalog)
        if active:
            context["progress"] = selectors.run_progress(run=active)
    return _fragment(request, "heatmap/overview.html", context, active is not None)


def _overview_agreement(
    request: HtmxHttpRequest, catalog, domain: str | None, filters
) -> HttpResponse:
    """The overview's model agreement, asked for by the page once the table is in: after new
    data it is the dearest part of the overview (every newest verdict is grouped), so the
    table does not wait for it."""
    table = selectors.heatmap_overview_table(catalog=catalog, domain=domain, filters=filters)
    context = {
        "table": table,
        "disputed": selectors.heatmap_disputed_checks(catalog=catalog, version=table.version),
    }
    return render(request, "heatmap/overview.html#agreement", context)


@require_POST
def catalog_notice_dismiss(request: HtmxHttpRequest) -> HttpResponse:
    """Hide the overview's catalog notice for this browser until the warnings change."""
    catalog = selectors.catalog_current()
    request.session[CATALOG_NOTICE_SESSION_KEY] = _catalog_notice_key(catalog.warnings)
    if request.htmx:
        return HttpResponse("")  # swapped in place of the notice
    return redirect(_next_url(request))


# --- Domain pages: the model-check matrix, the BP matrix, and their cell details -------------


def _domain_or_404(catalog, domain_id: str) -> None:
    if domain_id not in catalog.domains:
        raise Http404(f"unknown domain {domain_id!r}")


def _run_covers(run: Run, domain_id: str) -> bool:
    return not run.domains or domain_id in run.domains


def _matrix_context(request: HttpRequest, catalog, domain_id: str) -> tuple[dict, bool]:
    filters = _heatmap_filter(request, catalog)
    active = selectors.run_active()
    covers = active is not None and filters.run in (None, active) and _run_covers(active, domain_id)
    matrix = selectors.heatmap_domain_matrix(
        catalog=catalog,
        domain_id=domain_id,
        extra_models=active.models if active is not None and covers else (),
        filters=filters,
    )
    context = {
        "catalog": catalog,
        "domain": domain_id,
        "matrix": matrix,
        "view": "checks",
        "active_run": active,
        "fragment": "domain-matrix",
        **_filter_context(request, catalog, filters),
    }
    return context, active is not None


def _bp_context(request: HttpRequest, catalog, domain_id: str) -> dict:
    filters = _heatmap_filter(request, catalog)
    lint = selectors.lint_matrix(catalog=catalog)
    bp_checks = list(catalog.taxonomy.static_checks)
    needle = filters.query.lower()
    rows = []
    for skill in catalog.domains[domain_id].skills:
        if needle and needle not in skill.lower():
            continue
        results = getattr(lint.get(skill), "results", {}) or {}
        cells = [(c, results.get(c.id, selectors.NOT_RUN)) for c in bp_checks]
        if filters.failures and not any(r == "fail" for _, r in cells):
            continue
        rows.append((skill, cells))
    return {
        "catalog": catalog,
        "domain": domain_id,
        "view": "bp",
        "bp_checks": bp_checks,
        "rows": rows,
        "fragment": "domain-matrix",
        **_filter_context(request, catalog, filters),
    }


def _domain_page(request: HtmxHttpRequest, context: dict, active: bool = False) -> HttpResponse:
    if active and not request.htmx:
        context["progress"] = selectors.run_progress(run=context["active_run"])
    if not request.htmx:
        context["recent_runs"] = selectors.run_list(limit=30)
    return _fragment(request, "heatmap/domain.html", context, active)


@require_GET
def domain_view(request: HtmxHttpRequest, domain_id: str) -> HttpResponse:
    catalog = selectors.catalog_current()
    _domain_or_404(catalog, domain_id)
    if request.GET.get("format") == "csv":
        filters = _heatmap_filter(request, catalog)
        rows = _csv_rows(catalog, [domain_id], filters)
        return _csv_response(f"skillcheck-{domain_id}.csv", rows)
    context, active = _matrix_context(request, catalog, domain_id)
    return _domain_page(request, context, active)


@require_GET
def bp_matrix(request: HtmxHttpRequest, domain_id: str) -> HttpResponse:
    """The linter's BP matrix: swapped in by htmx, or the domain page showing it when opened."""
    catalog = selectors.catalog_current()
    _domain_or_404(catalog, domain_id)
    context = _bp_context(request, catalog, domain_id)
    if request.htmx:
        return render(request, "heatmap/domain.html#domain-matrix", context)
    return _domain_page(request, context)


def _cell_detail_context(request: HttpRequest, catalog, domain_id: str) -> dict:
    scenario_id = request.GET.get("scenario", "")
    check_id = request.GET.get("check", "")
    try:
        scenario = catalog.scenario(scenario_id)
    except KeyError:
        raise Http404(f"unknown scenario {scenario_id!r}") from None
    check = catalog.taxonomy.by_id.get(check_id)
    if check is None:
        raise Http404(f"unknown check {check_id!r}")
    filters = _heatmap_filter(request, catalog)
    details = selectors.heatmap_cell_detail(
        catalog=catalog, scenario_id=scenario_id, check_id=check_id, filters=filters
    )
    by_model: dict[str, list] = {}
    for detail in details:
        by_model.setdefault(detail.model, []).append(detail)
    return {
        "scenario": scenario,
        "check": check,
        "details": details,
        "by_model": list(by_model.items()),
        "clicked_model": request.GET.get("clicked", ""),
        "labels": selectors.skill_labels(scenario),
    }


@require_GET
def cell_detail(request: HtmxHttpRequest, domain_id: str) -> HttpResponse:
    """Every model side by side for one (scenario, check): the panel for htmx, or the domain
    page with the panel open when the URL is opened directly."""
    catalog = selectors.catalog_current()
    _domain_or_404(catalog, domain_id)
    detail = _cell_detail_context(request, catalog, domain_id)
    if request.htmx:
        return render(request, "heatmap/cell-detail.html", {"domain": domain_id, **detail})
    context, active = _matrix_context(request, catalog, domain_id)
    context["detail"] = detail
    return _domain_page(request, context, active)


@require_GET
def bp_finding(request: HtmxHttpRequest, domain_id: str) -> HttpResponse:
    """The linter's findings (file and line) for one skill and BP check."""
    catalog = selectors.catalog_current()
    _domain_or_404(catalog, domain_id)
    skill = request.GET.get("skill", "")
    check = catalog.taxonomy.by_id.get(request.GET.get("check", ""))
    if skill not in catalog.skills or check is None or check.group != "BP":
        raise Http404("unknown skill or BP check")
    findings = selectors.lint_findings(catalog=catalog, skill=skill, check_id=check.id)
    finding = {"skill": skill, "check": check, "findings": findings}
    if request.htmx:
        return render(request, "heatmap/bp-finding.html", {"domain": domain_id, **finding})
    context = _bp_context(request, catalog, domain_id)
    context["finding"] = finding
    return _domain_page(request, context)


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
def skill_view(request: HttpRequest, name: str) -> HttpResponse:
    """One skill over time: pass % per model per run (an SVG chart), its matrix, lint, runs."""
    catalog = selectors.catalog_current()
    history = selectors.skill_history(catalog=catalog, skill=name)
    if name not in catalog.skills and not history.runs:
        raise Http404(f"unknown skill {name!r}")
    context = {"skill": name, "history": history, "chart": history.chart()}
    return render(request, "heatmap/skill.html", context)


@require_GET
def checks_file(request: HttpRequest) -> HttpResponse:
    """The catalog's checks.yaml with numbered lines, so a check can be linked to its line."""
    catalog = selectors.catalog_current()
    path = catalog.taxonomy.path
    text = path.read_text(encoding="utf-8") if path and path.is_file() else ""
    context = {"lines": text.splitlines(), "checks": catalog.taxonomy.checks}
    return render(request, "heatmap/checks-file.html", context)


@require_POST
def rerun_stale_view(request: HtmxHttpRequest) -> HttpResponse:
    """Start a run of exactly the tasks whose shown result is stale (of one domain, or all)."""
    catalog = selectors.catalog_current()
    domain = request.POST.get("domain") or None
    if domain:
        _domain_or_404(catalog, domain)
    try:
        run = runs.run_start_stale(catalog=catalog, domain=domain)
    except RunRequestError as exc:
        messages.error(request, public_text(str(exc)))
    else:
        messages.success(request, f"Run {run.run_id} started: {run.total} stale tasks.")
    return redirect(_next_url(request))


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
        context: dict[str, Any] = {"plan": plans.PlanPreview(str(exc), error=True)}
        return render(request, "heatmap/run-plan.html", context, status=exc.status)
    preview = _public_preview(
        plans.run_plan_preview(
            catalog=catalog,
            domains=domains,
            models=models,
            concurrency=concurrency_value(request.GET.get("concurrency")),
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
        run = form.start(catalog=catalog)
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
    catalog = selectors.catalog_current()
    filters = selectors.HeatmapFilter(run=run)
    table = selectors.heatmap_overview_table(catalog=catalog, filters=filters, agreement=False)
    table.rows = [row for row in table.rows if row.models]
    context.update(
        {
            "catalog": catalog,
            "table": table,
            "filters": filters,
            "filter_qs": f"?run={run.run_id}",
            "pin_qs": f"&run={run.run_id}",
            "run_domains": [d for d in catalog.domains if _run_covers(run, d)],
        }
    )
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
    return _restart(request, run_id, runs.run_restart, "Run {} resumed.")


@require_POST
def run_retry_errors_view(request: HtmxHttpRequest, run_id: str) -> HttpResponse:
    """Run only the failed tasks of a run again, into it; then as Resume does."""
    return _restart(
        request, run_id, runs.run_retry_errors_start, "Run {}: retrying its failed tasks."
    )


def _restart(
    request: HtmxHttpRequest, run_id: str, start: Callable[..., Run], done: str
) -> HttpResponse:
    """Resume and Retry errors: start, say how it went (without server paths), go back."""
    run = _run_or_404(run_id)
    try:
        run = start(run_id=run.run_id)
    except (RunRequestError, ValueError) as exc:
        messages.error(request, public_text(str(exc)))
    else:
        messages.success(request, done.format(run.run_id))
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
