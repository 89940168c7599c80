"""Time the heatmap pages and fragments on a large database (a script, not a test).

Two data sets, each in a fresh temporary SQLite database:
  A. 100 runs × 201 tasks × 29 checks (~580,000 check rows), the same keys re-run 100 times;
  B. one run of 10,000 tasks (~290,000 check rows), almost every key distinct.
For each: median and p95 of the overview page, a domain page, the two poll fragments, the
overview's model agreement (asked for by the page once the table is in) and the cell detail,
with their SQL query counts (which must not depend on the data size).

    .venv/bin/python benchmarks/bench_views.py [--repeat 20]
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


def setup_django(db_path: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "simsite.settings"
    os.environ["DJANGO_DEBUG"] = "0"
    # Loopback only: local mode (no login), as `make run` serves it.
    os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def insert(keys: list[tuple[str, str, str, str]], runs: int, check_ids: list[str]) -> int:
    """``runs`` runs, each with one task per key and one check row per check id.

    Task rows carry their summary from ``task_tally``, as the run services write them.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from heatmap.models import Run, TaskResult, task_tally
    from heatmap.selectors import catalog_current
    from heatmap.services.catalogs import catalog_register

    catalog = catalog_register(catalog=catalog_current())
    now = timezone.now()
    first_task = (TaskResult.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
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
            finished = (now - timedelta(hours=runs - r)).isoformat()
            # Ids are assigned in insertion order from ``first_task`` (a fresh SQLite table),
            # so each task's results are known before its row is written.
            task_ids = range(first_task, first_task + len(keys))
            first_task += len(keys)
            # Scattered results: nearly every task fails a different set of checks, the
            # worst case for grouping tasks by their failing checks.
            results = {
                task_id: [
                    (c, RESULTS[zlib.crc32(f"{task_id}-{i}-{r}".encode()) % len(RESULTS)])
                    for i, c in enumerate(check_ids)
                ]
                for task_id in task_ids
            }
            summary_columns = ("pass_count", "fail_count", "unclear_count", "na_count")
            task_rows = []
            for task_id, (s, d, k, m) in zip(task_ids, keys, strict=True):
                summary = task_tally(results[task_id])
                counts = [summary[column] for column in summary_columns]
                markdown = "## Analysis\n\nFine.\n" * 20
                task_rows.append(
                    (
                        task_id,
                        run.pk,
                        catalog.pk,
                        s,
                        d,
                        k,
                        m,
                        markdown,
                        finished,
                        *counts,
                        summary["failed_checks"],
                    )
                )
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO heatmap_taskresult (id, run_id, catalog_id, scenario_id, domain,"
                    " skill, model,"
                    " risk_level, duration_s, input_tokens, output_tokens, cost_usd, error,"
                    " markdown_response, finished_at, pass_count, fail_count, unclear_count,"
                    " na_count, failed_checks, cache_write_tokens, cache_read_tokens, batch,"
                    " fingerprint, skill_fingerprint, scenario_fingerprint, prompt_fingerprint,"
                    " model_id, cached_from, cost_note, errored) VALUES (%s,%s,%s,%s,%s,%s,%s,"
                    "'LOW',1.0,1000,500,0.01,'',%s,%s,%s,%s,%s,%s,%s,0,0,false,'','','','',"
                    "'','','',false)",
                    task_rows,
                )
                cursor.executemany(
                    "INSERT INTO heatmap_checkresult (task_id, check_id, result, evidence,"
                    " summary) VALUES (%s,%s,%s,'SKILL.md:12','summary')",
                    [
                        (task_id, c, result)
                        for task_id in task_ids
                        for c, result in results[task_id]
                    ],
                )
                rows += len(task_ids) * len(check_ids)
    return rows


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


def report(title: str, rows: int, repeat: int) -> None:
    from django.test import Client
    from django.utils import timezone

    from heatmap.models import Run
    from heatmap.selectors import catalog_current

    catalog = catalog_current()
    domain = max(catalog.domains.values(), key=lambda d: len(d.scenarios))
    scenario = domain.scenarios[0]
    # An active run, so the fragments answer as polls do during a run.
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
    print(f"\n{title}: {rows:,} check rows")
    print(f"  {'target':38} {'median ms':>9} {'p95 ms':>8} {'queries':>7} {'goal':>6}")
    for name, url, htmx, goal, cold in targets:
        median, p95, queries, status = measure(client, url, repeat, htmx, cold)
        assert status == 200, f"{url} answered {status}"
        if goal is None:  # no goal: it comes after the page
            print(f"  {name:38} {median:9.1f} {p95:8.1f} {queries:7d} {'–':>6}")
            continue
        flag = "ok" if p95 <= goal else "SLOW"
        print(f"  {name:38} {median:9.1f} {p95:8.1f} {queries:7d} {goal:>4}ms {flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--dataset", choices=["A", "B", "both"], default="both")
    parser.add_argument("--db", help="keep the database in this file (one data set only)")
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
        setup_django(Path(args.db) if args.db else Path(tmp) / "bench.sqlite3")
        from heatmap.selectors import catalog_current

        catalog = catalog_current()
        check_ids = [c.id for c in catalog.taxonomy.model_checks]
        pairs = [(s.id, s.domain, k) for s in catalog.scenarios for k in s.target_skills]
        started = time.perf_counter()
        if args.dataset == "A":
            keys = [(s, d, k, m) for s, d, k in pairs[:67] for m in MODELS]
            rows = insert(keys, 100, check_ids)
            title = f"A. 100 runs × {len(keys)} tasks × {len(check_ids)} checks"
        else:
            keys = [(s, d, k, m) for s, d, k in pairs for m in MODELS]
            copy = 0
            while len(keys) < 10_000:
                copy += 1
                keys += [(f"{s}~{copy}", d, k, m) for s, d, k in pairs for m in MODELS]
            keys = keys[:10_000]
            rows = insert(keys, 1, check_ids)
            title = f"B. 1 run × {len(keys):,} tasks × {len(check_ids)} checks"
        print(f"{title}: filled in {time.perf_counter() - started:.0f} s")
        report(title, rows, args.repeat)


if __name__ == "__main__":
    main()
