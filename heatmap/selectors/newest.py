"""The newest task per (scenario, skill, model) of one catalog, and the data version that
keys the caches.

Every heatmap read aggregates in the database over the newest task per key across one
catalog's runs (as the JSON merge does), so a page costs the same few queries whatever the
number of runs, or of catalogs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from heatmap.models import CheckResult, Run, TaskResult

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


def results_version(*, catalog_id: int) -> tuple[int, int]:
    """The data version of one catalog's results: (count, newest id) of its tasks, which
    changes whenever one is added or removed. It keys every cache of the heatmap (sums,
    agreement, stale marks, rendered fragments and their ETags).

    While a run of the catalog is unfinished the version moves at most once per
    ``SKILLCHECK_LIVE_REFRESH_S``: the tasks are counted at most that often, and in between
    one small query on the runs says the run is still on. So a run that lands several tasks a
    second costs one recount and one render per page per period, not one per task and poll.
    Without a run the version is read every time, and an import or a deletion shows at once.
    Either way a call is one query, but once when a run ends.
    """
    key = f"heatmap:version:v2:{catalog_id}"
    held = cache.get(key)  # (version, read at, a run was on)
    now = time.time()
    fresh = held is not None and now - held[1] < settings.SKILLCHECK_LIVE_REFRESH_S
    if fresh and held[2] and _run_unfinished(catalog_id):
        return held[0]
    count, last, live = _version_and_liveness(catalog_id)
    version = (count, last)
    cache.set(key, (version, now, live), OVERVIEW_CACHE_S)
    return version


def _run_unfinished(catalog_id: int) -> bool:
    """Whether a run of the catalog is pending, queued or running (its tasks may land now)."""
    return Run.objects.filter(catalog_id=catalog_id, status__in=Run.UNFINISHED).exists()


def compiled(queryset: QuerySet[Any, Any]) -> tuple[str, Any, BaseDatabaseWrapper]:
    """A queryset's SQL, its parameters and its database's connection: for the few
    statements that join it as a subquery in ways the ORM does not express."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    return sql, params, connections[queryset.db]


def newest_sample_rows(
    newest: QuerySet[Any, Any],
    columns: Sequence[str],
    *,
    check_ids: Sequence[str] | None = None,
    keys: Sequence[str] = ("scenario_id", "skill", "model"),
) -> list[tuple[Any, ...]]:
    """(*``keys`` of ``newest``, sample id, *``columns`` of the sample) for the samples of each
    row of ``newest`` (a key's newest task: its task_id, scenario_id, skill and model, and
    ``keys``): the key's samples in that task's run that succeeded, or the newest task alone
    when it failed (what ``NewestResult.samples`` keeps). With ``check_ids``: a row per check
    of those, (…, sample id, check, verdict).

    One statement: from each key to its run's samples by the run's unique index. The
    overview reads samples through it, and ``services.newest.newest_rebuild`` counts them.
    """
    newest_sql, params, connection = compiled(newest)
    q = connection.ops.quote_name
    tasks = q(TaskResult._meta.db_table)
    same_key = "".join(f" AND g.{q(c)} = t.{q(c)}" for c in ("scenario_id", "skill", "model"))
    selected = [f"g.{q(c)}" for c in columns]
    joined, extra = "", []
    if check_ids is not None:
        selected = [f"c.{q('check_id')}", f"c.{q('result')}"]
        joined = (
            f" JOIN {q(CheckResult._meta.db_table)} c ON c.{q('task_id')} = g.{q('id')}"
            f" AND c.{q('check_id')} IN ({', '.join(['%s'] * len(check_ids))})"
        )
        extra = list(check_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(f'n.{q(k)}' for k in keys)}, g.{q('id')}"
            + "".join(f", {c}" for c in selected)
            + f" FROM ({newest_sql}) n JOIN {tasks} t ON t.{q('id')} = n.{q('task_id')}"
            f" JOIN {tasks} g ON g.{q('run_id')} = t.{q('run_id')}{same_key}"
            f" AND (g.{q('id')} = t.{q('id')}"
            f" OR (t.{q('errored')} = %s AND g.{q('errored')} = %s)){joined}",
            [*params, False, False, *extra],
        )
        return cursor.fetchall()


def _version_and_liveness(catalog_id: int) -> tuple[int, int, bool]:
    """The catalog's task count and newest task id, and whether a run of it is unfinished:
    one statement."""
    unfinished = Run.objects.filter(catalog_id=catalog_id, status__in=Run.UNFINISHED).values("pk")
    runs_sql, runs_params, connection = compiled(unfinished)
    q = connection.ops.quote_name
    tasks = q(TaskResult._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT({tasks}.{q('id')}), MAX({tasks}.{q('id')}), EXISTS({runs_sql})"
            f" FROM {tasks} WHERE {tasks}.{q('catalog_id')} = %s",
            [*runs_params, catalog_id],
        )
        count, last, live = cursor.fetchone()
    return int(count), int(last or 0), bool(live)
