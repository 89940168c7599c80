"""The Routing tab: which skill each model picked for each case, out of the whole catalog.

Filters (model, skill, tag, outcome, sort, run) live in the query string; an htmx request for
the case list gets only that fragment; ``?format=csv`` downloads the case list as shown.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from heatmap.selectors.routing import DEFAULT_RUNS, LEXICAL
from heatmap.selectors.routing_page import (
    OUTCOMES,
    RoutingFilters,
    routing_csv_rows,
    routing_page,
)
from heatmap.services.auditors import model_choices
from heatmap.services.plans import RunRequestError
from heatmap.services.routing_start import routing_run_start
from heatmap.views.csv_export import csv_response
from heatmap.views.filters import scope_context
from heatmap.views.fragments import HtmxHttpRequest
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
        reason = choice.reason if api else "routing needs the Anthropic API (ANTHROPIC_API_KEY)"
        choices.append({"name": choice.name, "available": api, "reason": reason})
    return choices


@require_GET
def routing(request: HtmxHttpRequest) -> HttpResponse:
    scope = catalog_scope_or_404(request)
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
        **scope_context(scope),
    }
    if request.htmx and request.htmx.target == "routing-cases":
        return render(request, "heatmap/_routing-cases.html", context)
    return render(request, "heatmap/routing.html", context)


@require_POST
def routing_start(request: HttpRequest) -> HttpResponse:
    """The Run button: start a routing run of the shown catalog, then show it."""
    scope = catalog_scope_or_404(request, data=request.POST)
    models = request.POST.getlist("models") or [LEXICAL]
    target = reverse("heatmap:routing")
    query = {"catalog": scope.name} if scope.record is not None and not scope.configured else {}
    try:
        runs = int(request.POST.get("runs") or DEFAULT_RUNS)
        run = routing_run_start(catalog=scope.load(), models=models, runs=runs)
    except (RunRequestError, ValueError) as exc:
        messages.error(request, f"The routing run did not start: {exc}")
        return redirect(target + ("?" + urlencode(query) if query else ""))
    messages.success(request, f"Routing run {run.run_id} started.")
    return redirect(target + "?" + urlencode({**query, "run": run.run_id}))
