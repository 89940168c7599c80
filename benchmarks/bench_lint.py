"""How long the static linter takes over the real corpus (``../shared/corpus``).

Two figures, each the median of ``--repeat`` runs in this process after one warm-up:
``lint_catalog`` on a loaded catalog (what the skill pages and a run's BP rows use), and the
whole ``manage.py lint_skills --details`` command in process (catalog loading, linting and
the rich table). Goals: under 1 s and under 2 s. They were asserted in the unit tests, where a
busy machine made them fail; timings belong here.

Run: ``.venv/bin/python benchmarks/bench_lint.py [--catalog DIR] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from io import StringIO
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
CORPUS_DIR = PROJECT_DIR.parent / "shared" / "corpus" / "apify-skills"


def timed(action) -> tuple[float, float]:
    """Wall time and CPU time of one call, in seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def report(name: str, samples: list[tuple[float, float]], goal_s: float) -> None:
    walls, cpus = zip(*samples, strict=True)
    wall = statistics.median(walls)
    print(
        f"{name}: median {wall:.3f} s wall (max {max(walls):.3f}), "
        f"{statistics.median(cpus):.3f} s CPU, n={len(samples)}; "
        f"goal < {goal_s:g} s {'met' if wall < goal_s else 'NOT met'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=CORPUS_DIR)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "simsite.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from skillcheck.catalog import load_catalog
    from skillcheck.linter import lint_catalog

    catalog = load_catalog(args.catalog)

    def command() -> None:
        call_command("lint_skills", "--catalog", str(args.catalog), "--details", stdout=StringIO())

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for name, action, goal_s in [
        ("lint_catalog", lambda: lint_catalog(catalog), 1.0),
        ("lint_skills --details", command, 2.0),
    ]:
        action()  # warm-up: imports and file cache
        report(name, [timed(action) for _ in range(args.repeat)], goal_s)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
