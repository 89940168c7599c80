"""The Routing tab: which skill each model picked for each case, out of the whole catalog.

Filters (model, skill, tag, outcome, sort, run) live in the query string; an htmx request for
the case list gets only that fragment; ``?format=csv`` downloads the case list as shown.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from heatmap.selectors import CatalogScope
from heatmap.selectors.routing import CLI_UNSUPPORTED, DEFAULT_RUNS, LEXICAL, routing_run_get
from heatmap.selectors.routing_page import (
    OUTCOMES,
    RoutingFilters,
    routing_csv_rows,
    routing_page,
)
from heatmap.services.auditors import model_choices
from heatmap.services.plans import RunRequestError
from heatmap.services.routing_cancel import routing_run_cancel
from heatmap.services.routing_resume import routing_run_resume_start
from heatmap.services.routing_start import routing_run_plan, routing_run_start
from heatmap.views.csv_export import csv_response
from heatmap.views.filters import scope_context
from heatmap.views.fragments import HtmxHttpRequest, poll_seconds
from heatmap.views.lookups import catalog_scope_or_404


def _filters(request: HttpRequest) -> RoutingFilters:
    get = request.GET
    outcome = get.get("outcome", "")
    return RoutingFilters(
        model=get.get("model", ""),
        skill=get.get("skill", ""),
        tag=get.get("tag", ""),
        outcome=outcome if outcome in OUTCOMES else "",
        sort=get.get("sort", "skill"),
    )


def _router_choices() -> list[dict[str, object]]:
    """``lexical``, then every configured Claude model: routable only through the API."""
    choices: list[dict[str, object]] = [
        {"name": LEXICAL, "available": True, "reason": "offline BM25 baseline"}
    ]
    for choice in model_choices():
        if choice.name == "heuristic":
            continue
        api = choice.available and choice.via == "api"
        reason = choice.reason if api else CLI_UNSUPPORTED
        # Beside a greyed-out model, a few words; the whole reason is its tooltip.
        short = "" if api else "routing needs the Anthropic API (ANTHROPIC_API_KEY)"
        choices.append({"name": choice.name, "available": api, "reason": reason, "short": short})
    return choices


def _scope(request: HttpRequest) -> CatalogScope:
    """The catalog shown: ``?catalog=``, else the shown routing run's (``?run=`` names a
    routing run here, not an audit run), else the configured one."""
    data = request.GET.copy()
    run_id = data.pop("run", [""])[-1]
    shown = routing_run_get(run_id) if run_id else None
    if shown is not None and not data.get("catalog"):
        data["catalog"] = shown.catalog.name
    return catalog_scope_or_404(request, data=data)


@require_GET
def routing(request: HtmxHttpRequest) -> HttpResponse:
    scope = _scope(request)
    filters = _filters(request)
    page = routing_page(scope=scope, run_id=request.GET.get("run", ""), filters=filters)
    if request.GET.get("format") == "csv":
        name = f"skillcheck-routing-{page.run.run_id if page.run else 'none'}.csv"
        header, *rows = routing_csv_rows(page)
        return csv_response(name, rows, header=header)
    base = {"catalog": scope.name} if scope.record is not None and not scope.configured else {}
    if page.run is not None:
        base["run"] = page.run.run_id

    def link(**changes: str) -> str:
        return "?" + urlencode({**base, **filters.query(**changes)})

    context = {
        "page": page,
        "filters": filters,
        "outcomes": OUTCOMES,
        "sort_links": {
            key.replace("-", "") + ("_desc" if key.startswith("-") else ""): link(sort=key)
            for key in ("skill", "f1", "-f1", "f1_low", "-f1_low")
        },
        "model_links": [(m, link(model=m)) for m in page.models],
        "csv_url": link(format="csv"),
        "hidden": base,
        "routers": _router_choices(),
        "default_runs": DEFAULT_RUNS,
        "poll_s": poll_seconds(),
        **scope_context(scope),
    }
    if request.htmx and request.htmx.target == "routing-cases":
        return render(request, "heatmap/_routing-cases.html", context)
    return render(request, "heatmap/routing.html", context)


def _back(request: HttpRequest, run_id: str = "") -> HttpResponse:
    """To the routing page of the posted catalog, showing ``run_id``."""
    scope = catalog_scope_or_404(request, data=request.POST)
    query = {"catalog": scope.name} if scope.record is not None and not scope.configured else {}
    if run_id:
        query["run"] = run_id
    return redirect(reverse("heatmap:routing") + ("?" + urlencode(query) if query else ""))


def _asked(data: QueryDict) -> dict[str, Any]:
    """The Run form's choices: routers, K, batch mode and whether to ask cached cases again
    (``ValueError`` for a K that is not a number)."""
    return {
        "models": data.getlist("models") or [LEXICAL],
        "runs": int(data.get("runs") or DEFAULT_RUNS),
        "batch": data.get("batch") == "on",
        "use_cache": data.get("no_cache") != "on",
    }


@require_GET
def routing_plan(request: HttpRequest) -> HttpResponse:
    """The Run form's plan line (GET, no side effect): calls, cached cases and the estimate,
    with the cost confirmation when the estimate is above SKILLCHECK_CONFIRM_COST_USD."""
    scope = catalog_scope_or_404(request, data=request.GET)
    threshold = settings.SKILLCHECK_CONFIRM_COST_USD
    context: dict[str, Any] = {"threshold_usd": threshold}
    try:
        context["plan"] = routing_run_plan(catalog=scope.load(), lint=False, **_asked(request.GET))
    except (RunRequestError, ValueError) as exc:
        context["error"] = str(exc)
    return render(request, "heatmap/_routing-plan.html", context)


@require_POST
def routing_start(request: HttpRequest) -> HttpResponse:
    """The Run button: start a routing run of the shown catalog, then show it. An estimate
    above SKILLCHECK_CONFIRM_COST_USD needs the plan line's confirmation ticked."""
    scope = catalog_scope_or_404(request, data=request.POST)
    confirmed = request.POST.get("confirm_cost") == "on"
    threshold = None if confirmed else settings.SKILLCHECK_CONFIRM_COST_USD
    try:
        run = routing_run_start(
            catalog=scope.load(), confirm_above_usd=threshold, **_asked(request.POST)
        )
    except (RunRequestError, ValueError) as exc:
        messages.error(request, f"The routing run did not start: {exc}")
        return _back(request)
    messages.success(request, f"Routing run {run.run_id} started.")
    return _back(request, run.run_id)


@require_POST
def routing_cancel(request: HttpRequest, run_id: str) -> HttpResponse:
    """The Cancel button: the run stops after the answers in flight."""
    run = routing_run_get(run_id)
    if run is None:
        raise Http404(f"no routing run {run_id!r}")
    routing_run_cancel(run=run)
    messages.success(request, f"Routing run {run_id}: cancel asked; answers so far are kept.")
    return _back(request, run_id)


@require_POST
def routing_resume(request: HttpRequest, run_id: str) -> HttpResponse:
    """The Resume button: ask what a stopped run lacks, and its errored samples again."""
    try:
        routing_run_resume_start(run_id=run_id)
    except RunRequestError as exc:
        messages.error(request, f"The routing run did not resume: {exc}")
        return _back(request, run_id)
    messages.success(request, f"Routing run {run_id} resumed.")
    return _back(request, run_id)
