"""The JSON API's routes and their OpenAPI schema (django-ninja): ``/api/schema/`` and
browsable docs at ``/api/docs/``.

Every ``/api/`` route is declared here, once, with its parameters and answer shapes for the
schema; each operation hands the request to the plain Django view that serves it
(``heatmap.api.runs``, ``.heatmap``, ``.original``), so limits, error shapes
(``{"error": "..."}``), CSRF rules and team-mode login behave as before. Request bodies
stay validated by the views' forms (the run form's limits and messages); the schema only
describes them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import NinjaAPI, Schema

from heatmap import (
    converters,  # noqa: F401  (registers the <run_id:…> converter)
)
from heatmap.api import heatmap as heatmap_api
from heatmap.api import original as original_api
from heatmap.api import routing as routing_api
from heatmap.api import runs as run_api
from heatmap.api import scenario_files as scenario_file_api
from heatmap.api import skill_files as skill_file_api


class Error(Schema):
    error: str


class RunCreated(Schema):
    run_id: str
    total: int
    warnings: list[str]


class Progress(Schema):
    run_id: str
    status: str
    total: int
    completed: int
    failed: int


class TopGap(Schema):
    check_id: str
    name: str
    severity: str
    count: int


class SkillRow(Schema):
    skill: str
    domain: str
    domains: list[str]
    is_dev: bool
    generalist: bool
    pass_pct: float | None
    pass_pct_rounded: int | None
    pass_count: int
    fail_count: int
    unclear_count: int
    na_count: int
    counts: dict[str, int]
    models: list[str]
    top_gaps: list[TopGap]
    removed: bool


class ScenarioRefusal(Schema):
    error: str
    file: str | None = None
    line: int | None = None
    column: int | None = None


class Health(Schema):
    status: str
    database: str
    channel_layer: str


api = NinjaAPI(
    title="skillcheck API",
    version="1",
    description="Runs, results and the catalog of skillcheck; the original skill-checker's "
    "endpoints too. In team mode send 'Authorization: Bearer TOKEN'.",
    urls_namespace="api",
    docs_url="/docs/",
    openapi_url="/schema/",
)
JSON_BODY = {"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}}
ERRORS: dict[int, Any] = {400: Error, 404: Error}


@api.post(
    "/heatmap/run",
    response={201: RunCreated, 400: Error, 403: Error, 415: Error},
    url_name="api-run",
    tags=["runs"],
    summary="Start a run: {domains, models, concurrency} (or the older {model})",
    openapi_extra=JSON_BODY,
)
def run_create(request: HttpRequest) -> HttpResponseBase:
    return run_api.run_create_view(request)


@api.get(
    "/heatmap/run/{run_id:run_id}",
    response={200: Progress, 404: Error},
    url_name="api-run-status",
    tags=["runs"],
    summary="A run's progress",
)
def run_status(request: HttpRequest, run_id: str) -> HttpResponseBase:
    return run_api.run_status(request, run_id)


@api.post(
    "/heatmap/run/{run_id:run_id}/cancel",
    response={200: Progress, 404: Error, 415: Error},
    url_name="api-run-cancel",
    tags=["runs"],
    summary="Ask a run to stop (send no body, or Content-Type: application/json)",
)
def run_cancel(request: HttpRequest, run_id: str) -> HttpResponseBase:
    return run_api.run_cancel_view(request, run_id)


@api.get(
    "/heatmap/compare",
    response={200: dict[str, Any], **ERRORS},
    url_name="api-compare",
    tags=["runs"],
    summary="The checks that flipped between two runs",
)
def run_compare(request: HttpRequest, base: str = "", new: str = "") -> HttpResponseBase:
    return run_api.run_compare(request)


@api.post(
    "/routing/run",
    response={201: dict[str, Any], 400: Error, 403: Error, 415: Error},
    url_name="api-routing-run",
    tags=["routing"],
    summary="Start a routing run of the current catalog",
    openapi_extra=JSON_BODY,
)
def routing_run_create(request: HttpRequest) -> HttpResponseBase:
    return routing_api.routing_run_create_view(request)


@api.get(
    "/routing/run/{run_id:run_id}",
    response={200: dict[str, Any], 404: Error},
    url_name="api-routing-run-status",
    tags=["routing"],
    summary="A routing run's progress and report",
)
def routing_run_status(request: HttpRequest, run_id: str) -> HttpResponseBase:
    return routing_api.routing_run_status(request, run_id)


@api.post(
    "/routing/run/{run_id:run_id}/cancel",
    response={200: dict[str, Any], 404: Error, 415: Error},
    url_name="api-routing-run-cancel",
    tags=["routing"],
    summary="Ask a routing run to stop",
)
def routing_run_cancel(request: HttpRequest, run_id: str) -> HttpResponseBase:
    return routing_api.routing_run_cancel_view(request, run_id)


@api.post(
    "/routing/run/{run_id:run_id}/resume",
    response={202: dict[str, Any], 404: Error, 409: Error, 415: Error},
    url_name="api-routing-run-resume",
    tags=["routing"],
    summary="Resume a stopped routing run (interrupted, cancelled, failed)",
)
def routing_run_resume(request: HttpRequest, run_id: str) -> HttpResponseBase:
    return routing_api.routing_run_resume_view(request, run_id)


@api.get(
    "/heatmap/catalogs",
    response=dict[str, Any],
    url_name="api-catalogs",
    tags=["heatmap"],
    summary="The catalogs (what ?catalog=NAME takes) and which is the default",
)
def catalog_list(request: HttpRequest) -> HttpResponseBase:
    return heatmap_api.catalog_list(request)


@api.get(
    "/heatmap/domains",
    response=dict[str, Any],
    url_name="api-domains",
    tags=["heatmap"],
    summary="The catalog's domains",
)
def domain_list(request: HttpRequest, catalog: str = "") -> HttpResponseBase:
    return heatmap_api.domain_list(request)


@api.get(
    "/heatmap/skills",
    response={200: list[SkillRow], 404: Error},
    url_name="api-skills",
    tags=["heatmap"],
    summary="One row per skill: pass rate, counts, top gaps (the original's fields too)",
)
def skill_rows(
    request: HttpRequest,
    catalog: str = "",
    domain: str | None = None,
    q: str = "",
    include: str = "",
) -> HttpResponseBase:
    return heatmap_api.skill_list(request)


@api.get(
    "/heatmap/domain/{domain_id}",
    response={200: dict[str, Any], 404: Error},
    url_name="api-domain",
    tags=["heatmap"],
    summary="A domain's matrix: scenarios × checks × models",
)
def domain_detail(request: HttpRequest, domain_id: str, catalog: str = "") -> HttpResponseBase:
    return heatmap_api.domain_detail(request, domain_id)


@api.get(
    "/heatmap/models",
    response=dict[str, Any],
    url_name="api-models",
    tags=["heatmap"],
    summary="The models, and why one cannot run here",
)
def model_list(request: HttpRequest) -> HttpResponseBase:
    return heatmap_api.model_list(request)


@api.get(
    "/heatmap/checks",
    response={200: dict[str, Any], 404: Error},
    url_name="api-checks",
    tags=["heatmap"],
    summary="The taxonomy's checks, least telling first: flaky, disputed, not discriminating",
)
def check_list(request: HttpRequest, catalog: str = "") -> HttpResponseBase:
    return heatmap_api.check_list(request)


@api.get(
    "/heatmap/bp",
    response=dict[str, Any],
    url_name="api-bp",
    tags=["heatmap"],
    summary="Skills × static best-practice checks (the original's BP matrix)",
)
def bp_matrix(request: HttpRequest) -> HttpResponseBase:
    return original_api.bp_matrix(request)


@api.get(
    "/heatmap/detail/{scenario_id}/{check_id}",
    response={200: dict[str, Any], 404: Error},
    url_name="api-detail",
    tags=["heatmap"],
    summary="One scenario's result for one check, per model and skill",
)
def cell_detail(request: HttpRequest, scenario_id: str, check_id: str) -> HttpResponseBase:
    return original_api.cell_detail(request, scenario_id, check_id)


@api.get(
    "/skills",
    response=dict[str, Any],
    url_name="api-skill-manifest",
    tags=["catalog"],
    summary="The manifest's skills",
)
def skill_manifest(request: HttpRequest) -> HttpResponseBase:
    return original_api.skill_list(request)


@api.get(
    "/skills/{name}/content",
    response={200: dict[str, Any], 404: Error},
    url_name="api-skill-content",
    tags=["catalog"],
    summary="A skill's SKILL.md",
)
def skill_content(request: HttpRequest, name: str) -> HttpResponseBase:
    return original_api.skill_content(request, name)


@api.get(
    "/skills/{name}/files/{path:path}",
    response={200: dict[str, Any], 404: Error, 422: Error},
    url_name="api-skill-file",
    tags=["catalog"],
    summary="One of the files the auditor reads for a skill, its lines' pinned notes",
)
def skill_file(request: HttpRequest, name: str, path: str, catalog: str = "") -> HttpResponseBase:
    return skill_file_api.skill_file(request, name, path)


@api.get(
    "/scenarios",
    response=list[dict[str, Any]],
    url_name="api-scenarios",
    tags=["catalog"],
    summary="Every scenario of the catalog",
)
def scenario_list(request: HttpRequest) -> HttpResponseBase:
    return original_api.scenario_list(request)


@api.get(
    "/scenarios/templates",
    response=dict[str, Any],
    url_name="api-scenario-templates",
    tags=["scenario editor"],
    summary="Templates for a new scenario file (domain and category), filled from the catalog",
)
def scenario_templates(
    request: HttpRequest, catalog: str = "", domain: str = ""
) -> HttpResponseBase:
    return scenario_file_api.scenario_templates(request)


SCENARIO_BODY = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["content"],
                    "properties": {
                        "content": {"type": "string", "description": "the file's YAML"},
                        "version": {
                            "type": "string",
                            "description": "the version GET answered; a file changed since "
                            "is refused (409) instead of overwritten",
                        },
                    },
                }
            }
        }
    }
}


@api.api_operation(
    ["GET", "PUT", "POST", "DELETE"],
    "/scenarios/{domain}",
    response={
        200: dict[str, Any],
        201: dict[str, Any],
        400: ScenarioRefusal,
        403: Error,
        404: Error,
        409: Error,
        415: Error,
    },
    url_name="api-scenario",
    tags=["scenario editor"],
    summary="A scenario file (scenarios/DOMAIN.yaml) as {content}: GET it (or, when no file "
    "has that name, the scenario of that id), PUT to save, POST to create, DELETE (each "
    "keeps FILE.bak); a refused change writes nothing",
    openapi_extra=SCENARIO_BODY,
)
def scenario_file(request: HttpRequest, domain: str, catalog: str = "") -> HttpResponseBase:
    return scenario_file_api.scenario_file(request, domain)


@api.get(
    "/categories",
    response=dict[str, Any],
    url_name="api-categories",
    tags=["catalog"],
    summary="The check taxonomy by group",
)
def category_list(request: HttpRequest) -> HttpResponseBase:
    return original_api.category_list(request)


@api.get(
    "/reports",
    response=dict[str, Any],
    url_name="api-reports",
    tags=["reports"],
    summary="The scored report files, newest first",
)
def report_list(request: HttpRequest) -> HttpResponseBase:
    return original_api.report_list(request)


@api.api_operation(
    ["GET", "DELETE"],
    "/reports/{filename}",
    response={200: dict[str, Any], 403: Error, 404: Error},
    url_name="api-report",
    tags=["reports"],
    summary="GET a report as stored; DELETE it (local mode, or a staff user; send JSON)",
)
def report_detail(request: HttpRequest, filename: str) -> HttpResponseBase:
    return original_api.report_detail(request, filename)


@api.get(
    "/health",
    response={200: Health, 503: Health},
    url_name="api-health",
    tags=["health"],
    summary="Database and channel layer reachable (no login needed)",
)
def health(request: HttpRequest) -> HttpResponseBase:
    return original_api.health(request)


def _urls() -> tuple[list[Any], str, str]:
    """The API's URL patterns for ``include`` (namespace ``api``), built once; /api/health
    answers without a login in team mode (a load balancer's probe has none)."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if str(pattern.pattern) == "health" and pattern.callback is not None:
            login_not_required(pattern.callback)  # marks the view (LoginRequiredMiddleware)
    return patterns, app_name, namespace


urls = _urls()
