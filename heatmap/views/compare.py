"""The compare page: two runs of one catalog, per skill first, then the checks that flipped.

The list's filters (skill, model, regressions only) live in the query string; an htmx request
aimed at the list gets the list alone.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from heatmap import selectors
from heatmap.views.fragments import HtmxHttpRequest
from heatmap.views.lookups import catalog_scope_or_404, run_or_404

TEMPLATE = "heatmap/compare.html"
LIST_ID = "compare-list"


@require_GET
def run_compare(request: HtmxHttpRequest, run_id: str, base_id: str) -> HttpResponse:
    """``/runs/NEW/compare/BASE/``: the per-skill summary, then the changed checks by skill."""
    new, base = run_or_404(run_id), run_or_404(base_id)
    scope = catalog_scope_or_404(request, run=new)
    filters = selectors.CompareFilters.from_query(request.GET)
    try:
        page = selectors.compare_page(base=base, new=new, catalog=scope.load(), filters=filters)
    except selectors.RunsOfDifferentCatalogs as exc:
        context = {"base": base, "new": new, "refused": str(exc)}
        return render(request, TEMPLATE, context, status=400)
    context = {
        "base": base,
        "new": new,
        "page": page,
        "filters": filters,
        "catalog_name": scope.name,
    }
    if request.htmx and request.htmx.target == LIST_ID:
        return render(request, f"{TEMPLATE}#{LIST_ID}", context)
    return render(request, TEMPLATE, context)
