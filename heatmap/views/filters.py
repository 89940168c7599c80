"""The heatmap's filters in the query string: read them, and write them back into links
(tabs, column sorts, CSV export) so that every link keeps what the page shows."""

from __future__ import annotations

from django.http import HttpRequest, QueryDict

from heatmap import selectors
from heatmap.services import auditors
from heatmap.views.lookups import run_or_404
from skillcheck.catalog import Catalog

FILTER_KEYS = ("q", "model", "group", "severity", "failures", "run", "sort")


def heatmap_filter(request: HttpRequest, catalog: Catalog) -> selectors.HeatmapFilter:
    """The view's filters from the query string (unknown values are ignored, an unknown run
    is a 404: a shared link to a deleted run should say so, not show something else)."""
    run = None
    if run_id := request.GET.get("run", ""):
        run = run_or_404(run_id)
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


def query_string(request: HttpRequest, *, keep: tuple[str, ...] = FILTER_KEYS, **extra) -> str:
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


def filter_context(
    request: HttpRequest, catalog: Catalog, filters: selectors.HeatmapFilter
) -> dict:
    """The filter bar's choices and the links that keep the filters."""
    return {
        "filters": filters,
        "filter_qs": query_string(request),
        "pin_qs": f"&run={filters.run.run_id}" if filters.run else "",
        "csv_url": query_string(request, keep=(*FILTER_KEYS, "domain"), format="csv"),
        "filter_models": selectors.model_order(
            [c.name for c in auditors.model_choices()] + list(filters.models)
        ),
        "filter_groups": [
            (gid, name) for gid, name in catalog.taxonomy.groups.items() if gid != "BP"
        ],
        "severities": selectors.SEVERITIES,
        # The overview's column headers sort by their column, keeping the other filters.
        "sort_qs": {
            key: query_string(request, keep=(*unsorted, "domain"), **({"sort": key} if key else {}))
            for key in ("", *selectors.SORTS)
            for unsorted in [tuple(k for k in FILTER_KEYS if k != "sort")]
        },
    }
