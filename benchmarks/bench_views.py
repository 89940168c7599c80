"""Time the heatmap pages and fragments on a large database (a script, not a test).

Data sets, each in a fresh database (a temporary SQLite file, or ``--database-url``):
  A. 100 runs × 201 tasks × 30 checks (~600,000 check rows), the same keys re-run 100 times;
  B. one run of 10,000 tasks (~300,000 check rows), almost every key distinct;
  C. B at 10×: one run of 100,000 tasks (~3,000,000 check rows), almost every key distinct;
  H. B's keys with history: 10 runs of the same 10,000 tasks (100,000 tasks, ~3,000,000 rows).
(30: the bundled taxonomy's model checks.) For each: median and p95 of the overview page, a
domain page, the two poll fragments, the overview's model agreement (asked for by the page
once the table is in) and the cell detail, with their SQL query counts (which must not depend
on the data size), and the machine's load average beside them.

    .venv/bin/python benchmarks/bench_views.py [--repeat 20] [--dataset A|B|C|H|both]
    .venv/bin/python benchmarks/bench_views.py --dataset C --repeat 3 \
        --database-url postgres://user@127.0.0.1:5432/bench [--only "page, new|agreement, new"]

With ``--database-url`` the database must be empty or hold the same data set from an earlier
call (then it is reused as it is: filling C takes minutes). Rows go in by COPY on PostgreSQL
and in one transaction per run on SQLite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import zlib
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODELS = ("haiku", "opus", "sonnet")
RESULTS = ("pass", "pass", "fail", "unclear", "na")


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "simsite.settings"
    os.environ["DJANGO_DEBUG"] = "0"
    # Loopback only: local mode (no login), as `make run` serves it.
    os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


TASK_COLUMNS = (
    *("id", "run_id", "catalog_id", "scenario_id", "domain", "skill", "model", "epoch"),
    *("risk_level", "duration_s", "input_tokens", "output_tokens", "cost_usd", "error"),
    *("markdown_response", "finished_at", "pass_count", "fail_count", "unclear_count"),
    *("na_count", "failed_checks", "cache_write_tokens", "cache_read_tokens", "batch"),
    *("fingerprint", "skill_fingerprint", "scenario_fingerprint", "prompt_fingerprint"),
    *("model_id", "cached_from", "cost_note", "errored"),
)
CHECK_COLUMNS = ("task_id", "check_id", "result", "evidence", "summary")


def insert(keys: list[tuple[str, str, str, str]], runs: int, check_ids: list[str]) -> int:
    """``runs`` runs, each with one task per key and one check row per check id.

    Task rows carry their summary from ``task_tally``, as the run services write them, and a
    fingerprint of their own (a blank one everywhere tells the planner that a fingerprint
    matches every row, and the response cache's lookup then reads them all); the
    aggregates kept beside them (where the code has them) are counted once at the end, as
    the migration that made them does.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from heatmap.models import Run, TaskResult, task_tally
    from heatmap.selectors import catalog_current
    from heatmap.services.catalogs import catalog_register

    catalog = catalog_register(catalog=catalog_current())
    now = timezone.now()
    first_task = (TaskResult.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    markdown = "## Analysis\n\nFine.\n" * 20
    rows = 0
    for r in range(runs):
        with transaction.atomic():
            run = Run.objects.create(
                run_id=f"bench-{r:03d}",
                catalog=catalog,
                status=Run.Status.COMPLETED,
                models=list(MODELS),
                total=len(keys),
                completed=len(keys),
                created_at=now - timedelta(hours=runs - r),
            )
            finished = connection.ops.adapt_datetimefield_value(now - timedelta(hours=runs - r))
            # Ids are given in insertion order from ``first_task`` (the sequences are set
            # after), so each task's results are known before its row is written.
            task_ids = range(first_task, first_task + len(keys))
            first_task += len(keys)
            task_rows, check_rows = [], []
            for task_id, (s, d, k, m) in zip(task_ids, keys, strict=True):
                # Scattered results: nearly every task fails a different set of checks, the
                # worst case for grouping tasks by their failing checks.
                results = [
                    (c, RESULTS[zlib.crc32(f"{task_id}-{i}-{r}".encode()) % len(RESULTS)])
                    for i, c in enumerate(check_ids)
                ]
                summary = task_tally(results)
                task_rows.append(
                    (
                        *(task_id, run.pk, catalog.pk, s, d, k, m, 1),
                        *("LOW", 1.0, 1000, 500, 0.01, "", markdown, finished),
                        *(summary[f"{n}_count"] for n in ("pass", "fail", "unclear", "na")),
                        *(summary["failed_checks"], 0, 0, False, f"{task_id:016x}"),
                        *("", "", "", "", "", ""),
                        False,
                    )
                )
                check_rows += [(task_id, c, res, "SKILL.md:12", "summary") for c, res in results]
            write_rows(TaskResult._meta.db_table, TASK_COLUMNS, task_rows)
            write_rows("heatmap_checkresult", CHECK_COLUMNS, check_rows)
            rows += len(check_rows)
    finish_fill()
    return rows


def write_rows(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """COPY on PostgreSQL; one prepared INSERT stepped per row on SQLite (both fast)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)})"
                f" VALUES ({', '.join(['%s'] * len(columns))})",
                rows,
            )


def finish_fill() -> None:
    """What a fill by hand owes the app: the id sequences past the given ids, the kept
    aggregates counted (code that has them), fresh planner statistics."""
    from django.core.management.color import no_style
    from django.db import connection

    from heatmap.models import CheckResult, TaskResult

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [TaskResult, CheckResult]):
            cursor.execute(sql)
    try:
        from heatmap.services.newest import newest_rebuild  # the aggregates (issue 22)
    except ImportError:
        pass  # code from before them
    else:
        newest_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def measure(
    client, url: str, repeat: int, htmx: bool | str, cold: bool
) -> tuple[float, float, int, int]:
    """``htmx``: as an htmx request, ``"agreement"``: one whose target is that element."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    if isinstance(htmx, str):
        headers["HTTP_HX_TARGET"] = htmx
    client.get(url, **headers)  # warm the catalog and template caches
    times = []
    for _ in range(repeat):
        if cold:
            cache.clear()  # as after every finished task during a run
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, **headers)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, len(queries), response.status_code


def report(title: str, rows: int, repeat: int, only: list[str]) -> None:
    from django.test import Client
    from django.utils import timezone

    from heatmap.models import Run
    from heatmap.selectors import catalog_current

    catalog = catalog_current()
    domain = max(catalog.domains.values(), key=lambda d: len(d.scenarios))
    scenario = domain.scenarios[0]
    # An active run, so the fragments answer as polls do during a run.
    Run.objects.filter(run_id="bench-active").delete()
    Run.objects.create(
        run_id="bench-active",
        catalog=Run.objects.get(run_id="bench-000").catalog,
        status=Run.Status.RUNNING,
        models=list(MODELS),
        heartbeat_at=timezone.now() + timedelta(days=1),
    )
    client = Client(HTTP_HOST="127.0.0.1")
    # The overview's aggregate is cached until a task is added: "new data" clears the cache
    # before each request (a poll after a task finished), "cached" is an idle page.
    detail = f"/heatmap/{domain.id}/cell/?scenario={scenario.id}&check=WF-1"
    targets = [
        ("overview page, new data", "/heatmap/", False, 200, True),
        ("overview page, cached", "/heatmap/", False, 200, False),
        (f"domain page ({domain.id})", f"/heatmap/{domain.id}/", False, 200, False),
        ("overview poll fragment, new data", "/heatmap/", True, 100, True),
        ("overview poll fragment, cached", "/heatmap/", True, 100, False),
        ("overview agreement, new data", "/heatmap/", "agreement", None, True),
        ("overview agreement, cached", "/heatmap/", "agreement", None, False),
        ("domain poll fragment", f"/heatmap/{domain.id}/", True, 100, False),
        ("cell detail", detail, True, 100, False),
        # Filters and pins: a check filter reads check rows instead of the task summaries.
        (
            "overview, group+severity, new data",
            "/heatmap/?group=DK&severity=HIGH",
            False,
            200,
            True,
        ),
        ("overview, pinned run, new data", "/heatmap/?run=bench-000", False, 200, True),
        (
            "domain page, failures of one model",
            f"/heatmap/{domain.id}/?failures=1&model=haiku",
            False,
            200,
            False,
        ),
        ("domain CSV export", f"/heatmap/{domain.id}/?format=csv", False, 500, False),
    ]
    from django.db import connection

    load = " ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"\n{title}: {rows:,} check rows, {connection.vendor}, load average {load}")
    print(f"  {'target':38} {'median ms':>9} {'p95 ms':>8} {'queries':>7} {'goal':>6}")
    for name, url, htmx, goal, cold in targets:
        if only and not any(word in name for word in only):
            continue
        median, p95, queries, status = measure(client, url, repeat, htmx, cold)
        assert status == 200, f"{url} answered {status}"
        if goal is None:  # no goal: it comes after the page
            print(f"  {name:38} {median:9.1f} {p95:8.1f} {queries:7d} {'–':>6}")
            continue
        flag = "ok" if p95 <= goal else "SLOW"
        print(f"  {name:38} {median:9.1f} {p95:8.1f} {queries:7d} {goal:>4}ms {flag}")
    load = " ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"  load average after: {load}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--dataset", choices=["A", "B", "C", "H", "both"], default="both")
    parser.add_argument("--db", help="keep the SQLite database in this file (one data set)")
    parser.add_argument(
        "--database-url",
        help="a database to fill (empty) or reuse (filled by an earlier call with the same"
        " --dataset), e.g. postgres://user@127.0.0.1:5432/bench",
    )
    parser.add_argument(
        "--only", default="", help="words split by |: time only the targets naming one"
    )
    args = parser.parse_args()
    if args.dataset == "both":
        # Each data set in its own process: Django is set up once per process.
        import subprocess

        for name in ("A", "B"):
            subprocess.run(
                [sys.executable, __file__, "--repeat", str(args.repeat), "--dataset", name],
                check=True,
            )
        return
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(args.db) if args.db else Path(tmp) / "bench.sqlite3"
        setup_django(args.database_url or f"sqlite:///{db_path}")
        from heatmap.models import CheckResult, Run
        from heatmap.selectors import catalog_current

        catalog = catalog_current()
        check_ids = [c.id for c in catalog.taxonomy.model_checks]
        pairs = [(s.id, s.domain, k) for s in catalog.scenarios for k in s.target_skills]
        started = time.perf_counter()
        runs = 1
        if args.dataset == "A":
            keys = [(s, d, k, m) for s, d, k in pairs[:67] for m in MODELS]
            runs = 100
            title = f"A. 100 runs × {len(keys)} tasks × {len(check_ids)} checks"
        else:
            size = 100_000 if args.dataset == "C" else 10_000
            keys = [(s, d, k, m) for s, d, k in pairs for m in MODELS]
            copy = 0
            while len(keys) < size:
                copy += 1
                keys += [(f"{s}~{copy}", d, k, m) for s, d, k in pairs for m in MODELS]
            keys = keys[:size]
            runs = 10 if args.dataset == "H" else 1
            title = (
                f"{args.dataset}. {runs} run{'s' if runs > 1 else ''} × {len(keys):,} tasks"
                f" × {len(check_ids)} checks"
            )
        if Run.objects.filter(run_id="bench-000").exists():
            rows = CheckResult.objects.count()
            expected = runs * len(keys) * len(check_ids)
            assert rows == expected, f"the database holds another data set ({rows:,} rows)"
            print(f"{title}: reused")
        else:
            rows = insert(keys, runs, check_ids)
            print(f"{title}: filled in {time.perf_counter() - started:.0f} s")
        report(title, rows, args.repeat, [w for w in args.only.split("|") if w])


if __name__ == "__main__":
    main()
