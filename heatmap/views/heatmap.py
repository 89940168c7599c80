"""The heatmap: the overview, a domain's model-check and BP matrices, and their cell details.

Every page here reads its filters from the query string (``views.filters``) and answers
``?format=csv`` with what it shows.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from heatmap import selectors
from heatmap.models import Run
from heatmap.render_cache import shared_context, shared_fragment
from heatmap.security import public_catalog_warnings
from heatmap.views.csv_export import csv_response, csv_rows
from heatmap.views.filters import filter_context, heatmap_filter, query_string, scope_context
from heatmap.views.fragments import HtmxHttpRequest, render_fragment
from heatmap.views.lookups import catalog_scope_or_404, domain_or_404
from heatmap.views.redirects import redirect_back
from heatmap.views.run_controls import run_controls_context
from skillcheck.catalog import Catalog
from skillcheck.spreadsheet import download_filename

CATALOG_NOTICE_SESSION_KEY = "catalog_notice_dismissed"


def _catalog_notice_key(warnings: list[str]) -> str:
    """Which warnings were dismissed: a changed catalog that warns anew shows the notice again."""
    return hashlib.sha256("\n".join(warnings).encode()).hexdigest()[:16]


def _catalog_notice(request: HttpRequest, catalog: Catalog) -> list[str]:
    """The catalog's warnings for the overview's notice, unless this browser dismissed them."""
    warnings = catalog.warnings
    if not warnings:
        return []
    dismissed = request.session.get(CATALOG_NOTICE_SESSION_KEY)
    return [] if dismissed == _catalog_notice_key(warnings) else public_catalog_warnings(catalog)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return redirect("heatmap:overview")


# --- Overview -------------------------------------------------------------------------------


def _live_state(
    scope: selectors.CatalogScope, catalog: Catalog, active: Run | None
) -> tuple[object, ...]:
    """What a live fragment of the catalog's results is rendered from, besides its URL: the
    catalog's files, its data version and the active run (``render_cache.shared_fragment``)."""
    catalog_id = scope.catalog_id
    version = selectors.results_version(catalog_id=catalog_id)
    active_run = (active.pk, active.catalog_id) if active is not None else None
    return (catalog_id, selectors.catalog_digest(catalog=catalog), version, active_run)


@require_GET
def overview(request: HtmxHttpRequest) -> HttpResponse:
    scope = catalog_scope_or_404(request)
    catalog = scope.load()
    domain = request.GET.get("domain") or None
    if domain:
        domain_or_404(catalog, domain)
    filters = heatmap_filter(request, catalog, scope)
    if request.GET.get("format") == "csv":
        domains = [domain] if domain else list(catalog.domains)
        return csv_response("skillcheck-overview.csv", csv_rows(catalog, domains, filters))
    active = selectors.run_active()
    if request.htmx:
        # Every viewer polling this table (or asking for its agreement) shares one render.
        return shared_fragment(
            request,
            _live_state(scope, catalog, active),
            lambda: _overview_page(request, scope, catalog, domain, filters, active),
        )
    return _overview_page(request, scope, catalog, domain, filters, active)


def _overview_page(
    request: HtmxHttpRequest,
    scope: selectors.CatalogScope,
    catalog: Catalog,
    domain: str | None,
    filters: selectors.HeatmapFilter,
    active: Run | None,
) -> HttpResponse:
    if request.htmx.target == "agreement":
        return _overview_agreement(request, catalog, domain, filters)
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
        **filter_context(request, catalog, filters),
        **scope_context(scope),
    }
    if request.htmx:
        context.update(shared_context())
    else:
        context.update(run_controls_context(request, catalog))
        context["recent_runs"] = selectors.run_list(limit=30, catalog_id=scope.catalog_id)
        context["catalog_notice"] = _catalog_notice(request, catalog)
        if active:
            context["progress"] = selectors.run_progress(run=active)
    return render_fragment(request, "heatmap/overview.html", context, active is not None)


def _overview_agreement(
    request: HtmxHttpRequest,
    catalog: Catalog,
    domain: str | None,
    filters: selectors.HeatmapFilter,
) -> HttpResponse:
    """The overview's model agreement, asked for by the page once the table is in: after new
    data it is the dearest part of the overview (every newest verdict is grouped), so the
    table does not wait for it."""
    table = selectors.heatmap_overview_table(catalog=catalog, domain=domain, filters=filters)
    disputed = selectors.heatmap_disputed_checks(
        catalog=catalog, version=table.version, catalog_id=filters.catalog_id
    )
    context = {
        "table": table,
        "disputed": disputed,
        "catalog_qs": query_string(request, keep=("catalog",)),
    }
    return render(request, "heatmap/overview.html#agreement", context)


@require_POST
def catalog_notice_dismiss(request: HtmxHttpRequest) -> HttpResponse:
    """Hide the overview's catalog notice for this browser until the warnings change."""
    catalog = catalog_scope_or_404(request).load()
    request.session[CATALOG_NOTICE_SESSION_KEY] = _catalog_notice_key(catalog.warnings)
    if request.htmx:
        return HttpResponse("")  # swapped in place of the notice
    return redirect_back(request)


# --- Domain pages: the model-check matrix, the BP matrix, and their cell details -------------


def _matrix_context(
    request: HttpRequest,
    scope: selectors.CatalogScope,
    catalog: Catalog,
    domain_id: str,
    active: Run | None,
) -> dict:
    filters = heatmap_filter(request, catalog, scope)
    covers = (
        active is not None
        and active.catalog_id == scope.catalog_id
        and filters.run in (None, active)
        and active.covers_domain(domain_id)
    )
    matrix = selectors.heatmap_domain_matrix(
        catalog=catalog,
        domain_id=domain_id,
        extra_models=active.models if active is not None and covers else (),
        filters=filters,
    )
    return {
        "catalog": catalog,
        "domain": domain_id,
        "matrix": matrix,
        "view": "checks",
        "active_run": active,
        "fragment": "domain-matrix",
        **filter_context(request, catalog, filters),
        **scope_context(scope),
    }


def _bp_context(
    request: HttpRequest, scope: selectors.CatalogScope, catalog: Catalog, domain_id: str
) -> dict:
    filters = heatmap_filter(request, catalog, scope)
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
        **filter_context(request, catalog, filters),
        **scope_context(scope),
    }


def _domain_page(request: HtmxHttpRequest, context: dict, active: bool = False) -> HttpResponse:
    if active and not request.htmx:
        context["progress"] = selectors.run_progress(run=context["active_run"])
    if not request.htmx:
        context["recent_runs"] = selectors.run_list(
            limit=30, catalog_id=context["filters"].catalog_id
        )
    return render_fragment(request, "heatmap/domain.html", context, active)


@require_GET
def domain_view(request: HtmxHttpRequest, domain_id: str) -> HttpResponse:
    scope = catalog_scope_or_404(request)
    catalog = scope.load()
    domain_or_404(catalog, domain_id)
    if request.GET.get("format") == "csv":
        filters = heatmap_filter(request, catalog, scope)
        rows = csv_rows(catalog, [domain_id], filters)
        return csv_response(download_filename("skillcheck", domain_id, suffix=".csv"), rows)
    active = selectors.run_active()
    if request.htmx:
        # Every viewer polling this matrix with the same filters shares one render.
        return shared_fragment(
            request,
            _live_state(scope, catalog, active),
            lambda: _domain_page(
                request,
                {**_matrix_context(request, scope, catalog, domain_id, active), **shared_context()},
                active is not None,
            ),
        )
    context = _matrix_context(request, scope, catalog, domain_id, active)
    return _domain_page(request, context, active is not None)


@require_GET
def bp_matrix(request: HtmxHttpRequest, domain_id: str) -> HttpResponse:
    """The linter's BP matrix: swapped in by htmx, or the domain page showing it when opened."""
    scope = catalog_scope_or_404(request)
    catalog = scope.load()
    domain_or_404(catalog, domain_id)
    context = _bp_context(request, scope, catalog, domain_id)
    if request.htmx:
        return render(request, "heatmap/domain.html#domain-matrix", context)
    return _domain_page(request, context)


def _cell_detail_context(
    request: HttpRequest, scope: selectors.CatalogScope, catalog: Catalog, domain_id: str
) -> dict:
    scenario_id = request.GET.get("scenario", "")
    check_id = request.GET.get("check", "")
    try:
        scenario = catalog.scenario(scenario_id)
    except KeyError:
        raise Http404(f"unknown scenario {scenario_id!r}") from None
    check = catalog.taxonomy.by_id.get(check_id)
    if check is None:
        raise Http404(f"unknown check {check_id!r}")
    filters = heatmap_filter(request, catalog, scope)
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
    scope = catalog_scope_or_404(request)
    catalog = scope.load()
    domain_or_404(catalog, domain_id)
    detail = _cell_detail_context(request, scope, catalog, domain_id)
    if request.htmx:
        context = {"domain": domain_id, "catalog_scope": scope, **detail}
        return render(request, "heatmap/cell-detail.html", context)
    active = selectors.run_active()
    context = _matrix_context(request, scope, catalog, domain_id, active)
    context["detail"] = detail
    return _domain_page(request, context, active is not None)


@require_GET
def bp_finding(request: HtmxHttpRequest, domain_id: str) -> HttpResponse:
    """The linter's findings (file and line) for one skill and BP check."""
    scope = catalog_scope_or_404(request)
    catalog = scope.load()
    domain_or_404(catalog, domain_id)
    skill = request.GET.get("skill", "")
    check = catalog.taxonomy.by_id.get(request.GET.get("check", ""))
    if skill not in catalog.skills or check is None or check.group != "BP":
        raise Http404("unknown skill or BP check")
    findings = selectors.lint_findings(catalog=catalog, skill=skill, check_id=check.id)
    finding = {"skill": skill, "check": check, "findings": findings}
    if request.htmx:
        context = {"domain": domain_id, "catalog_scope": scope, **finding}
        return render(request, "heatmap/bp-finding.html", context)
    context = _bp_context(request, scope, catalog, domain_id)
    context["finding"] = finding
    return _domain_page(request, context)
