"""Engine results into a run's rows, and the run's JSON report kept in step with them.

The database is the truth for a run; its JSON report is a snapshot of the rows, rewritten as
tasks finish and whenever it may lag (after a kill). Rows are read back as results by
``heatmap.selectors.results``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Model, Q, Sum
from django.utils import timezone

from heatmap.models import CheckResult, Run, TaskResult, task_tally
from heatmap.selectors.results import scored_from_task
from heatmap.services.newest import newest_task_added
from skillcheck.reports import ReportSnapshot, incremental_report_path
from skillcheck.results import ScoredRun, parse_timestamp
from skillcheck.runids import validate_run_id


def default_reports_dir() -> Path:
    return Path(settings.SKILLCHECK_REPORTS_DIR)


def _fingerprint_fields(result: ScoredRun) -> dict[str, str]:
    fp = result.fingerprint
    if fp is None:
        return {}
    return {
        "fingerprint": fp.key,
        "skill_fingerprint": fp.skill,
        "scenario_fingerprint": fp.scenario,
        "prompt_fingerprint": fp.prompt,
        "model_id": fp.model[:100],
    }


def task_save(*, run: Run, result: ScoredRun, finished_at: datetime | None = None) -> int:
    """One task row, with its tally of the checks, and its check rows; returns the row's id.

    The caller made sure the task has no row yet and holds a transaction, so the tally,
    the check rows and the aggregates that count them (``services.newest``) are committed
    together. Both go in as plain INSERTs: building a
    model instance per task and dozens per task's checks (``create``, ``bulk_create``) was
    most of the per-task cost of a run.
    """
    unique = {c.check_id: c for c in result.checks}
    values = {
        "run_id": run.pk,
        "catalog_id": run.catalog_id,
        "scenario_id": result.scenario_id,
        "domain": result.domain,
        "skill": result.skill,
        "model": result.model,
        "epoch": result.epoch,
        "risk_level": result.risk_level,
        "duration_s": result.duration_s,
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "cost_usd": result.cost_usd,
        "cache_write_tokens": result.cache_write_tokens,
        "cache_read_tokens": result.cache_read_tokens,
        "batch": result.batch,
        "cost_note": result.cost_note,
        "error": result.error or "",
        "errored": bool(result.error),
        "markdown_response": result.markdown_response,
        "finished_at": connection.ops.adapt_datetimefield_value(
            parse_timestamp(result.finished_at) or finished_at or timezone.now()
        ),
        "cached_from": result.cached_from or "",
        **dict.fromkeys(_FINGERPRINT_COLUMNS, ""),
        **_fingerprint_fields(result),
        **task_tally((c.check_id, c.result) for c in unique.values()),
    }
    with connection.cursor() as cursor:
        task_id = _insert_returning_id(cursor, TaskResult, values)
        rows = [(task_id, c.check_id, c.result, c.evidence, c.summary) for c in unique.values()]
        for start in range(0, len(rows), CHECK_ROWS_PER_INSERT):
            chunk = rows[start : start + CHECK_ROWS_PER_INSERT]
            # One statement for many rows: ``executemany`` steps the database once per row,
            # and each step lets go of the GIL, which 32 busy worker threads then contend for.
            cursor.execute(
                f"INSERT INTO {CheckResult._meta.db_table} "
                "(task_id, check_id, result, evidence, summary) VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk)),
                [value for row in chunk for value in row],
            )
    newest_task_added(task_id=task_id)
    return task_id


CHECK_ROWS_PER_INSERT = 100  # 500 parameters: under any SQLite's limit (999 before 3.32)


_FINGERPRINT_COLUMNS = (
    "fingerprint",
    "skill_fingerprint",
    "scenario_fingerprint",
    "prompt_fingerprint",
    "model_id",
)


def _insert_returning_id(cursor: Any, model: type[Model], values: dict[str, Any]) -> int:
    """INSERT one row of ``model`` (``values`` by column) and return its new id."""
    returning = connection.features.can_return_columns_from_insert
    key = (connection.vendor, model._meta.db_table, tuple(values), returning)
    sql = _INSERT_SQL.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        sql = _INSERT_SQL[key] = (
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, values))}) "
            f"VALUES ({', '.join(['%s'] * len(values))})"
            + (f" RETURNING {quote(model._meta.pk.column)}" if returning else "")
        )
    cursor.execute(sql, list(values.values()))
    if returning:
        return cursor.fetchone()[0]
    return connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)


_INSERT_SQL: dict[tuple[Any, ...], str] = {}


def run_count_tasks(*, run: Run, results: list[ScoredRun]) -> None:
    """Add finished tasks to the run's counters and beat its heart (one plain UPDATE)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Run._meta.db_table} SET completed = completed + %s, "
            "failed = failed + %s, input_tokens = input_tokens + %s, "
            "output_tokens = output_tokens + %s, cost_usd = cost_usd + %s, "
            "cache_write_tokens = cache_write_tokens + %s, "
            "cache_read_tokens = cache_read_tokens + %s, heartbeat_at = %s "
            "WHERE id = %s",
            [
                len(results),
                sum(1 for r in results if r.error),
                sum(r.input_tokens for r in results),
                sum(r.output_tokens for r in results),
                sum(r.cost_usd for r in results),
                sum(r.cache_write_tokens for r in results),
                sum(r.cache_read_tokens for r in results),
                connection.ops.adapt_datetimefield_value(timezone.now()),
                run.pk,
            ],
        )


def tasks_save_cached(*, run: Run, results: list[ScoredRun]) -> None:
    """Results reused from the cache, saved and counted together (one transaction).

    They cost nothing, so only the run's ``completed`` and ``cached`` counters move.
    """
    with transaction.atomic():
        for result in results:
            task_save(run=run, result=result)
        Run.objects.filter(pk=run.pk).update(
            completed=F("completed") + len(results),
            cached=F("cached") + len(results),
            heartbeat_at=timezone.now(),
        )


def run_recount(*, run: Run) -> None:
    """Counters from the rows themselves (the rows are the truth after a kill); not saved."""
    totals = run.tasks.aggregate(
        n=Count("pk"),
        failed=Count("pk", filter=Q(errored=True)),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
        cost=Sum("cost_usd"),
        cache_write_tokens=Sum("cache_write_tokens"),
        cache_read_tokens=Sum("cache_read_tokens"),
        cached=Count("pk", filter=~Q(cached_from="")),
    )
    run.completed = totals["n"]
    run.cached = totals["cached"]
    run.failed = totals["failed"]
    run.input_tokens = totals["input_tokens"] or 0
    run.output_tokens = totals["output_tokens"] or 0
    run.cost_usd = totals["cost"] or 0.0
    run.cache_write_tokens = totals["cache_write_tokens"] or 0
    run.cache_read_tokens = totals["cache_read_tokens"] or 0


def run_metadata(run: Run) -> dict[str, Any]:
    """What the JSON report says about the run besides its results."""
    return {
        "status": run.status,
        "models": run.models,
        "domains": run.domains,
        "concurrency": run.concurrency,
        "epochs": run.epochs,
        "total": run.total,
        "catalog_path": run.catalog_path,
        "catalog_fingerprint": run.catalog_fingerprint,
        "use_cache": run.use_cache,
        "batch": run.batch,
        "cached": run.cached,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error or None,
        "isolation": run.isolation,
    }


def run_report_path(run: Run) -> Path:
    """The file the run's results are written to, which its download serves.

    Always ``scored_run_{run_id}.json``: in the folder of the run's recorded report (a run
    started with ``--reports-dir``), else in the reports folder. A recorded file of another
    name (a report imported by an older version) is not where a resume writes, so it is
    never what the run serves either.
    """
    folder = Path(run.report_path).parent if run.report_path else default_reports_dir()
    return incremental_report_path(validate_run_id(run.run_id), folder)


def run_snapshot(*, run: Run) -> ReportSnapshot:
    """The run's JSON report as its rows say now (not written yet)."""
    path = run_report_path(run)
    snapshot = ReportSnapshot(run.run_id, reports_dir=path.parent, metadata=run_metadata(run))
    tasks = run.tasks.order_by("finished_at", "pk").prefetch_related("checks")
    snapshot.extend([scored_from_task(t) for t in tasks])
    return snapshot


def run_report_sync(*, run: Run) -> Path:
    """Rewrite the run's JSON from its database rows (after a kill, the JSON may lag)."""
    snapshot = run_snapshot(run=run)
    snapshot.write(force=True)
    if run.report_path != str(snapshot.path):
        run.report_path = str(snapshot.path)
        run.save(update_fields=["report_path"])
    return snapshot.path
