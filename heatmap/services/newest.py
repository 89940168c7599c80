"""The aggregates that do not grow with history: the newest task per key and the agreement
groups (``NewestResult``, ``AgreementGroup``), kept in the transaction that saves or deletes a
task.

Why: ranking every task of a catalog for each page after new data costs time in line with the
catalog's history (100,000 tasks: 361 ms for the overview, 3.7 s for the agreement on
PostgreSQL). Keeping the ranking's winner per key as tasks land makes those reads cost one
row per key, and the agreement one row per (scenario, skill, check).

A saved task replaces its key's row when it ranks before it (successful before failed, then
newer, then the higher id: ``selectors.newest_tasks``'s order), and the agreement groups of
its scenario and skill move by the difference between the old and the new verdicts. A deleted
task that was its key's newest hands the key to the next in rank. ``newest_rebuild`` counts
everything again from the tasks (the migration, a bulk load, a repair).

On PostgreSQL the writers of one catalog take a transaction-scoped advisory lock before they
read the key's row, so two runs saving the same keys at once neither lose an update nor
deadlock on each other's group rows; SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import connection

from heatmap.models import AgreementGroup, CheckResult, NewestResult, TaskResult
from skillcheck.vocabulary import Result

_LOCK_SPACE = 22_0018  # the first key of the advisory lock; the catalog is the second

# Columns copied from the task to its key's row, in this order.
_COPIED = (
    "domain",
    "errored",
    "finished_at",
    "pass_count",
    "fail_count",
    "unclear_count",
    "na_count",
    "failed_checks",
    "fingerprint",
)
_KEY = ("catalog_id", "scenario_id", "skill", "model")
_VERDICT_COLUMNS: dict[str, str] = {
    Result.PASS: "pass_count",
    Result.FAIL: "fail_count",
    Result.UNCLEAR: "unclear_count",
    Result.NA: "na_count",
}
_OTHER = "other_count"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _lock(cursor: Any, catalog_id: int) -> None:
    """Serialise the writers of one catalog's aggregates until the transaction ends."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, catalog_id])


def newest_task_added(*, task_id: int) -> None:
    """Count a just-saved task (its check rows written) in its key's aggregates.

    Called in the transaction that saved it (``services.reports.task_save``): a few small
    statements, whatever the history.
    """
    tasks = _q(TaskResult._meta.db_table)
    newest = _q(NewestResult._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(map(_q, (*_KEY, *_COPIED)))} FROM {tasks} WHERE {_q('id')} = %s",
            [task_id],
        )
        row = cursor.fetchone()
        if row is None:
            return
        key, copied = row[: len(_KEY)], row[len(_KEY) :]
        _lock(cursor, key[0])
        # Whether the task ranks before its key's row, compared in the database, in the
        # column types and order the ranking index uses.
        cursor.execute(
            f"SELECT n.{_q('id')}, n.{_q('task_id')}, n.{_q('errored')},"
            f" CASE WHEN t.{_q('errored')} < n.{_q('errored')}"
            f" OR (t.{_q('errored')} = n.{_q('errored')}"
            f" AND (t.{_q('finished_at')} > n.{_q('finished_at')}"
            f" OR (t.{_q('finished_at')} = n.{_q('finished_at')}"
            f" AND t.{_q('id')} > n.{_q('task_id')}))) THEN 1 ELSE 0 END"
            f" FROM {newest} n, {tasks} t WHERE t.{_q('id')} = %s"
            + "".join(f" AND n.{_q(c)} = t.{_q(c)}" for c in _KEY),
            [task_id],
        )
        current = cursor.fetchone()
        if current is not None and not current[3]:
            return  # an older (or failed) result than the one shown: nothing moves
        if current is None:
            columns = (*_KEY, "task_id", *_COPIED)
            cursor.execute(
                f"INSERT INTO {newest} ({', '.join(map(_q, columns))})"
                f" VALUES ({', '.join(['%s'] * len(columns))})",
                [*key, task_id, *copied],
            )
        else:
            assignments = ", ".join(f"{_q(c)} = %s" for c in ("task_id", *_COPIED))
            cursor.execute(
                f"UPDATE {newest} SET {assignments} WHERE {_q('id')} = %s",
                [task_id, *copied, current[0]],
            )
        moves: Counter[tuple[str, str]] = Counter()
        if current is not None and not current[2]:
            moves.subtract(_verdicts(cursor, current[1]))
        if not copied[_COPIED.index("errored")]:
            moves.update(_verdicts(cursor, task_id))
        _groups_move(cursor, key, copied[0], moves)


def newest_task_removing(task: TaskResult) -> bool:
    """Before ``task`` is deleted: if it is its key's newest, take it out of the aggregates
    (its check rows are still there) and say so, for ``newest_task_removed``."""
    newest = _q(NewestResult._meta.db_table)
    with connection.cursor() as cursor:
        _lock(cursor, task.catalog_id)
        cursor.execute(
            f"SELECT {_q('id')}, {_q('errored')}, {_q('domain')} FROM {newest}"
            f" WHERE {_q('task_id')} = %s",
            [task.pk],
        )
        row = cursor.fetchone()
        if row is None:
            return False
        if not row[1]:
            moves: Counter[tuple[str, str]] = Counter()
            moves.subtract(_verdicts(cursor, task.pk))
            key = (task.catalog_id, task.scenario_id, task.skill, task.model)
            _groups_move(cursor, key, row[2], moves)
        cursor.execute(f"DELETE FROM {newest} WHERE {_q('id')} = %s", [row[0]])
    return True


def newest_task_removed(task: TaskResult) -> None:
    """After its key's newest task is deleted: the next in rank, if any, takes its place."""
    following = (
        TaskResult.objects.filter(
            catalog_id=task.catalog_id, scenario_id=task.scenario_id, skill=task.skill
        )
        .filter(model=task.model)
        .order_by("errored", "-finished_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        newest_task_added(task_id=following)


def _verdicts(cursor: Any, task_id: int) -> Counter[tuple[str, str]]:
    """One task's (check, verdict) pairs."""
    checks = _q(CheckResult._meta.db_table)
    cursor.execute(
        f"SELECT {_q('check_id')}, {_q('result')} FROM {checks} WHERE {_q('task_id')} = %s",
        [task_id],
    )
    return Counter((check_id, result) for check_id, result in cursor.fetchall())


def _groups_move(
    cursor: Any, key: tuple[Any, ...], domain: str, moves: Counter[tuple[str, str]]
) -> None:
    """Add ``moves`` (check, verdict) → ±n to the groups of one scenario and skill: one
    upsert, each group's counts moved in place, so concurrent writers add up."""
    per_check: dict[str, dict[str, int]] = {}
    for (check_id, result), n in moves.items():
        if n:
            column = _VERDICT_COLUMNS.get(result, _OTHER)  # Result is a StrEnum
            counts = per_check.setdefault(check_id, {})
            counts[column] = counts.get(column, 0) + n
    if not per_check:
        return
    table = _q(AgreementGroup._meta.db_table)
    counted = (*_VERDICT_COLUMNS.values(), _OTHER)
    columns = ("catalog_id", "scenario_id", "skill", "check_id", "domain", *counted)
    catalog_id, scenario_id, skill = key[0], key[1], key[2]
    rows = [
        [catalog_id, scenario_id, skill, check_id, domain, *(counts.get(c, 0) for c in counted)]
        for check_id, counts in sorted(per_check.items())
    ]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(
        [f"{_q('domain')} = excluded.{_q('domain')}"]
        + [f"{_q(c)} = {table}.{_q(c)} + excluded.{_q(c)}" for c in counted]
    )
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(map(_q, columns))})"
        f" VALUES {', '.join([placeholders] * len(rows))}"
        f" ON CONFLICT ({', '.join(map(_q, columns[:4]))}) DO UPDATE SET {updates}",
        [value for row in rows for value in row],
    )


def newest_rebuild(
    *, catalog_ids: Iterable[int] | None = None, connection: Any = connection
) -> None:
    """Count the aggregates again from the tasks (all catalogs', or those of ``catalog_ids``):
    two INSERT … SELECT per catalog, on ``connection`` (the migration's). The migration that
    made the tables runs it, and so does whatever writes tasks in bulk without ``task_save``
    (the benchmarks)."""
    _q = connection.ops.quote_name
    tasks = _q(TaskResult._meta.db_table)
    checks = _q(CheckResult._meta.db_table)
    newest = _q(NewestResult._meta.db_table)
    groups = _q(AgreementGroup._meta.db_table)
    verdict_sums = ", ".join(
        f"SUM(CASE WHEN c.{_q('result')} = %s THEN 1 ELSE 0 END)" for _ in _VERDICT_COLUMNS
    )
    other = f"SUM(CASE WHEN c.{_q('result')} IN (%s, %s, %s, %s) THEN 0 ELSE 1 END)"
    verdicts = [str(result) for result in _VERDICT_COLUMNS]
    counted = (*_VERDICT_COLUMNS.values(), _OTHER)
    with connection.cursor() as cursor:
        if catalog_ids is None:
            for table in (newest, groups):
                cursor.execute(f"DELETE FROM {table}")
            cursor.execute(f"SELECT DISTINCT {_q('catalog_id')} FROM {tasks}")
            catalog_ids = [row[0] for row in cursor.fetchall()]
        for catalog_id in sorted(set(catalog_ids)):
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, catalog_id])
            for table in (newest, groups):
                cursor.execute(f"DELETE FROM {table} WHERE {_q('catalog_id')} = %s", [catalog_id])
            copied = ", ".join(map(_q, _COPIED))
            cursor.execute(
                f"INSERT INTO {newest} ({', '.join(map(_q, _KEY))}, {_q('task_id')}, {copied})"
                f" SELECT {', '.join(map(_q, _KEY))}, {_q('id')}, {copied} FROM"
                f" (SELECT {', '.join(map(_q, _KEY))}, {_q('id')}, {copied}, ROW_NUMBER() OVER"
                f" (PARTITION BY {_q('scenario_id')}, {_q('skill')}, {_q('model')} ORDER BY"
                f" {_q('errored')}, {_q('finished_at')} DESC, {_q('id')} DESC) AS {_q('rank')}"
                f" FROM {tasks} WHERE {_q('catalog_id')} = %s) ranked"
                f" WHERE {_q('rank')} = 1",
                [catalog_id],
            )
            cursor.execute(
                f"INSERT INTO {groups} ({_q('catalog_id')}, {_q('scenario_id')}, {_q('skill')},"
                f" {_q('check_id')}, {_q('domain')}, {', '.join(map(_q, counted))})"
                f" SELECT n.{_q('catalog_id')}, n.{_q('scenario_id')}, n.{_q('skill')},"
                f" c.{_q('check_id')}, MAX(n.{_q('domain')}), {verdict_sums}, {other}"
                f" FROM {newest} n JOIN {checks} c ON c.{_q('task_id')} = n.{_q('task_id')}"
                f" WHERE n.{_q('catalog_id')} = %s AND n.{_q('errored')} = %s"
                f" GROUP BY n.{_q('catalog_id')}, n.{_q('scenario_id')}, n.{_q('skill')},"
                f" c.{_q('check_id')}",
                [*verdicts, *verdicts, catalog_id, False],
            )
