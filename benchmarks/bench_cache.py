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
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
WORK = Path(tempfile.mkdtemp(prefix="bench_cache_"))
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
os.environ["SKILLCHECK_REPORTS_DIR"] = str(WORK / "reports")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "simsite.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from heatmap.services import runs  # noqa: E402
from skillcheck.auditors.base import AuditRequest, AuditResponse, Availability  # noqa: E402
from skillcheck.catalog import load_catalog  # noqa: E402
from skillcheck.reports import load_scored_report  # noqa: E402

CATALOG = PROJECT_DIR / "catalog"


class CountingAuditor:
    """Answers every check after ``call_s`` seconds with about 5 KB; counts its calls."""

    def __init__(self, name: str, call_s: float):
        self.name = name
        self.call_s = call_s
        self.calls = 0
        self._lock = threading.Lock()

    def availability(self) -> Availability:
        return Availability(True, via="offline")

    def audit(self, request: AuditRequest) -> AuditResponse:
        with self._lock:
            self.calls += 1
        time.sleep(self.call_s)
        checks = ", ".join(
            f'"{c.id}": {{"result": "pass", "evidence": "SKILL.md:12", "summary": "fine"}}'
            for c in request.taxonomy.model_checks
        )
        prose = "## Approach\n" + "The skill covers this prompt well. " * 110
        text = f'{prose}\n\n```json\n{{"risk_level": "LOW", "checks": {{{checks}}}}}\n```\n'
        return AuditResponse(text=text, input_tokens=3000, output_tokens=1200, cost_usd=0.02)


def timed_run(models: list[str], auditors: dict) -> tuple[float, object]:
    started = time.perf_counter()
    run = runs.run_create(
        domains=None, models=models, concurrency=32, catalog_path=CATALOG, auditors=auditors
    )
    run = runs.run_execute(run=run, auditors=auditors)
    return time.perf_counter() - started, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--call-s", type=float, default=1.0, help="seconds per model call")
    parser.add_argument("--tasks", type=int, default=1000, help="about this many tasks")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    pairs = sum(len(s.target_skills) for s in load_catalog(CATALOG).scenarios)
    models = [f"m{i}" for i in range(max(1, round(args.tasks / pairs)))]
    auditors = {m: CountingAuditor(m, args.call_s) for m in models}
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
