"""The Checks page: the taxonomy's checks ranked by how little they tell (flaky, disputed by
the models, or the same verdict everywhere)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from heatmap import selectors
from heatmap.views.lookups import catalog_scope_or_404


@require_GET
def check_quality(request: HttpRequest) -> HttpResponse:
    scope = catalog_scope_or_404(request)
    catalog = scope.load()
    filters = selectors.HeatmapFilter(catalog_id=scope.catalog_id)
    rows = selectors.heatmap_check_quality(catalog=catalog, filters=filters)
    context = {"rows": rows, "catalog_scope": scope}
    return render(request, "heatmap/check-quality.html", context)
