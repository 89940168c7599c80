"""Model agreement: how often models give the same verdict, per skill and per check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connections

from heatmap.models import CheckResult
from heatmap.selectors.catalogs import configured_catalog_id
from heatmap.selectors.newest import OVERVIEW_CACHE_S, newest_tasks, results_version
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

    Counted in the database (one query, a few hundred rows back), kept per data version like
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

    ``model_agreement``'s definition in SQL: a group is one (scenario, skill, check) with two
    or more verdicts (one per model: the newest task per key, one row per check), and it
    agrees when it holds one distinct verdict (``verdicts_agree``). The groups (~100,000 for
    10,000 distinct tasks) are tallied per skill and check in the same statement. The newest
    tasks bring their scenario and skill from the ranking index, so no task row is read.
    """
    filters: dict[str, Any] = {"errored": False}  # in the ranking index, unlike ``error``
    if domain:
        filters["domain"] = domain
    newest = newest_tasks(catalog_id=catalog_id, **filters).values("pk", "scenario_id", "skill")
    newest_sql, params = newest.query.get_compiler(using=newest.db).as_sql()
    connection = connections[newest.db]
    q = connection.ops.quote_name
    checks = q(CheckResult._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g.skill, g.check_id, COUNT(*), SUM(CASE WHEN g.verdicts = 1 THEN 1 ELSE 0 END)"
            f" FROM (SELECT t.{q('skill')} AS skill, c.{q('check_id')} AS check_id,"
            f" COUNT(DISTINCT c.{q('result')}) AS verdicts"
            f" FROM ({newest_sql}) t JOIN {checks} c ON c.{q('task_id')} = t.{q('pk')}"
            f" GROUP BY t.{q('scenario_id')}, t.{q('skill')}, c.{q('check_id')}"
            f" HAVING COUNT(*) >= 2) g"
            f" GROUP BY g.skill, g.check_id",
            params,
        )
        return [(s, c, int(n), int(agreeing)) for s, c, n, agreeing in cursor.fetchall()]
