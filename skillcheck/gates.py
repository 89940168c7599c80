"""Exit codes and the gates that choose them: what CI reads from ``skillcheck`` and manage.py.

The codes are part of the interface and do not change:

====  ==================================================================================
0     success: every gate asked for passed
1     a gate failed: lint findings at or above ``--fail-on``, a pass rate under
      ``--fail-under``, or a regression under ``--fail-on-regression``
2     the command could not do its work: bad options, an unusable catalog, an unknown run
3     the run ended without completing (failed or interrupted); ``--resume`` finishes it
130   cancelled (Ctrl-C or SIGTERM); ``--resume`` finishes it
====  ==================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum

from skillcheck.catalog.model import Taxonomy
from skillcheck.linter.findings import FM, SkillLint
from skillcheck.vocabulary import Severity


class ExitCode(IntEnum):
    OK = 0
    GATE_FAILED = 1
    INVALID = 2
    RUN_INCOMPLETE = 3
    CANCELLED = 130


def finding_severity(check_id: str, taxonomy: Taxonomy) -> Severity:
    """A finding's severity: its check's, HIGH for frontmatter errors (the skill may not load)."""
    check = taxonomy.by_id.get(check_id)
    if check is not None:
        return check.severity
    return Severity.HIGH if check_id == FM else Severity.LOW


def lint_gate_failed(
    lints: Mapping[str, SkillLint], taxonomy: Taxonomy, fail_on: Severity | None
) -> bool:
    """True when any finding is at least ``fail_on`` severe (None: never)."""
    if fail_on is None:
        return False
    return any(
        finding_severity(f.check_id, taxonomy).rank >= fail_on.rank
        for lint in lints.values()
        for f in lint.findings
    )


def fail_under_failed(pass_pct: float | None, fail_under: float | None) -> bool:
    """True when the run's pass rate is below ``fail_under`` percent (no verdicts: 0 %)."""
    if fail_under is None:
        return False
    return (pass_pct or 0.0) < fail_under
