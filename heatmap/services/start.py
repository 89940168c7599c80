"""Start: create a run (validated by the planner) and hand it to a worker.

``run_create`` makes the pending run that ``run_scored`` then executes in its own process;
``run_start`` is the web's start, which hands the created run to a worker.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.utils import timezone

from heatmap.models import Run
from heatmap.services import dispatch
from heatmap.services.catalogs import catalog_register
from heatmap.services.plans import RunRequestError, plan_catalog, run_plan
from heatmap.services.reports import default_reports_dir
from heatmap.services.snapshots import skill_snapshots_save
from skillcheck.auditors import Auditor
from skillcheck.catalog import Catalog
from skillcheck.reports import incremental_report_path
from skillcheck.runids import RunIdError, validate_run_id
from skillcheck.runs import DEFAULT_CONCURRENCY


def new_run_id() -> str:
    return f"{timezone.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def valid_run_id(run_id: str) -> str:
    """``run_id`` if it can name a run (and a report file); else a ``RunRequestError``."""
    try:
        return validate_run_id(run_id)
    except RunIdError as exc:
        raise RunRequestError(str(exc)) from None


def run_create(
    *,
    domains: Sequence[str] | None,
    models: Sequence[str],
    concurrency: int = DEFAULT_CONCURRENCY,
    catalog_path: Path | str | None = None,
    run_id: str | None = None,
    reports_dir: Path | str | None = None,
    auditors: dict[str, Auditor] | None = None,
    catalog: Catalog | None = None,
    use_cache: bool = True,
    task_keys: Iterable[Sequence[str]] | None = None,
    batch: bool = False,
    catalog_name: str | None = None,
    started_by: Any = None,
    epochs: int = 1,
) -> Run:
    """A pending run that remembers everything a later ``--resume`` needs.

    The run belongs to its catalog's record, registered on the catalog's first run
    (``catalog_name`` names it, or renames it; default: the folder's name).
    ``started_by``: the signed-in user who asked for it (team mode: its owner).

    ``batch``: its tasks go through the Message Batches API (``skillcheck.batch``).

    ``use_cache=False`` calls every task even when a stored result matches; ``task_keys``
    makes a run of exactly those (scenario, skill, model) tasks; ``epochs`` samples each.

    A caller that has the catalog loaded already (the command, the web app's cached copy)
    passes it, so it is not read from disk a second time.
    """
    catalog = catalog or plan_catalog(path=catalog_path)
    task_keys = None if task_keys is None else [list(key) for key in task_keys]
    plan = run_plan(
        catalog=catalog,
        domains=domains,
        models=models,
        concurrency=concurrency,
        auditors=auditors,
        task_keys=task_keys,
        batch=batch,
        epochs=epochs,
    )
    run_id = valid_run_id(run_id or new_run_id())
    if Run.objects.filter(run_id=run_id).exists():
        raise RunRequestError(f"run {run_id} exists already; resume it with --resume {run_id}")
    folder = Path(reports_dir) if reports_dir else default_reports_dir()
    run = Run.objects.create(
        run_id=run_id,
        catalog=catalog_register(catalog=catalog, name=catalog_name),
        status=Run.Status.PENDING,
        models=plan.models,
        domains=plan.domains,
        concurrency=plan.concurrency,
        total=plan.total,
        catalog_path=str(catalog.root),
        catalog_fingerprint=catalog.fingerprint(),
        catalog_fingerprints=catalog.fingerprints(),
        report_path=str(incremental_report_path(run_id, folder.resolve())),
        use_cache=use_cache,
        task_keys=task_keys,
        batch=batch,
        started_by=started_by if getattr(started_by, "is_authenticated", False) else None,
        epochs=plan.epochs,
    )
    skill_snapshots_save(catalog=catalog, fingerprints=run.catalog_fingerprints["skills"])
    return run


def run_start(
    *,
    catalog: Catalog,
    domains: Sequence[str] | None,
    models: Sequence[str],
    concurrency: int = DEFAULT_CONCURRENCY,
    use_cache: bool = True,
    batch: bool = False,
    started_by: Any = None,
    epochs: int = 1,
) -> Run:
    """Create the run (the planner validates it) and hand it to a worker: the web's start."""
    run = run_create(
        domains=domains,
        models=models,
        concurrency=concurrency,
        catalog=catalog,
        use_cache=use_cache,
        batch=batch,
        started_by=started_by,
        epochs=epochs,
    )
    dispatch.run_dispatch(run_id=run.run_id)
    return run
