"""The original skill-checker's script API (its ``sim_core`` module), on skillcheck's engine.

Scripts and notebooks written against the original import these names: the taxonomy
constants, the loaders, the dataclasses, ``parse_scoring_response`` and the report functions,
with the original's shapes (``load_all_scored_reports()`` gives ``(metadata, runs)`` pairs,
``cost_info`` is text). Everything is derived from the configured catalog and its
``checks.yaml``, read through ``skillcheck``; files are written by ``skillcheck.reports`` (so
they are atomic and load in the web app). New code should import ``skillcheck`` directly.

Set ``sim_core.REPORTS_DIR`` or ``sim_core.CATALOG_DIR`` from a script, as with the original;
by default they follow ``SKILLCHECK_REPORTS_DIR`` and ``SKILLCHECK_CATALOG``, like the app.
Deliberate differences: the taxonomy is this project's (30 model checks with SEC-5, not 29),
generalist skills are the manifest's ``generalist: true`` ones rather than two fixed names, and
``checks.yaml`` has no per-group model list, so every model group defaults to ``DEFAULT_MODELS``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from skillcheck import reports as _reports
from skillcheck.bundled import EXAMPLE_CATALOG_DIR, default_reports_dir
from skillcheck.catalog import Catalog, load_catalog
from skillcheck.parser import parse_response
from skillcheck.results import ScoredRun as _EngineRun
from skillcheck.vocabulary import UNKNOWN_RISK

ROOT = Path(__file__).resolve().parent
CATALOG_DIR = Path(os.environ.get("SKILLCHECK_CATALOG") or EXAMPLE_CATALOG_DIR)
REPORTS_DIR = Path(os.environ.get("SKILLCHECK_REPORTS_DIR") or default_reports_dir())

DEFAULT_MODELS = ["sonnet", "opus", "haiku"]
DEFAULT_CONCURRENCY = 3
LINTER_MODEL = "bp-linter"  # the original's "model" name for the static BP checks
SEVERITY_ORDER = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3}

# Names computed from the catalog when first asked for (see ``__getattr__``), so that
# ``import sim_core`` works with any catalog and a script may point CATALOG_DIR elsewhere.
_CATALOG_NAMES = (
    "MANIFEST_PATH",
    "SCENARIOS_DIR",
    "WF_CATEGORIES",
    "DK_CATEGORIES",
    "BP_CATEGORIES",
    "APF_CATEGORIES",
    "SEC_CATEGORIES",
    "ALL_CATEGORIES",
    "CATEGORY_GROUPS",
    "LLM_CHECK_IDS",
    "DEV_DOMAINS",
    "DEV_EXCLUDED_CHECKS",
    "DOMAIN_SKILL_MAP",
)
# Their types, for readers and type checkers (the values come from ``__getattr__``).
MANIFEST_PATH: Path
SCENARIOS_DIR: Path
WF_CATEGORIES: dict[str, dict[str, str]]
DK_CATEGORIES: dict[str, dict[str, str]]
BP_CATEGORIES: dict[str, dict[str, str]]
APF_CATEGORIES: dict[str, dict[str, str]]
SEC_CATEGORIES: dict[str, dict[str, str]]
ALL_CATEGORIES: dict[str, dict[str, str]]
CATEGORY_GROUPS: dict[str, dict[str, Any]]
LLM_CHECK_IDS: list[str]
DEV_DOMAINS: set[str]
DEV_EXCLUDED_CHECKS: list[str]
DOMAIN_SKILL_MAP: dict[str, str]


# --- Data structures (the original's fields) ---------------------------------------------


@dataclass
class Scenario:
    id: str
    name: str
    prompt: str
    target_skill: str
    source_file: str
    category: str = ""
    domain: str = ""
    models: list[str] | None = None


@dataclass
class RunResult:
    scenario_id: str
    model: str
    response: str
    duration_s: float
    cost_info: str
    error: str | None = None


@dataclass
class CheckResult:
    check_id: str
    result: str  # "pass" | "fail" | "unclear" | "na"
    evidence: str
    summary: str = ""


@dataclass
class ScoredRun:
    scenario_id: str
    skill: str
    model: str
    checks: list[CheckResult]
    risk_level: str
    markdown_response: str
    duration_s: float
    cost_info: str
    error: str | None = None


# --- The catalog and the names derived from it -------------------------------------------


@lru_cache(maxsize=4)
def _load(root: Path, mtime_key: tuple[float, ...]) -> Catalog:
    return load_catalog(root)


def _catalog() -> Catalog:
    """The catalog at CATALOG_DIR, read again when its manifest or scenario files change."""
    root = Path(CATALOG_DIR).resolve()
    files = [root / "skills_manifest.yaml", root / "checks.yaml", *root.glob("scenarios/*.y*ml")]
    key = tuple(path.stat().st_mtime if path.exists() else 0.0 for path in sorted(files))
    return _load(root, key)


def _group_categories(group: str) -> dict[str, dict[str, str]]:
    return {
        c.id: {"name": c.name, "severity": str(c.severity), "description": c.description}
        for c in _catalog().taxonomy.checks
        if c.group == group
    }


def _category_groups() -> dict[str, dict[str, Any]]:
    taxonomy = _catalog().taxonomy
    static = {c.group for c in taxonomy.static_checks}
    return {
        code: {
            "name": name,
            "default_models": [LINTER_MODEL] if code in static else list(DEFAULT_MODELS),
            "categories": _group_categories(code),
        }
        for code, name in taxonomy.groups.items()
    }


def _domain_skill_map() -> dict[str, str]:
    return {d.id: d.specialist for d in _catalog().domains.values() if d.kind == "domain"}


def _dev_domains() -> set[str]:
    catalog = _catalog()
    return {
        domain
        for domain, skill in _domain_skill_map().items()
        if skill in catalog.skills and catalog.skills[skill].is_dev
    }


def __getattr__(name: str) -> Any:
    """The catalog-derived constants, computed from the current ``CATALOG_DIR``."""
    if name not in _CATALOG_NAMES:
        raise AttributeError(f"module 'sim_core' has no attribute {name!r}")
    taxonomy = _catalog().taxonomy
    if name == "MANIFEST_PATH":
        return Path(CATALOG_DIR) / "skills_manifest.yaml"
    if name == "SCENARIOS_DIR":
        return Path(CATALOG_DIR) / "scenarios"
    if name.endswith("_CATEGORIES") and name != "ALL_CATEGORIES":
        return _group_categories(name.removesuffix("_CATEGORIES"))
    if name == "ALL_CATEGORIES":
        return {
            cid: cat for g in _category_groups().values() for cid, cat in g["categories"].items()
        }
    if name == "CATEGORY_GROUPS":
        return _category_groups()
    if name == "LLM_CHECK_IDS":
        return [c.id for c in taxonomy.model_checks]
    if name == "DEV_DOMAINS":
        return _dev_domains()
    if name == "DEV_EXCLUDED_CHECKS":
        return [c.id for c in taxonomy.checks if c.id in taxonomy.dev_na]
    return _domain_skill_map()  # DOMAIN_SKILL_MAP


def get_category_type(cat_id: str) -> str:
    """The group of a check id ('APF-3' -> 'APF'), or 'UNKNOWN'."""
    prefix = cat_id.split("-")[0]
    return prefix if prefix in _catalog().taxonomy.groups else "UNKNOWN"


# --- Loading ------------------------------------------------------------------------------


def load_manifest() -> dict[str, dict[str, Any]]:
    """Skill name -> {path (absolute), category, generalist}, checked by the catalog."""
    return {
        name: {"path": str(skill.path), "category": skill.category, "generalist": skill.generalist}
        for name, skill in _catalog().skills.items()
    }


def _scenarios(*, domains_only: bool) -> dict[str, list[Scenario]]:
    grouped: dict[str, list[Scenario]] = {}
    for domain in _catalog().domains.values():
        is_category = domain.kind == "category"
        if domains_only and is_category:
            continue
        grouped[domain.id] = [
            Scenario(
                id=s.id,
                name=s.name,
                prompt=s.prompt,
                target_skill=s.specialist,
                source_file=s.source.name if s.source else "",
                category=domain.id.upper() if is_category else "",
                domain="" if is_category else domain.id,
                models=list(s.models) or None,
            )
            for s in domain.scenarios
        ]
    return grouped


def load_scenarios() -> list[Scenario]:
    """Every scenario of the catalog, domain files and category (WF/DK/APF/SEC) files."""
    return [s for group in _scenarios(domains_only=False).values() for s in group]


def load_domain_scenarios() -> dict[str, list[Scenario]]:
    """{domain: scenarios} of the domain files only (those with ``domain:``)."""
    return _scenarios(domains_only=True)


def read_skill(manifest: dict[str, dict[str, Any]], skill_name: str) -> str:
    info = manifest.get(skill_name)
    if not info:
        raise ValueError(f"Skill '{skill_name}' not found in manifest")
    path = Path(info["path"])
    if not path.exists():
        raise FileNotFoundError(f"SKILL.md not found: {path}")
    return path.read_text(encoding="utf-8")


def get_target_skills(scenario: Scenario, manifest: dict[str, dict[str, Any]]) -> list[str]:
    """The skills a scenario audits: its specialist, plus the generalists outside dev domains."""
    if not scenario.domain:
        return [scenario.target_skill]
    if scenario.domain in _dev_domains():
        return [scenario.target_skill]
    generalists = [
        name
        for name, info in manifest.items()
        if info.get("generalist") and name != scenario.target_skill
    ]
    return [scenario.target_skill, *generalists]


def get_scenario_models(scenario: Scenario, cli_override: list[str] | None = None) -> list[str]:
    """The CLI's models, else the scenario's, else its category group's, else DEFAULT_MODELS."""
    if cli_override:
        return cli_override
    if scenario.models:
        return scenario.models
    groups = _category_groups()
    if scenario.category in groups:
        return list(groups[scenario.category]["default_models"])
    return list(DEFAULT_MODELS)


# --- Scoring ------------------------------------------------------------------------------


def parse_scoring_response(raw: str) -> tuple[str, dict[str, CheckResult], str]:
    """(markdown, {check_id: CheckResult} for every model check, risk level).

    skillcheck's one parser reads the answer. As in the original, the markdown is the answer
    without its final JSON block; with no block or broken JSON every check is ``unclear``
    (the reason as evidence), the risk ``UNKNOWN`` and the markdown the whole answer.
    """
    parsed = parse_response(raw, [c.id for c in _catalog().taxonomy.model_checks])
    markdown = parsed.markdown
    if parsed.error is None:
        fence = markdown.lower().rfind("```json")
        markdown = markdown[:fence].rstrip() if fence != -1 else markdown
    checks = {
        v.check_id: CheckResult(
            check_id=v.check_id,
            result=str(v.result),
            evidence=v.evidence or (parsed.error or ""),
            summary=v.summary if parsed.error is None else "",
        )
        for v in parsed.checks
    }
    risk = parsed.risk_level if parsed.error is None else UNKNOWN_RISK
    return markdown, checks, risk


# --- Comparison reports (RunResult) ---------------------------------------------------------


def generate_markdown_report(
    scenarios: list[Scenario], results: list[RunResult], models: list[str]
) -> str:
    """A Markdown report of free-form runs: per scenario, each model's answer or error."""
    lines = [
        "# Skill Checker Report",
        f"Generated: {datetime.now().strftime('%Y-%m-%d %H:%M')}",
        f"Models: {', '.join(models)}",
        f"Scenarios: {len(scenarios)}",
        "",
    ]
    by_key = {(r.scenario_id, r.model): r for r in results}
    for scenario in scenarios:
        lines += [
            "---\n",
            f"## [{scenario.id}] {scenario.name}",
            f"**Skill**: `{scenario.target_skill}` | **Source**: `{scenario.source_file}`",
        ]
        if scenario.category:
            lines.append(f"**Category**: {scenario.category}")
        lines += [f"**Prompt**: _{scenario.prompt}_", ""]
        for model in models:
            result = by_key.get((scenario.id, model))
            if result is None:
                lines.append(f"### {model}: _not run_\n")
            elif result.error:
                lines += [f"### {model}: ERROR", f"```\n{result.error}\n```\n"]
            else:
                lines += [
                    f"### {model} ({result.duration_s}s, {result.cost_info})",
                    "",
                    result.response,
                    "",
                ]
    return "\n".join(lines)


def generate_json_report(
    scenarios: list[Scenario], results: list[RunResult], models: list[str]
) -> dict[str, Any]:
    """The same report as a dictionary: per scenario, per model the answer and its cost."""
    by_key = {(r.scenario_id, r.model): r for r in results}

    def entry(result: RunResult | None) -> dict[str, Any]:
        fields = ("response", "duration_s", "cost_info", "error")
        return {f: getattr(result, f) if result else None for f in fields}

    return {
        "generated": datetime.now().isoformat(),
        "models": models,
        "scenario_count": len(scenarios),
        "results": [
            {
                "scenario_id": s.id,
                "scenario_name": s.name,
                "target_skill": s.target_skill,
                "prompt": s.prompt,
                "category": s.category,
                "models": {m: entry(by_key.get((s.id, m))) for m in models},
            }
            for s in scenarios
        ],
    }


# --- Scored reports -----------------------------------------------------------------------


def _row(run: ScoredRun) -> dict[str, Any]:
    """A run as the original wrote it (``cost_info`` as text); skillcheck reads this form."""
    return dataclasses.asdict(run)


def _cost_text(run: _EngineRun) -> str:
    """The original's cost text, from what skillcheck kept of it (or counted itself)."""
    if run.cost_note:
        return run.cost_note
    if not (run.input_tokens or run.output_tokens or run.cost_usd):
        return ""
    text = f"input={run.input_tokens}, output={run.output_tokens}"
    return f"{text}, cost_usd={run.cost_usd:.6f}" if run.cost_usd else text


def _from_engine(run: _EngineRun) -> ScoredRun:
    return ScoredRun(
        scenario_id=run.scenario_id,
        skill=run.skill,
        model=run.model,
        checks=[CheckResult(c.check_id, str(c.result), c.evidence, c.summary) for c in run.checks],
        risk_level=run.risk_level,
        markdown_response=run.markdown_response,
        duration_s=run.duration_s,
        cost_info=_cost_text(run),
        error=run.error,
    )


def save_scored_report(results: list[ScoredRun], metadata: dict[str, Any]) -> Path:
    """Write ``REPORTS_DIR/scored_{YYYYmmdd_HHMM}.json`` (a new name if that one exists)."""
    rows = [_row(r) for r in results]
    return _reports.save_scored_report(rows, metadata, reports_dir=Path(REPORTS_DIR))


def save_scored_report_incremental(
    run_id: str, results: list[ScoredRun], metadata: dict[str, Any]
) -> Path:
    """Rewrite ``REPORTS_DIR/scored_run_{run_id}.json`` atomically with every result so far."""
    rows = [_row(r) for r in results]
    return _reports.save_scored_report_incremental(
        run_id, rows, metadata, reports_dir=Path(REPORTS_DIR)
    )


def load_scored_report(path: Path) -> tuple[dict[str, Any], list[ScoredRun]]:
    """(metadata, runs) of one report, ours or the original's; ``ReportError`` if unreadable."""
    report = _reports.load_scored_report(path)
    return report.metadata, [_from_engine(r) for r in report.results]


def load_all_scored_reports() -> list[tuple[dict[str, Any], list[ScoredRun]]]:
    """(metadata, runs) of every readable ``scored_*.json`` in REPORTS_DIR, newest first."""
    return [
        (report.metadata, [_from_engine(r) for r in report.results])
        for report in _reports.load_all_scored_reports(Path(REPORTS_DIR))
    ]


def load_latest_scored_report() -> tuple[dict[str, Any], list[ScoredRun]] | None:
    reports = load_all_scored_reports()
    return reports[0] if reports else None


def merge_scored_runs(
    all_reports: list[tuple[dict[str, Any], list[ScoredRun]]],
) -> tuple[list[str], dict[tuple[str, str, str], ScoredRun]]:
    """(sorted models, {(scenario, skill, model): run}), the first report's run winning.

    The reports come newest first (as ``load_all_scored_reports`` gives them), so each key
    keeps its newest run, as in the original.
    """
    index: dict[tuple[str, str, str], ScoredRun] = {}
    for _metadata, runs in all_reports:
        for run in runs:
            index.setdefault((run.scenario_id, run.skill, run.model), run)
    return sorted({key[2] for key in index}), index


__all__ = [
    "ALL_CATEGORIES",
    "APF_CATEGORIES",
    "BP_CATEGORIES",
    "CATALOG_DIR",
    "CATEGORY_GROUPS",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MODELS",
    "DEV_DOMAINS",
    "DEV_EXCLUDED_CHECKS",
    "DK_CATEGORIES",
    "DOMAIN_SKILL_MAP",
    "LLM_CHECK_IDS",
    "MANIFEST_PATH",
    "REPORTS_DIR",
    "SCENARIOS_DIR",
    "SEC_CATEGORIES",
    "SEVERITY_ORDER",
    "WF_CATEGORIES",
    "CheckResult",
    "RunResult",
    "Scenario",
    "ScoredRun",
    "generate_json_report",
    "generate_markdown_report",
    "get_category_type",
    "get_scenario_models",
    "get_target_skills",
    "load_all_scored_reports",
    "load_domain_scenarios",
    "load_latest_scored_report",
    "load_manifest",
    "load_scenarios",
    "load_scored_report",
    "merge_scored_runs",
    "parse_scoring_response",
    "read_skill",
    "save_scored_report",
    "save_scored_report_incremental",
]
