"""What a URL names (a run, a domain, a catalog), or a 404 that says which was not found; a
run this user may not change, a 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, QueryDict

from heatmap import selectors
from heatmap.models import Run
from skillcheck.catalog import Catalog


def run_or_404(run_id: str) -> Run:
    run = selectors.run_get(run_id=run_id)
    if run is None:
        raise Http404(f"no run {run_id!r}")
    return run


def run_to_change(request: HttpRequest, run_id: str) -> Run:
    """The run, if this user may cancel, resume or retry it (team mode: its owner or staff);
    else a 403 (404 for no such run)."""
    run = run_or_404(run_id)
    if not selectors.run_may_change(run=run, user=request.user):
        raise PermissionDenied(selectors.NOT_YOUR_RUN)
    return run


def domain_or_404(catalog: Catalog, domain_id: str) -> None:
    if domain_id not in catalog.domains:
        raise Http404(f"unknown domain {domain_id!r}")


def catalog_scope_or_404(
    request: HttpRequest, *, run: Run | None = None, data: QueryDict | None = None
) -> selectors.CatalogScope:
    """The catalog the page shows: ``?catalog=NAME``, else the pinned run's (``run``, or
    ``?run=ID``), else the configured one. An unknown name is a 404 that lists the known ones.

    ``data``: where the names are (``request.POST`` for a form's action; default the query)."""
    data = request.GET if data is None else data
    if run is None and (run_id := data.get("run", "")):
        run = run_or_404(run_id)
    try:
        return selectors.catalog_scope(name=data.get("catalog", ""), run=run)
    except selectors.UnknownCatalog as exc:
        raise Http404(str(exc)) from None
