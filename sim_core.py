"""The skill checker's public API for scripts: the engine's names in one import, no Django.

``from sim_core import load_catalog, score_task, save_scored_report_incremental`` is enough to
audit skills from a notebook or a script. The code lives in the ``skillcheck`` package beside
this module; the web app and the management commands import ``skillcheck`` directly (through
``heatmap.services``), so this module only re-exports and holds no logic of its own. Names
here stay stable across refactors of ``skillcheck``.
"""

from skillcheck.auditors import (
    Auditor,
    AuditorConfig,
    AuditRequest,
    AuditResponse,
    Availability,
    build_registry,
)
from skillcheck.auditors.claude import UNAVAILABLE_REASON, ClaudeAuditor
from skillcheck.auditors.heuristic import HeuristicAuditor
from skillcheck.catalog import (
    Catalog,
    CatalogError,
    Check,
    Domain,
    Scenario,
    Skill,
    Taxonomy,
    load_catalog,
    load_taxonomy,
)
from skillcheck.linter import Finding, SkillLint, lint_catalog, lint_columns, lint_skill
from skillcheck.parser import ParsedAnswer, parse_response
from skillcheck.prompt import build_system_prompt, build_user_prompt
from skillcheck.reports import (
    ReportError,
    ReportSnapshot,
    ScoredReport,
    incremental_report_path,
    load_all_scored_reports,
    load_scored_report,
    merge_scored_runs,
    save_scored_report,
    save_scored_report_incremental,
)
from skillcheck.results import CheckVerdict, ScoredRun
from skillcheck.runs import RunEngine, RunOutcome, Task, build_tasks, estimate_cost, execute_tasks
from skillcheck.scoring import score_task

# The seed's name for a check's verdict, kept for scripts written against it.
CheckResult = CheckVerdict

__all__ = [
    "UNAVAILABLE_REASON",
    "AuditRequest",
    "AuditResponse",
    "Auditor",
    "AuditorConfig",
    "Availability",
    "Catalog",
    "CatalogError",
    "Check",
    "CheckResult",
    "CheckVerdict",
    "ClaudeAuditor",
    "Domain",
    "Finding",
    "HeuristicAuditor",
    "ParsedAnswer",
    "ReportError",
    "ReportSnapshot",
    "RunEngine",
    "RunOutcome",
    "Scenario",
    "ScoredReport",
    "ScoredRun",
    "Skill",
    "SkillLint",
    "Task",
    "Taxonomy",
    "build_registry",
    "build_system_prompt",
    "build_tasks",
    "build_user_prompt",
    "estimate_cost",
    "execute_tasks",
    "incremental_report_path",
    "lint_catalog",
    "lint_columns",
    "lint_skill",
    "load_all_scored_reports",
    "load_catalog",
    "load_scored_report",
    "load_taxonomy",
    "merge_scored_runs",
    "parse_response",
    "save_scored_report",
    "save_scored_report_incremental",
    "score_task",
]
