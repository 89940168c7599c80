"""The newest task per (scenario, skill, model) of one catalog, and the data version that
keys the caches.

Every heatmap read aggregates in the database over the newest task per key across one
catalog's runs (as the JSON merge does), so a page costs the same few queries whatever the
number of runs, or of catalogs.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Max, QuerySet, Window
from django.db.models.functions import RowNumber

from heatmap.models import TaskResult

OVERVIEW_CACHE_S = 3600  # how long sums kept per data version (``results_version``) live


def newest_tasks(*, catalog_id: int, **filters: Any) -> QuerySet[TaskResult]:
    """The newest task per (scenario, skill, model) of one catalog among ``filters``: the
    newest successful one, or the newest failed one when none succeeded.

    A failed task (an API error, an unparseable answer) says nothing about the skill, so it
    must not hide an older result that does; a key that only ever failed still shows its
    failure. Pinned to one run there is one task per key, so the rule changes nothing there.
    A window function ranks each key's tasks in the order of the model's ranking index, which
    leads with the catalog, so one catalog's tasks are one range of it; select only indexed
    columns to rank without reading the task rows.
    """
    return (
        TaskResult.objects.filter(catalog_id=catalog_id, **filters)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("scenario_id"), F("skill"), F("model")],
                order_by=[F("errored").asc(), F("finished_at").desc(), F("id").desc()],
            )
        )
        .filter(rank=1)
    )


def newest_task_ids(*, catalog_id: int, **filters: Any) -> QuerySet[TaskResult, Any]:
    """Primary keys of the newest task per key, a subquery joined in the caller's statement."""
    return newest_tasks(catalog_id=catalog_id, **filters).values("pk")


def results_version() -> tuple[int, int]:
    """Changes whenever task rows are added or removed: (count, newest id). One cheap query."""
    data = TaskResult.objects.aggregate(n=Count("id"), last=Max("id"))
    return data["n"], data["last"] or 0
