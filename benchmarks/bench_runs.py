"""Benchmark the run engine with real persistence (SQLite file database + JSON snapshot).

1. An instant in-process auditor answering ~5 KB: runs of about 1,000 and 10,000 tasks.
   Prints the per-task persistence overhead (median, p95, mean), bytes written to the JSON
   report, and the 10,000-vs-1,000 ratio. Goal: median under 5 ms and ratio at most 1.5.
2. An auditor that sleeps 200 ms: 1,000 tasks at concurrency 32. Prints efficiency = ideal
   wall time / actual wall time. Goal: at least 0.9.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_runs.py [--quick]``.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import time
from pathlib import Path

from benchsetup import CATALOG, BenchAuditor, catalog_pairs, models_for, setup_django

WORK = setup_django("bench_runs_")

from heatmap.services.execution import _Execution, run_execute  # noqa: E402
from heatmap.services.start import run_create  # noqa: E402
from skillcheck import reports  # noqa: E402


class Meter:
    """Times the persistence of each task (DB commit + snapshot) and counts bytes written.

    Answers that arrive together are saved together (``_Execution.on_results``, one
    transaction): each task of a save counts as the save's time divided by its tasks.
    """

    def __init__(self):
        self.samples: list[float] = []
        self.saves = 0
        self.bytes = 0
        self.writes = 0
        self._on_results = _Execution.on_results
        self._write = reports.atomic_write_bytes

    def __enter__(self):
        meter = self

        def on_results(execution, results):
            started = time.perf_counter()
            meter._on_results(execution, results)
            elapsed = time.perf_counter() - started
            meter.saves += 1
            meter.samples += [elapsed / len(results)] * len(results)

        def write(path, data):
            chunks = [data] if isinstance(data, bytes | bytearray) else list(data)
            meter.bytes += sum(len(c) for c in chunks)
            meter.writes += 1
            meter._write(path, chunks)

        _Execution.on_results = on_results
        reports.atomic_write_bytes = write
        return self

    def __exit__(self, *exc):
        _Execution.on_results = self._on_results
        reports.atomic_write_bytes = self._write


def run_once(models: list[str], *, sleep_s: float = 0.0, concurrency: int = 3):
    """One run that calls every task: the response cache would answer a task an earlier run
    of this script stored (the efficiency run repeats the first run's tasks)."""
    auditors = {m: BenchAuditor(m, sleep_s) for m in models}
    run = run_create(
        domains=None,
        models=models,
        concurrency=concurrency,
        catalog_path=CATALOG,
        auditors=auditors,
        use_cache=False,
    )
    with Meter() as meter:
        started = time.perf_counter()
        run = run_execute(run=run, auditors=auditors)
        wall = time.perf_counter() - started
    assert run.status == "completed" and run.completed == run.total, run.status
    assert sum(a.calls for a in auditors.values()) == run.total, "some tasks were not called"
    return run, meter, wall


def overhead(tasks_wanted: int, pairs: int) -> dict[str, float]:
    run, meter, wall = run_once(models_for(tasks_wanted, pairs))
    ms = sorted(s * 1000 for s in meter.samples)
    figures = {
        "tasks": run.total,
        "median_ms": statistics.median(ms),
        "p95_ms": ms[int(0.95 * (len(ms) - 1))],
        "mean_ms": statistics.fmean(ms),
        "wall_per_task_ms": wall * 1000 / run.total,
        "saves": meter.saves,
        "json_writes": meter.writes,
        "bytes_written": meter.bytes,
        "report_bytes": Path(run.report_path).stat().st_size,
    }
    print(
        f"{figures['tasks']:>6} tasks: per-task overhead median {figures['median_ms']:.2f} ms, "
        f"p95 {figures['p95_ms']:.2f} ms, mean {figures['mean_ms']:.2f} ms; "
        f"wall {figures['wall_per_task_ms']:.2f} ms/task; {figures['saves']} saves; "
        f"JSON {figures['json_writes']} writes, "
        f"{figures['bytes_written'] / 1e6:.1f} MB written "
        f"(report {figures['report_bytes'] / 1e6:.1f} MB)"
    )
    return figures


def efficiency(pairs: int, tasks_wanted: int = 1000, concurrency: int = 32) -> float:
    run, _, wall = run_once(models_for(tasks_wanted, pairs), sleep_s=0.2, concurrency=concurrency)
    ideal = math.ceil(run.total / concurrency) * 0.2
    value = ideal / wall
    print(
        f"{run.total} tasks × 200 ms at concurrency {concurrency}: ideal {ideal:.2f} s, "
        f"actual {wall:.2f} s, efficiency {value:.3f}"
    )
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 2,000 tasks only")
    parser.add_argument("--keep", action="store_true", help="keep the database and reports")
    args = parser.parse_args()
    try:
        bench(quick=args.quick)
    finally:
        if not args.keep:
            shutil.rmtree(WORK, ignore_errors=True)


def bench(*, quick: bool) -> None:
    pairs = catalog_pairs()
    print(f"work folder {WORK}; catalog {CATALOG} ({pairs} scenario-skill pairs)")
    small = overhead(1000, pairs)
    large = overhead(2000 if quick else 10_000, pairs)
    print(
        f"ratio large/small: median {large['median_ms'] / small['median_ms']:.2f}, "
        f"p95 {large['p95_ms'] / small['p95_ms']:.2f}, "
        f"mean {large['mean_ms'] / small['mean_ms']:.2f}"
    )
    efficiency(pairs)


if __name__ == "__main__":
    main()
