"""The skill checker's engine, free of Django: catalog, auditors, parser, linter, runs, reports.

This module is the public entry point; the code lives in the ``skillcheck`` package beside it.
"""

from skillcheck.auditors import (
    Auditor,
    AuditorConfig,
    AuditRequest,
    AuditResponse,
    Availability,
    build_registry,
)
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
from skillcheck.parser import ParsedAnswer, parse_response
from skillcheck.prompt import build_system_prompt, build_user_prompt
from skillcheck.results import CheckResult, ScoredRun
from skillcheck.scoring import score_task

__all__ = [
    "AuditRequest",
    "AuditResponse",
    "Auditor",
    "AuditorConfig",
    "Availability",
    "Catalog",
    "CatalogError",
    "Check",
    "CheckResult",
    "Domain",
    "ParsedAnswer",
    "Scenario",
    "ScoredRun",
    "Skill",
    "Taxonomy",
    "build_registry",
    "build_system_prompt",
    "build_user_prompt",
    "load_catalog",
    "load_taxonomy",
    "parse_response",
    "score_task",
]
