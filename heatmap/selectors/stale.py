"""Which shown results are stale: their stored fingerprint differs from the catalog's now."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

from heatmap.models import NewestResult
from heatmap.selectors.catalogs import configured_catalog_id
from heatmap.selectors.newest import OVERVIEW_CACHE_S, results_version
from skillcheck.catalog import Catalog
from skillcheck.fingerprints import Fingerprinter, model_ids

_fingerprinters: dict[Path | None, Fingerprinter] = {}


def catalog_fingerprinter(*, catalog: Catalog) -> Fingerprinter:
    """Current fingerprints of ``catalog``'s tasks, each file hashed once per catalog load.

    Model names stand for the configured ids (``SKILLCHECK_MODELS``), as in a run. One per
    catalog folder, so pages of two catalogs in turn do not hash each other's files again.
    """
    ids = model_ids(dict(settings.SKILLCHECK_MODELS))
    held = _fingerprinters.get(catalog.root)
    if held is None or held.catalog is not catalog or held.model_ids != ids:
        held = _fingerprinters[catalog.root] = Fingerprinter(catalog, catalog.taxonomy, ids)
    return held


def stale_keys(
    *, catalog: Catalog, prints: Mapping[tuple[str, str, str], str]
) -> set[tuple[str, str, str]]:
    """The task keys whose stored fingerprint differs from the current catalog's.

    A result without a fingerprint (older than fingerprints) or whose scenario or skill left
    the catalog is not called stale: there is nothing to compare it with.
    """
    fingerprinter = catalog_fingerprinter(catalog=catalog)
    stale = set()
    for key, stored in prints.items():
        if not stored:
            continue
        current = fingerprinter.of_key(*key)
        if current is not None and current.key and current.key != stored:
            stale.add(key)
    return stale


def prints_key(catalog_id: int, domain: str | None, version: tuple[int, int]) -> str:
    """The cache key of the newest tasks' fingerprints (``stale_tasks``)."""
    return f"heatmap:prints:v2:{catalog_id}:{domain or '*'}:{version[0]}-{version[1]}"


def stale_tasks(
    *,
    catalog: Catalog,
    domain: str | None = None,
    version: tuple[int, int] | None = None,
    catalog_id: int | None = None,
) -> list[tuple[str, str, str]]:
    """The (scenario, skill, model) keys whose shown result is stale: "re-run stale" runs them.

    Among the newest results of the catalog ``catalog_id`` (default: the configured one),
    whose files ``catalog`` holds. The newest tasks' fingerprints come from the kept newest
    task per key (``NewestResult``: one query), per data version; they are compared with the
    catalog on every call.
    """
    if catalog_id is None:
        catalog_id = configured_catalog_id()
    key = prints_key(catalog_id, domain, version or results_version(catalog_id=catalog_id))
    prints = cache.get(key)
    if prints is None:
        filters = {"domain": domain} if domain else {}
        rows = (
            NewestResult.objects.filter(catalog_id=catalog_id, **filters)
            .exclude(fingerprint="")
            .values_list("scenario_id", "skill", "model", "fingerprint")
        )
        prints = {(s, k, m): fp for s, k, m, fp in rows if fp}
        cache.set(key, prints, OVERVIEW_CACHE_S)
    return sorted(stale_keys(catalog=catalog, prints=prints))
