"""How long the app takes to start, per virtualenv, with ``PYTHONDONTWRITEBYTECODE=1``.

Each sample is a fresh process of the given interpreter that sets Django up and imports the
ASGI application (what ``make run`` does before daphne listens), then exits. With
``PYTHONDONTWRITEBYTECODE=1`` (set in many containers) Python never saves what it compiles, so
a virtualenv installed without ``--compile-bytecode`` compiles every module at every start.
Give several interpreters to compare virtualenvs installed both ways; for each, prints the
share of its modules that have bytecode and the median start time in seconds, as wall time
and as CPU time (which a busy machine disturbs less).

Run: ``.venv/bin/python benchmarks/bench_startup.py [--python PATH ...] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
START = (
    "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'simsite.settings'); "
    "import simsite.asgi"
)


BYTECODE_SHARE = (
    "import sys, sysconfig, pathlib; site = pathlib.Path(sysconfig.get_paths()['purelib']); "
    "tag = sys.implementation.cache_tag; sources = list(site.rglob('*.py')); "
    "print(sum((s.parent / '__pycache__' / f'{s.stem}.{tag}.pyc').exists() for s in sources)"
    " / max(len(sources), 1))"
)


def sample(python: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one start, in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([python, "-c", START], cwd=PROJECT_DIR, env=env, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(python: str, env: dict[str, str], repeat: int) -> None:
    share = float(subprocess.check_output([python, "-c", BYTECODE_SHARE], env=env))
    sample(python, env)  # warm the file cache
    walls, cpus = zip(*(sample(python, env) for _ in range(repeat)), strict=True)
    print(
        f"{python}: {share:.0%} of modules compiled; start median {statistics.median(walls):.2f} s"
        f" wall (min {min(walls):.2f}), {statistics.median(cpus):.2f} s CPU, n={repeat}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", help="interpreter (default: this one)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPYCACHEPREFIX", None)
    for python in args.python or [sys.executable]:
        measure(python, env, args.repeat)


if __name__ == "__main__":
    main()
