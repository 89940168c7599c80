"""Benchmark the response cache: an identical re-run of about 1,000 tasks calls nothing.

First run: an in-process auditor that takes ``--call-s`` seconds per call (a model call takes
tens of seconds; 1 s keeps the benchmark short) at concurrency 32, with the real persistence
(SQLite file database + JSON report). Second run: the same tasks again, with the cache on.
Goal: the re-run makes 0 calls, holds every result, and takes under 10 % of the first run's
time.

Run: ``.venv/bin/python benchmarks/bench_cache.py [--call-s 1.0] [--tasks 1000]``.
"""

from __future__ import annotations

import argparse
import shutil
import time

from benchsetup import CATALOG, BenchAuditor, catalog_pairs, models_for, setup_django

WORK = setup_django("bench_cache_")

from heatmap.services.execution import run_execute  # noqa: E402
from heatmap.services.start import run_create  # noqa: E402
from skillcheck.reports import load_scored_report  # noqa: E402


def timed_run(models: list[str], auditors: dict) -> tuple[float, object]:
    started = time.perf_counter()
    run = run_create(
        domains=None, models=models, concurrency=32, catalog_path=CATALOG, auditors=auditors
    )
    run = run_execute(run=run, auditors=auditors)
    return time.perf_counter() - started, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--call-s", type=float, default=1.0, help="seconds per model call")
    parser.add_argument("--tasks", type=int, default=1000, help="about this many tasks")
    args = parser.parse_args()
    pairs = catalog_pairs()
    models = models_for(args.tasks, pairs)
    auditors = {m: BenchAuditor(m, args.call_s) for m in models}
    first_s, first = timed_run(models, auditors)
    calls_first = sum(a.calls for a in auditors.values())
    second_s, second = timed_run(models, auditors)
    calls_second = sum(a.calls for a in auditors.values()) - calls_first
    report = load_scored_report(second.report_path)
    print(f"tasks: {first.total} ({pairs} pairs × {len(models)} models), {args.call_s:g} s/call")
    print(f"first run:  {first_s:7.2f} s, {calls_first} calls, ${first.cost_usd:.2f}")
    print(
        f"re-run:     {second_s:7.2f} s, {calls_second} calls, ${second.cost_usd:.2f}, "
        f"{second.cached} cached, report holds {len(report.results)} results"
    )
    ratio = second_s / first_s
    print(f"re-run / first run: {ratio:.1%} (goal: under 10 %, 0 calls)")
    ok = calls_second == 0 and len(report.results) == second.total and ratio < 0.10
    print("goal met" if ok else "GOAL MISSED")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
