"""The skill checker's engine, free of Django: catalog, auditors, parser, linter, runs, reports.

This module is the public entry point; the code lives in the ``skillcheck`` package beside it.
Django code (the web app, the management commands) calls these names and never re-implements
them.
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
from skillcheck.results import CheckResult, ScoredRun
from skillcheck.runs import RunEngine, RunOutcome, Task, build_tasks, estimate_cost, execute_tasks
from skillcheck.scoring import score_task

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
