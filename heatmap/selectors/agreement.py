"""Model agreement: how often models give the same verdict, per skill and per check."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Sum

from heatmap.models import AgreementTally
from heatmap.selectors.catalogs import configured_catalog_id
from heatmap.selectors.newest import OVERVIEW_CACHE_S, results_version
from skillcheck.catalog import Catalog, Check
from skillcheck.compare import Agreement, agreement_from_tallies


@dataclass
class DisputedCheck:
    check: Check | None
    check_id: str
    percent: int | None
    groups: int


def heatmap_disputed_checks(
    *,
    catalog: Catalog,
    limit: int = 5,
    version: tuple[int, int] | None = None,
    catalog_id: int | None = None,
) -> list[DisputedCheck]:
    """The checks models agree on least across the catalog (below 100 %), least first.

    A check nobody agrees on is usually a badly worded one: the page links it to its line.
    ``catalog_id``: whose results (default: the configured catalog's).
    """
    agreement = heatmap_agreement(version=version, catalog_id=catalog_id)
    by_id = catalog.taxonomy.by_id
    return [
        DisputedCheck(by_id.get(check_id), check_id, tally.percent, tally.groups)
        for check_id, tally in agreement.lowest_checks(limit)
        if tally.agreeing < tally.groups
    ]


def heatmap_agreement(
    *,
    domain: str | None = None,
    version: tuple[int, int] | None = None,
    catalog_id: int | None = None,
) -> Agreement:
    """How often models agree per skill and per check, over one catalog's newest successful
    results (``catalog_id``; default: the configured catalog's).

    Summed in the database from the kept tallies (one query over a row per domain, skill and
    check), kept per data version like
    the overview's sums (``version``: the data version the caller read already).
    """
    if catalog_id is None:
        catalog_id = configured_catalog_id()
    count, last = version or results_version(catalog_id=catalog_id)
    key = f"heatmap:agreement:v3:{catalog_id}:{domain or '*'}:{count}-{last}"
    held = cache.get(key)
    if held is not None:
        return held
    agreement = agreement_from_tallies(_agreement_tallies(catalog_id, domain))
    cache.set(key, agreement, OVERVIEW_CACHE_S)
    return agreement


def _agreement_tallies(catalog_id: int, domain: str | None) -> list[tuple[str, str, int, int]]:
    """(skill, check id, groups, agreeing groups) over the newest successful tasks.

    ``model_agreement``'s definition, kept as tasks are saved (``services.newest``): a group
    is one (scenario, skill, check) that two or more models scored (one verdict per model:
    its newest successful task), and agrees when one verdict holds them all
    (``verdicts_agree``). ``AgreementTally`` keeps their count per domain, skill and check,
    so this reads a few hundred rows however long the catalog's history.
    """
    tallies = AgreementTally.objects.filter(catalog_id=catalog_id, groups__gt=0)
    if domain:
        tallies = tallies.filter(domain=domain)
    rows = (
        tallies.values("skill", "check_id")
        .annotate(n=Sum("groups"), agreeing_n=Sum("agreeing"))
        .order_by()
        .values_list("skill", "check_id", "n", "agreeing_n")
    )
    return [(s, c, int(n), int(agreeing)) for s, c, n, agreeing in rows]
