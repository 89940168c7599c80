"""Re-run stale: a new run of exactly the tasks whose shown result no longer matches the
catalog (a skill, scenario, check or model changed since it was scored)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from heatmap import selectors
from heatmap.models import Run
from heatmap.services import dispatch
from heatmap.services.catalogs import catalog_register
from heatmap.services.plans import RunRequestError
from heatmap.services.start import run_create
from skillcheck.catalog import Catalog


def run_start_stale(*, catalog: Catalog, domain: str | None = None, started_by: Any = None) -> Run:
    """Start a run of exactly the tasks whose shown result is stale: "re-run stale".

    The stale results are those of ``catalog``'s own runs (its record, registered if need be).
    """
    record = catalog_register(catalog=catalog)
    keys = selectors.stale_tasks(catalog=catalog, domain=domain, catalog_id=record.pk)
    if not keys:
        raise RunRequestError("no result is stale: every shown result matches the catalog")
    scenario_domain = {s.id: s.domain for s in catalog.scenarios}
    domains = sorted({scenario_domain[scenario_id] for scenario_id, _, _ in keys})
    run = run_create(
        domains=domains,
        models=sorted({model for _, _, model in keys}),
        catalog=catalog,
        task_keys=keys,
        concurrency=settings.SKILLCHECK_DEFAULT_CONCURRENCY,
        started_by=started_by,
    )
    dispatch.run_dispatch(run_id=run.run_id)
    return run
