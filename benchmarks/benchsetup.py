"""What the run benchmarks share: Django on a fresh SQLite file, and an in-process auditor.

Import it first (``from benchsetup import ...``): it points Django at a temporary folder for
the database and the reports before Django is set up.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
CATALOG = PROJECT_DIR / "catalog"
sys.path.insert(0, str(PROJECT_DIR))

from skillcheck.auditors.base import AuditRequest, AuditResponse, Availability  # noqa: E402


def setup_django(prefix: str) -> Path:
    """Set Django up on a new temporary folder (``bench.sqlite3`` and ``reports/``), migrated;
    returns the folder, which the caller removes."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["SKILLCHECK_REPORTS_DIR"] = str(work / "reports")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "simsite.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return work


class BenchAuditor:
    """Answers every check with about 5 KB, instantly or after ``sleep_s``; counts its calls."""

    def __init__(self, name: str, sleep_s: float = 0.0):
        self.name = name
        self.sleep_s = sleep_s
        self.calls = 0
        self._lock = threading.Lock()

    def availability(self) -> Availability:
        return Availability(True, via="offline")

    def audit(self, request: AuditRequest) -> AuditResponse:
        with self._lock:
            self.calls += 1
        if self.sleep_s:
            time.sleep(self.sleep_s)
        checks = ", ".join(
            f'"{c.id}": {{"result": "pass", "evidence": "SKILL.md:12", "summary": "fine"}}'
            for c in request.taxonomy.model_checks
        )
        prose = "## Approach\n" + "The skill covers this prompt well. " * 110
        text = f'{prose}\n\n```json\n{{"risk_level": "LOW", "checks": {{{checks}}}}}\n```\n'
        return AuditResponse(text=text, input_tokens=3000, output_tokens=1200, cost_usd=0.02)


def catalog_pairs() -> int:
    """The bundled catalog's (scenario, target skill) pairs: a run's tasks for each model."""
    from skillcheck.catalog import load_catalog

    return sum(len(scenario.target_skills) for scenario in load_catalog(CATALOG).scenarios)


def models_for(tasks_wanted: int, pairs: int) -> list[str]:
    """Model names enough for about ``tasks_wanted`` tasks of ``pairs`` scenario-skill pairs."""
    return [f"m{i}" for i in range(max(1, round(tasks_wanted / pairs)))]
