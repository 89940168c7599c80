"""What a URL names (a run, a domain), or a 404 that says which was not found."""

from __future__ import annotations

from django.http import Http404

from heatmap import selectors
from heatmap.models import Run
from skillcheck.catalog import Catalog


def run_or_404(run_id: str) -> Run:
    run = selectors.run_get(run_id=run_id)
    if run is None:
        raise Http404(f"no run {run_id!r}")
    return run


def domain_or_404(catalog: Catalog, domain_id: str) -> None:
    if domain_id not in catalog.domains:
        raise Http404(f"unknown domain {domain_id!r}")
