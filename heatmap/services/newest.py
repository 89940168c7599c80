"""The aggregates that do not grow with history, kept in the transaction that saves or
deletes a task: the newest task per key (``NewestResult``), their sums per domain, skill and
model (``NewestTally``), the agreement groups (``AgreementGroup``) and their sums per domain,
skill and check (``AgreementTally``).

Why: ranking every task of a catalog for each page after new data costs time in line with the
catalog's history (100,000 tasks: 361 ms for the overview, 3.7 s for the agreement on
PostgreSQL). Keeping the ranking's winner per key as tasks land, and the sums the pages show,
makes those reads cost a row per skill and model (the overview) or per skill and check (the
agreement), however many tasks and keys the catalog has.

A key counts its samples (``NewestResult.samples``): every sample of its newest task's run
that succeeded, or the newest task alone when it failed, so a run of K samples counts K
answers, as the matrix does. A saved task replaces its key's row when it ranks before it
(successful before failed, then newer, then the higher id: ``selectors.newest_tasks``'s
order); another successful sample of the row's run joins its samples. Either way the sums
move by the difference in what they count, and the agreement groups of its scenario and skill
by the difference between the old and the new verdicts (of several samples, each check's
majority). A deleted task that was its key's newest hands the key to the next in rank; a
deleted sample leaves the samples. ``newest_rebuild`` counts everything again from the tasks
(the migration, a bulk load, a repair).

On PostgreSQL the writers of one catalog take a transaction-scoped advisory lock before they
read the key's row, so two runs saving the same keys at once neither lose an update nor
deadlock on each other's group rows; SQLite has one writer at a time anyway.
"""

from __future__ import annotations

import functools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection

from heatmap.models import (
    TALLY_SUM_FIELDS,
    AgreementGroup,
    AgreementTally,
    CheckResult,
    NewestResult,
    NewestTally,
    Run,
    TaskResult,
    failed_check_ids,
    strata_loaded,
    strata_stored,
)
from heatmap.selectors.newest import newest_sample_rows
from skillcheck.stats import StratifiedSums, sampled_verdict
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
    return _quoted(connection.vendor, name)


@functools.cache
def _quoted(vendor: str, name: str) -> str:
    """A quoted name, once per vendor and name: a task's save builds dozens of them."""
    return connection.ops.quote_name(name)


def _lock(cursor: Any, catalog_id: int) -> None:
    """Serialise the writers of one catalog's aggregates until the transaction ends."""
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, catalog_id])


def newest_task_added(*, task_id: int) -> None:
    """Count a just-saved task (its check rows written) in its key's aggregates.

    Called in the transaction that saved it (``services.reports.task_save``): a few small
    statements, whatever the history. A task that ranks before its key's row takes its
    place; another sample of the row's run that succeeded joins the samples it counts.
    """
    newest = _q(NewestResult._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(_task_sql(connection.vendor), [task_id])
        row = cursor.fetchone()
        if row is None:
            return
        key, copied = row[: len(_KEY)], row[len(_KEY) : -2]
        run_id, epochs = row[-2:]
        _lock(cursor, key[0])
        # Whether the task ranks before its key's row, compared in the database, in the
        # column types and order the ranking index uses; and the row's task's run.
        cursor.execute(_rank_sql(connection.vendor), [task_id])
        current = cursor.fetchone()
        shown = _shown(current[1], current[2:-3], current[-3]) if current else None
        task = _shown(task_id, copied, str(task_id))
        if shown is not None and not current[-1]:
            # An older (or failed) result than the one shown: it counts only as one more
            # sample of the shown task's run.
            if shown.errored or task.errored or current[-2] != run_id:
                return
            grown = replace(shown, samples=sorted([*shown.samples, task_id]))
            _samples_write(cursor, current[0], grown.samples)
            _move(cursor, key, shown, grown)
            return
        if not task.errored and epochs > 1:  # a run of one sample has one task per key
            task.samples = _run_samples(cursor, key, run_id)
        if shown is None:
            columns = (*_KEY, "task_id", *_COPIED, "samples")
            cursor.execute(
                f"INSERT INTO {newest} ({', '.join(map(_q, columns))})"
                f" VALUES ({', '.join(['%s'] * len(columns))})",
                [*key, task_id, *copied, _ids_text(task.samples)],
            )
        else:
            assignments = ", ".join(f"{_q(c)} = %s" for c in ("task_id", *_COPIED, "samples"))
            cursor.execute(
                f"UPDATE {newest} SET {assignments} WHERE {_q('id')} = %s",
                [task_id, *copied, _ids_text(task.samples), current[0]],
            )
        _move(cursor, key, shown, task)


@functools.cache
def _task_sql(vendor: str) -> str:
    """A saved task's key, the columns its key's row copies, its run and how many samples
    the run takes (built once per database vendor: a save runs it once per task)."""
    tasks, runs = _q(TaskResult._meta.db_table), _q(Run._meta.db_table)
    return (
        f"SELECT {', '.join(f't.{_q(c)}' for c in (*_KEY, *_COPIED, 'run_id'))},"
        f" r.{_q('epochs')} FROM {tasks} t JOIN {runs} r ON r.{_q('id')} = t.{_q('run_id')}"
        f" WHERE t.{_q('id')} = %s"
    )


@functools.cache
def _rank_sql(vendor: str) -> str:
    """Whether the task ranks before its key's row, compared in the database, in the column
    types and order the ranking index uses; with the row and its task's run."""
    tasks, newest = _q(TaskResult._meta.db_table), _q(NewestResult._meta.db_table)
    return (
        f"SELECT n.{_q('id')}, n.{_q('task_id')},"
        + "".join(f" n.{_q(c)}," for c in _COPIED)
        + f" n.{_q('samples')}, s.{_q('run_id')},"
        + f" CASE WHEN t.{_q('errored')} < n.{_q('errored')}"
        f" OR (t.{_q('errored')} = n.{_q('errored')}"
        f" AND (t.{_q('finished_at')} > n.{_q('finished_at')}"
        f" OR (t.{_q('finished_at')} = n.{_q('finished_at')}"
        f" AND t.{_q('id')} > n.{_q('task_id')}))) THEN 1 ELSE 0 END"
        + f" FROM {newest} n JOIN {tasks} t ON t.{_q('id')} = %s"
        + f" LEFT JOIN {tasks} s ON s.{_q('id')} = n.{_q('task_id')}"
        + " WHERE "
        + " AND ".join(f"n.{_q(c)} = t.{_q(c)}" for c in _KEY)
    )


def newest_task_removing(task: TaskResult) -> bool:
    """Before ``task`` is deleted: if it is its key's newest, take it out of the aggregates
    (its check rows are still there) and say so, for ``newest_task_removed``; if it is one
    more sample the key's row counts, take it out of the sums."""
    newest = _q(NewestResult._meta.db_table)
    key = (task.catalog_id, task.scenario_id, task.skill, task.model)
    with connection.cursor() as cursor:
        _lock(cursor, task.catalog_id)
        cursor.execute(
            f"SELECT {_q('id')}, {_q('task_id')}, {', '.join(map(_q, _COPIED))},"
            f" {_q('samples')} FROM {newest} WHERE " + " AND ".join(f"{_q(c)} = %s" for c in _KEY),
            list(key),
        )
        row = cursor.fetchone()
        if row is None:
            return False
        shown = _shown(row[1], row[2:-1], row[-1])
        if shown.task_id == task.pk:
            _move(cursor, key, shown, None)
            cursor.execute(f"DELETE FROM {newest} WHERE {_q('id')} = %s", [row[0]])
            return True
        if task.pk in shown.samples:
            shrunk = replace(shown, samples=[i for i in shown.samples if i != task.pk])
            _samples_write(cursor, row[0], shrunk.samples)
            _move(cursor, key, shown, shrunk)
    return False


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


def _ids(text: str) -> list[int]:
    return [int(i) for i in text.split(",") if i]


def _ids_text(ids: Iterable[int]) -> str:
    return ",".join(str(i) for i in ids)


def _samples_write(cursor: Any, row_id: int, samples: list[int]) -> None:
    newest = _q(NewestResult._meta.db_table)
    cursor.execute(
        f"UPDATE {newest} SET {_q('samples')} = %s WHERE {_q('id')} = %s",
        [_ids_text(samples), row_id],
    )


def _run_samples(cursor: Any, key: tuple[Any, ...], run_id: int) -> list[int]:
    """The key's samples in one run that succeeded (by the run's unique index)."""
    tasks = _q(TaskResult._meta.db_table)
    cursor.execute(
        f"SELECT {_q('id')} FROM {tasks} WHERE {_q('run_id')} = %s AND "
        + " AND ".join(f"{_q(c)} = %s" for c in _KEY[1:])
        + f" AND {_q('errored')} = %s",
        [run_id, *key[1:], False],
    )
    # Sorted here: an ORDER BY would steer SQLite to the run's index over the key's.
    return sorted(row[0] for row in cursor.fetchall())


def _verdicts(cursor: Any, samples: list[int]) -> Counter[tuple[str, str]]:
    """A key's (check, verdict) pairs: with one sample, its verdicts as given; with several,
    each check's majority (``stats.sampled_verdict``, a tie ``unclear``), as the matrix
    shows them."""
    if not samples:
        return Counter()
    checks = _q(CheckResult._meta.db_table)
    cursor.execute(
        f"SELECT {_q('check_id')}, {_q('result')} FROM {checks}"
        f" WHERE {_q('task_id')} IN ({', '.join(['%s'] * len(samples))})",
        samples,
    )
    if len(samples) == 1:
        return Counter((check_id, result) for check_id, result in cursor.fetchall())
    by_check: dict[str, list[str]] = defaultdict(list)
    for check_id, result in cursor.fetchall():
        by_check[check_id].append(result)
    return Counter(
        (check_id, str(sampled_verdict(results).verdict)) for check_id, results in by_check.items()
    )


@dataclass
class _Shown:
    """A key's newest task as its aggregates count it (``_COPIED`` after the task's id), and
    the samples its tallies count (``NewestResult.samples``)."""

    task_id: int
    domain: str
    errored: Any
    finished_at: Any
    pass_count: int
    fail_count: int
    unclear_count: int
    na_count: int
    failed_checks: str
    fingerprint: str
    samples: list[int] = field(default_factory=list)


def _shown(task_id: int, copied: Sequence[Any], samples: str) -> _Shown:
    shown = _Shown(task_id, *copied)
    shown.samples = _ids(samples)
    return shown


def _move(cursor: Any, key: tuple[Any, ...], old: _Shown | None, new: _Shown | None) -> None:
    """A key's shown task or its samples change from ``old`` to ``new`` (either may be None):
    move the sums and the agreement groups by the difference."""
    _tallies_move(key, old, new)
    moves: Counter[tuple[str, str]] = Counter()
    if old is not None and not old.errored:
        moves.subtract(_verdicts(cursor, old.samples))
    if new is not None and not new.errored:
        moves.update(_verdicts(cursor, new.samples))
    _groups_move(cursor, key, new.domain if new is not None else None, moves)


@dataclass
class _TallyMove:
    counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    fails: Counter[str] = field(default_factory=Counter)
    sums: StratifiedSums = field(default_factory=StratifiedSums)

    def add(self, samples: Iterable[tuple[Any, ...]], sign: int = 1) -> None:
        """Count one key's samples, (pass, fail, unclear, n/a, failed checks) each, in (or,
        ``sign`` −1, out)."""
        scored = []
        for *numbers, failed_checks in samples:
            for i, n in enumerate(numbers):
                self.counts[i] += sign * n
            for check_id in failed_check_ids(failed_checks):
                self.fails[check_id] += sign
            scored.append((numbers[0], sum(numbers[:3])))
        self.sums.add(scored, sign)


def _sample_numbers(ids: Iterable[int]) -> dict[int, tuple[Any, ...]]:
    """Each task's (pass, fail, unclear, n/a, failed checks), by id: one query."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    tasks = _q(TaskResult._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_q('id')}, {', '.join(map(_q, _SAMPLE_COLUMNS))} FROM {tasks}"
            f" WHERE {_q('id')} IN ({', '.join(['%s'] * len(wanted))})",
            wanted,
        )
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


_SAMPLE_COLUMNS = ("pass_count", "fail_count", "unclear_count", "na_count", "failed_checks")


def _tallies_move(key: tuple[Any, ...], old: _Shown | None, new: _Shown | None) -> None:
    """Take ``old``'s samples out of its (domain, skill, model) sums and put ``new``'s in
    (one row each, read and written whole: the catalog's lock is held)."""
    catalog_id, _, skill, model = key
    # The shown tasks' own numbers are at hand (copied on their key's row); only the other
    # samples of a run of several are read.
    numbers = {
        shown.task_id: (
            shown.pass_count,
            shown.fail_count,
            shown.unclear_count,
            shown.na_count,
            shown.failed_checks,
        )
        for shown in (old, new)
        if shown is not None
    }
    numbers |= _sample_numbers(
        {i for shown in (old, new) if shown is not None for i in shown.samples} - set(numbers)
    )
    moves: dict[str, _TallyMove] = defaultdict(_TallyMove)
    for shown, sign in ((old, -1), (new, 1)):
        if shown is not None:
            moves[shown.domain].add((numbers[i] for i in shown.samples if i in numbers), sign)
    select, update, insert = _tally_sql(connection.vendor)
    fails_field = NewestTally._meta.get_field("fails")
    strata_field = NewestTally._meta.get_field("strata")
    with connection.cursor() as cursor:
        for domain, move in moves.items():
            where = [catalog_id, domain, skill, model]
            cursor.execute(select, where)
            found = cursor.fetchone()
            stored_fails, stored_strata = (
                (_json_loaded(found[1]), _json_loaded(found[2])) if found is not None else ({}, {})
            )
            fails = Counter(stored_fails)
            fails.update(move.fails)
            strata = StratifiedSums(strata=strata_loaded(stored_strata))
            strata.merge(StratifiedSums(strata=move.sums.strata))
            added = [
                *move.counts,
                *(getattr(move.sums.totals, name) for name in TALLY_SUM_FIELDS),
                move.sums.singles,
            ]
            json_values = [
                fails_field.get_db_prep_save(
                    {check_id: n for check_id, n in sorted(fails.items()) if n}, connection
                ),
                strata_field.get_db_prep_save(strata_stored(strata.strata), connection),
            ]
            if found is None:
                cursor.execute(insert, [*where, *added, *json_values])
            else:
                cursor.execute(update, [*added, *json_values, found[0]])


def _json_loaded(value: Any) -> dict[str, Any]:
    """A JSON column as a raw statement reads it: text (SQLite; Django has psycopg load
    jsonb as text too), or already decoded."""
    return value if isinstance(value, dict) else json.loads(value)


@functools.cache
def _tally_sql(vendor: str) -> tuple[str, str, str]:
    """A ``NewestTally`` row's read, its move (integer sums added in place, the two JSON
    columns set) and its insert: raw statements, as the ORM's model round trip was most of
    a task save's cost."""
    table = _q(NewestTally._meta.db_table)
    where = " AND ".join(f"{_q(c)} = %s" for c in _TALLY_KEY)
    select = f"SELECT {_q('id')}, {_q('fails')}, {_q('strata')} FROM {table} WHERE {where}"
    update = (
        f"UPDATE {table} SET "
        + ", ".join(f"{_q(c)} = {_q(c)} + %s" for c in _TALLY_ADDED)
        + f", {_q('fails')} = %s, {_q('strata')} = %s WHERE {_q('id')} = %s"
    )
    columns = (*_TALLY_KEY, *_TALLY_ADDED, "fails", "strata")
    insert = (
        f"INSERT INTO {table} ({', '.join(map(_q, columns))})"
        f" VALUES ({', '.join(['%s'] * len(columns))})"
    )
    return select, update, insert


_TALLY_COUNTS = ("pass_count", "fail_count", "unclear_count", "na_count")
_TALLY_KEY = ("catalog_id", "domain", "skill", "model")
_TALLY_ADDED = (*_TALLY_COUNTS, *TALLY_SUM_FIELDS, "singles")  # moved by adding


def _groups_move(
    cursor: Any, key: tuple[Any, ...], domain: str | None, moves: Counter[tuple[str, str]]
) -> None:
    """Add ``moves`` ((check, verdict) → ±n) to the groups of one scenario and skill, and
    move their agreement sums by what each group counted before and counts after.

    ``domain``: the groups' domain from now on (None: as it was). Read and written whole
    under the catalog's lock.
    """
    per_check: dict[str, Counter[str]] = {}
    for (check_id, result), n in moves.items():
        if n:
            column = _VERDICT_COLUMNS.get(result, _OTHER)  # Result is a StrEnum
            per_check.setdefault(check_id, Counter())[column] += n
    if not per_check:
        return
    catalog_id, scenario_id, skill = key[0], key[1], key[2]
    table = _q(AgreementGroup._meta.db_table)
    counted = (*_VERDICT_COLUMNS.values(), _OTHER)
    checks = sorted(per_check)
    cursor.execute(
        f"SELECT {_q('check_id')}, {_q('domain')}, {', '.join(map(_q, counted))} FROM {table}"
        f" WHERE {_q('catalog_id')} = %s AND {_q('scenario_id')} = %s AND {_q('skill')} = %s"
        f" AND {_q('check_id')} IN ({', '.join(['%s'] * len(checks))})",
        [catalog_id, scenario_id, skill, *checks],
    )
    before = {row[0]: (row[1], list(row[2:])) for row in cursor.fetchall()}
    rows = []
    agreement: Counter[tuple[str, str]] = Counter()  # (domain, check) → ± groups
    agreeing: Counter[tuple[str, str]] = Counter()
    for check_id in checks:
        old_domain, old_counts = before.get(check_id, (domain or "", [0] * len(counted)))
        new_domain = old_domain if domain is None else domain
        new_counts = [n + per_check[check_id][c] for n, c in zip(old_counts, counted, strict=True)]
        rows.append([catalog_id, scenario_id, skill, check_id, new_domain, *new_counts])
        for where, counts, sign in (
            (old_domain, old_counts, -1),
            (new_domain, new_counts, 1),
        ):
            if sum(counts) >= 2:
                agreement[(where, check_id)] += sign
                agreeing[(where, check_id)] += sign * (sum(1 for n in counts if n) == 1)
    columns = ("catalog_id", "scenario_id", "skill", "check_id", "domain", *counted)
    _upsert(cursor, table, columns, 4, rows, add=False)
    moved = [
        [catalog_id, where, skill, check_id, agreement[key], agreeing[key]]
        for key in sorted(set(agreement) | set(agreeing))
        if agreement[key] or agreeing[key]
        for where, check_id in [key]
    ]
    if moved:
        tallies = _q(AgreementTally._meta.db_table)
        columns = ("catalog_id", "domain", "skill", "check_id", "groups", "agreeing")
        _upsert(cursor, tallies, columns, 4, moved, add=True)


def _upsert(
    cursor: Any, table: str, columns: tuple[str, ...], unique: int, rows: list, *, add: bool
) -> None:
    """INSERT ``rows``; a row whose first ``unique`` columns exist already sets the others
    (``add``: adds them)."""
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(
        f"{_q(c)} = {table}.{_q(c)} + excluded.{_q(c)}" if add else f"{_q(c)} = excluded.{_q(c)}"
        for c in columns[unique:]
    )
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(map(_q, columns))})"
        f" VALUES {', '.join([placeholders] * len(rows))}"
        f" ON CONFLICT ({', '.join(map(_q, columns[:unique]))}) DO UPDATE SET {updates}",
        [value for row in rows for value in row],
    )


def newest_rebuild(
    *, catalog_ids: Iterable[int] | None = None, connection: Any = connection
) -> None:
    """Count the aggregates again from the tasks (all catalogs', or those of ``catalog_ids``):
    three INSERT … SELECT per catalog and the sums of its newest tasks, on ``connection``
    (the migration's). The migration that
    made the tables runs it, and so does whatever writes tasks in bulk without ``task_save``
    (the benchmarks)."""
    _q = connection.ops.quote_name
    tasks = _q(TaskResult._meta.db_table)
    checks = _q(CheckResult._meta.db_table)
    newest = _q(NewestResult._meta.db_table)
    groups = _q(AgreementGroup._meta.db_table)
    agreement = _q(AgreementTally._meta.db_table)
    kept = (newest, groups, agreement, _q(NewestTally._meta.db_table))
    verdict_sums = ", ".join(
        f"SUM(CASE WHEN c.{_q('result')} = %s THEN 1 ELSE 0 END)" for _ in _VERDICT_COLUMNS
    )
    other = f"SUM(CASE WHEN c.{_q('result')} IN (%s, %s, %s, %s) THEN 0 ELSE 1 END)"
    verdicts = [str(result) for result in _VERDICT_COLUMNS]
    counted = (*_VERDICT_COLUMNS.values(), _OTHER)
    with connection.cursor() as cursor:
        if catalog_ids is None:
            for table in kept:
                cursor.execute(f"DELETE FROM {table}")
            cursor.execute(f"SELECT DISTINCT {_q('catalog_id')} FROM {tasks}")
            catalog_ids = [row[0] for row in cursor.fetchall()]
        for catalog_id in sorted(set(catalog_ids)):
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_SPACE, catalog_id])
            for table in kept:
                cursor.execute(f"DELETE FROM {table} WHERE {_q('catalog_id')} = %s", [catalog_id])
            copied = ", ".join(map(_q, _COPIED))
            cursor.execute(
                f"INSERT INTO {newest} ({', '.join(map(_q, _KEY))}, {_q('task_id')}, {copied},"
                f" {_q('samples')}) SELECT {', '.join(map(_q, _KEY))}, {_q('id')}, {copied}, %s"
                " FROM"
                f" (SELECT {', '.join(map(_q, _KEY))}, {_q('id')}, {copied}, ROW_NUMBER() OVER"
                f" (PARTITION BY {_q('scenario_id')}, {_q('skill')}, {_q('model')} ORDER BY"
                f" {_q('errored')}, {_q('finished_at')} DESC, {_q('id')} DESC) AS {_q('rank')}"
                f" FROM {tasks} WHERE {_q('catalog_id')} = %s) ranked"
                f" WHERE {_q('rank')} = 1",
                ["", catalog_id],
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
            kinds = " + ".join(f"(CASE WHEN {_q(c)} > 0 THEN 1 ELSE 0 END)" for c in counted)
            cursor.execute(
                f"INSERT INTO {agreement} ({_q('catalog_id')}, {_q('domain')}, {_q('skill')},"
                f" {_q('check_id')}, {_q('groups')}, {_q('agreeing')})"
                f" SELECT {_q('catalog_id')}, {_q('domain')}, {_q('skill')}, {_q('check_id')},"
                f" COUNT(*), SUM(CASE WHEN {kinds} = 1 THEN 1 ELSE 0 END) FROM {groups}"
                f" WHERE {_q('catalog_id')} = %s AND {' + '.join(map(_q, counted))} >= 2"
                f" GROUP BY {_q('catalog_id')}, {_q('domain')}, {_q('skill')}, {_q('check_id')}",
                [catalog_id],
            )
            # Each key's samples: its newest task's run's that succeeded, or the newest alone
            # when it failed (``NewestResult.samples``), with what the sums count of each.
            rows = newest_sample_rows(
                NewestResult.objects.using(connection.alias)
                .filter(catalog_id=catalog_id)
                .values("id", "scenario_id", "task_id", "domain", "skill", "model"),
                _SAMPLE_COLUMNS,
                keys=("id", "scenario_id", "task_id", "domain", "skill", "model"),
            )
            members: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
            where: dict[int, tuple[str, str, str]] = {}
            shown: dict[int, tuple[str, int]] = {}
            for row_id, scenario_id, task_id, domain, skill, model, *sample in sorted(rows):
                members[row_id].append(tuple(sample))
                where[row_id] = (domain, skill, model)
                shown[row_id] = (scenario_id, task_id)
            cursor.executemany(
                f"UPDATE {newest} SET {_q('samples')} = %s WHERE {_q('id')} = %s",
                [(_ids_text(m[0] for m in samples), row_id) for row_id, samples in members.items()],
            )
            # The groups above counted each key's newest task; a key of several samples
            # counts their majorities instead.
            for row_id, samples in members.items():
                if len(samples) > 1:
                    (scenario_id, task_id), (domain, skill, model) = shown[row_id], where[row_id]
                    moves = _verdicts(cursor, [sample[0] for sample in samples])
                    moves.subtract(_verdicts(cursor, [task_id]))
                    _groups_move(cursor, (catalog_id, scenario_id, skill, model), domain, moves)
            sums: dict[tuple[str, str, str], _TallyMove] = defaultdict(_TallyMove)
            for row_id, samples in members.items():
                sums[where[row_id]].add(sample[1:] for sample in samples)
            tallies = []
            for (domain, skill, model), move in sums.items():
                tally = NewestTally(
                    catalog_id=catalog_id,
                    domain=domain,
                    skill=skill,
                    model=model,
                    **dict(zip(_TALLY_COUNTS, move.counts, strict=True)),
                    fails={c: n for c, n in sorted(move.fails.items()) if n},
                )
                tally.pass_sums = move.sums
                tallies.append(tally)
            NewestTally.objects.using(connection.alias).bulk_create(tallies)
