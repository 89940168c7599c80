"""The original skill-checker's endpoints that skillcheck lacked: BP matrix, cell detail,
skills, reports and health. Same paths and shapes where the data agree (see the docs' API
page for each difference); answers carry no server path (``security.public_text``).
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import FileResponse, HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from heatmap import selectors
from heatmap.api.responses import error_response
from heatmap.security import json_or_csrf, public_catalog_warnings, public_text
from heatmap.services.auditors import default_models
from heatmap.services.reports import default_reports_dir
from skillcheck.catalog import Domain, Scenario
from skillcheck.linter import FM
from skillcheck.reports import REPORT_GLOB
from skillcheck.vocabulary import Result

REPORT_NAME = re.compile(r"scored_[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.json")
# A report's metadata is read for the list only up to this size (the rest is counted).
MAX_LISTED_REPORT_BYTES = 5 * 1024 * 1024
HEALTH_TIMEOUT_S = 3.0  # a channel layer slower than this to echo a message is down


@require_GET
def bp_matrix(request: HttpRequest) -> JsonResponse:
    """Skills × static checks: ``{skills, checks, matrix: {check: {skill: {result, detail}}}}``."""
    catalog = selectors.catalog_current()
    lints = selectors.lint_matrix(catalog=catalog)
    checks = [
        {"id": c.id, "name": c.name, "severity": c.severity} for c in catalog.taxonomy.static_checks
    ]
    checks.append({"id": FM, "name": "Frontmatter", "severity": "HIGH"})
    matrix: dict[str, dict[str, dict[str, Any]]] = {c["id"]: {} for c in checks}
    for skill, lint in lints.items():
        for check in checks:
            findings = lint.findings_for(check["id"])
            matrix[check["id"]][skill] = {
                "result": Result.FAIL if findings else Result.PASS,
                "detail": "; ".join(f"{f.file}:{f.line} {f.detail}" for f in findings),
                "findings": [f.to_dict() for f in findings],
            }
    return JsonResponse(
        {
            "skills": sorted(lints),
            "checks": checks,
            "matrix": matrix,
            "warnings": public_catalog_warnings(catalog),
        }
    )


def _entry(cell: selectors.CellDetail) -> dict[str, Any]:
    return {
        "skill": cell.skill,
        "result": cell.result,
        "evidence": cell.evidence,
        "summary": cell.summary,
        "markdown_response": cell.markdown,
        "error": public_text(cell.error) if cell.error else "",
        "run_id": cell.run_id,
        "stale": cell.stale,
    }


@require_GET
def cell_detail(request: HttpRequest, scenario_id: str, check_id: str) -> JsonResponse:
    """Per model: the specialist's result for one check of one scenario, and the generalists'.

    ``mcpc`` is the original's name for its one generalist: here it is the generalist named
    ``apify-mcpc`` when the catalog has it; every generalist is in ``generalists``.
    """
    catalog = selectors.catalog_current()
    if check_id not in catalog.taxonomy.by_id:
        return error_response(f"Check '{check_id}' not found", 404)
    try:
        catalog.scenario(scenario_id)
    except KeyError:
        return error_response(f"Scenario '{scenario_id}' not found", 404)
    models: dict[str, dict[str, Any]] = {}
    for cell in selectors.heatmap_cell_detail(
        catalog=catalog, scenario_id=scenario_id, check_id=check_id
    ):
        entry = models.setdefault(cell.model, {"specialist": None, "mcpc": None, "generalists": []})
        if cell.role == "specialist":
            entry["specialist"] = _entry(cell)
        else:
            entry["generalists"].append(_entry(cell))
            if cell.skill == "apify-mcpc":
                entry["mcpc"] = _entry(cell)
    return JsonResponse({"scenario_id": scenario_id, "check_id": check_id, "models": models})


@require_GET
def skill_list(request: HttpRequest) -> JsonResponse:
    """The manifest: ``{name: {name, path (in the catalog), category, generalist, exists}}``."""
    catalog = selectors.catalog_current()
    return JsonResponse(
        {
            name: {
                "name": name,
                "path": skill.path.relative_to(catalog.root).as_posix(),
                "category": skill.category,
                "generalist": skill.generalist,
                "is_dev": skill.is_dev,
                "exists": skill.path.is_file(),
            }
            for name, skill in catalog.skills.items()
        }
    )


@require_GET
def skill_content(request: HttpRequest, name: str) -> JsonResponse:
    """A skill's SKILL.md: ``{name, path (in the catalog), content, lines}``."""
    catalog = selectors.catalog_current()
    skill = catalog.skills.get(name)
    if skill is None:
        return error_response(f"Skill '{name}' not found in manifest", 404)
    text = skill.documents()[0][1]
    return JsonResponse(
        {
            "name": name,
            "path": skill.path.relative_to(catalog.root).as_posix(),
            "content": text,
            "lines": len(text.splitlines()),
            # The files the auditor reads, for /api/skills/NAME/files/PATH (the skill viewer).
            "files": selectors.skill_file_names(catalog=catalog, skill=name),
        }
    )


def _scenario_row(domain: Domain, scenario: Scenario) -> dict[str, Any]:
    category = domain.kind == "category"
    return {
        "id": scenario.id,
        "name": scenario.name,
        "prompt": scenario.prompt,
        "target_skill": scenario.specialist,
        "target_skills": list(scenario.target_skills),
        "source_file": scenario.source.name if scenario.source else "",
        "category": domain.id.upper() if category else "",
        "domain": "" if category else domain.id,
    }


@require_GET
def scenario_list(request: HttpRequest) -> JsonResponse:
    """Every scenario of the catalog, as the original listed them (a bare list)."""
    catalog = selectors.catalog_current()
    rows = [_scenario_row(d, s) for d in catalog.domains.values() for s in d.scenarios]
    return JsonResponse(rows, safe=False)


@require_GET
def scenario_detail(request: HttpRequest, scenario_id: str) -> JsonResponse:
    catalog = selectors.catalog_current()
    for domain in catalog.domains.values():
        for scenario in domain.scenarios:
            if scenario.id == scenario_id:
                return JsonResponse(_scenario_row(domain, scenario))
    return error_response(f"Scenario '{scenario_id}' not found", 404)


@require_GET
def category_list(request: HttpRequest) -> JsonResponse:
    """The taxonomy by group: ``{groups: {wf: {name, default_models, categories}}, total}``.

    ``default_models`` is the linter for the static group and today's default model for the
    others (checks.yaml names no models per group).
    """
    taxonomy = selectors.catalog_current().taxonomy
    models = default_models()
    static = {c.group for c in taxonomy.static_checks}
    groups = {
        code.lower(): {
            "name": name,
            "default_models": ["bp-linter"] if code in static else models,
            "categories": {
                c.id: {
                    "id": c.id,
                    "type": code,
                    "name": c.name,
                    "severity": c.severity,
                    "description": c.description,
                }
                for c in taxonomy.checks
                if c.group == code
            },
        }
        for code, name in taxonomy.groups.items()
    }
    return JsonResponse({"groups": groups, "total": len(taxonomy.checks)})


def _report_summary(path: Path) -> dict[str, Any]:
    stat = path.stat()
    summary: dict[str, Any] = {"filename": path.name, "size": stat.st_size}
    if stat.st_size <= MAX_LISTED_REPORT_BYTES:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            document = None
        if isinstance(document, dict):
            results = document.get("results")
            summary |= {
                key: document.get(key)
                for key in ("run_id", "generated", "models", "domains", "status")
                if key in document
            }
            summary["result_count"] = len(results) if isinstance(results, list) else None
    return summary


def _report_path(filename: str) -> Path | None:
    if not REPORT_NAME.fullmatch(filename):
        return None
    path = default_reports_dir() / filename
    return path if path.is_file() else None


@require_GET
def report_list(request: HttpRequest) -> JsonResponse:
    """Every scored report file, newest first, with its run id, date, models and size."""
    folder = default_reports_dir()
    paths = sorted(
        (p for p in folder.glob(REPORT_GLOB) if REPORT_NAME.fullmatch(p.name)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    return JsonResponse({"reports": [_report_summary(p) for p in paths]})


@json_or_csrf
def _report_delete(request: HttpRequest, path: Path) -> JsonResponse:
    if settings.SKILLCHECK_REQUIRE_LOGIN and not request.user.is_staff:
        return error_response("only staff users may delete reports in team mode", 403)
    path.unlink(missing_ok=True)
    return JsonResponse({"status": "deleted", "filename": path.name})


@csrf_exempt  # a DELETE passes _report_delete's own check (JSON or a CSRF token)
@require_http_methods(["GET", "DELETE"])
def report_detail(request: HttpRequest, filename: str) -> HttpResponseBase:
    """GET: the report as it is on disk. DELETE: remove it (local mode, or a staff user)."""
    path = _report_path(filename)
    if path is None:
        return error_response(f"Report '{filename}' not found", 404)
    if request.method == "DELETE":
        return _report_delete(request, path)
    return FileResponse(path.open("rb"), content_type="application/json")


def _database_ok() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not reachable"; the reason is shown
        return public_text(f"unreachable: {type(exc).__name__}: {exc}")[:300]
    return "ok"


def _channel_layer_ok() -> str:
    layer = get_channel_layer()
    if layer is None:
        return "not configured"

    async def round_trip() -> bool:
        channel = await layer.new_channel("health.")
        await layer.send(channel, {"type": "health.ping"})
        message = await asyncio.wait_for(layer.receive(channel), HEALTH_TIMEOUT_S)
        return message.get("type") == "health.ping"

    try:
        ok = async_to_sync(round_trip)()
    except Exception as exc:  # Redis down, refused, timed out: all "not reachable"
        return public_text(f"unreachable: {type(exc).__name__}: {exc}")[:300]
    return "ok" if ok else "unreachable: a message did not come back"


@login_not_required
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database and the channel layer answer, else 503 naming what failed."""
    checks = {"database": _database_ok(), "channel_layer": _channel_layer_ok()}
    ok = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ok else "error", **checks}, status=200 if ok else 503)


__all__ = [
    "bp_matrix",
    "category_list",
    "cell_detail",
    "health",
    "report_detail",
    "report_list",
    "scenario_detail",
    "scenario_list",
    "skill_content",
    "skill_list",
]
