"""The heatmap's filters in the query string: read them, and write them back into links
(tabs, column sorts, CSV export) so that every link keeps what the page shows."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, QueryDict

from heatmap import selectors
from heatmap.services import auditors
from heatmap.views.lookups import run_or_404
from skillcheck.catalog import Catalog

FILTER_KEYS = (
    "catalog",
    "include",
    "q",
    "model",
    "group",
    "severity",
    "check",
    "failures",
    "run",
    "sort",
)
INCLUDE_REMOVED = "removed"


def heatmap_filter(
    request: HttpRequest, catalog: Catalog, scope: selectors.CatalogScope
) -> selectors.HeatmapFilter:
    """The view's filters from the query string (unknown values are ignored, an unknown run
    is a 404: a shared link to a deleted run should say so, not show something else).

    The results are the catalog ``scope``'s; the skills its files no longer have are left
    out unless ``?include=removed`` (always in when the files are a stand-in's)."""
    run = scope.run
    if run is None and (run_id := request.GET.get("run", "")):
        run = run_or_404(run_id)
    group = request.GET.get("group", "")
    severity = request.GET.get("severity", "").upper()
    return selectors.HeatmapFilter(
        catalog_id=scope.catalog_id,
        include_removed=scope.stand_in or request.GET.get("include") == INCLUDE_REMOVED,
        models=tuple(m for m in request.GET.getlist("model") if m),
        group=group if group in catalog.taxonomy.groups else "",
        severity=severity if severity in selectors.SEVERITIES else "",
        failures=request.GET.get("failures", "") in ("1", "on", "true"),
        query=request.GET.get("q", "").strip(),
        run=run,
        sort=sort if (sort := request.GET.get("sort", "")) in selectors.SORTS else "",
        check=check if (check := request.GET.get("check", "")) in catalog.taxonomy.by_id else "",
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
        "pin_qs": query_string(request, keep=("catalog", "include", "run")).replace("?", "&", 1),
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


def scope_context(scope: selectors.CatalogScope) -> dict:
    """The catalog shown, for the header's switcher and the links that keep it."""
    return {"catalog_scope": scope, "catalog_qs": catalog_query(scope)}


def catalog_query(scope: selectors.CatalogScope) -> str:
    """``?catalog=NAME`` for links to pages that show one catalog ("" for the default one)."""
    if scope.record is None or scope.configured:
        return ""
    return "?" + urlencode({"catalog": scope.name})
