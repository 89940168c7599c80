"""The scenario editor's API: ``GET/PUT/POST/DELETE /api/scenarios/DOMAIN`` (the file
``scenarios/DOMAIN.yaml`` of the catalog, ``?catalog=NAME`` as elsewhere) with JSON bodies
``{"content": "<the file's YAML>"}``, and ``GET /api/scenarios/templates``.

A refused save is a 400 whose ``error`` names the file, line and column (and ``line`` and
``column`` say them again); nothing is written then. In team mode only staff users may
change files (403 for others); reading is open to every signed-in user.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from heatmap import selectors
from heatmap.api.original import scenario_detail
from heatmap.api.responses import error_response
from heatmap.security import (
    BadRequestBody,
    json_body,
    json_or_csrf,
    public_catalog_error,
    public_text,
)
from heatmap.services import plans
from heatmap.services.scenario_create import scenario_create
from heatmap.services.scenario_delete import scenario_delete
from heatmap.services.scenario_save import scenario_save
from heatmap.services.scenario_writes import ScenarioChange, ScenarioRefused


def _scope(request: HttpRequest) -> selectors.CatalogScope:
    return selectors.catalog_scope(name=request.GET.get("catalog", ""))


def _catalog_or_none(scope: selectors.CatalogScope) -> Any:
    try:
        return scope.load()
    except selectors.CatalogError:
        return None


@require_GET
def scenario_templates(request: HttpRequest) -> JsonResponse:
    """The original's templates: ``{domain, category}`` texts (filled from the catalog so
    each loads as is; ``?domain=NAME`` names the new file), with the catalog's ``domains``
    and ``categories`` (its check groups) and ``skills``."""
    scope = _scope(request)
    catalog = _catalog_or_none(scope)
    name = request.GET.get("domain", "") or "my-domain"
    texts = selectors.scenario_templates(catalog=catalog, domain=name)
    return JsonResponse(
        {
            **texts,
            "domains": sorted(catalog.domains) if catalog else [],
            "categories": list(catalog.taxonomy.groups) if catalog else [],
            "skills": list(catalog.skills) if catalog else [],
        }
    )


def _read(request: HttpRequest, scope: selectors.CatalogScope, domain: str) -> JsonResponse:
    shown = selectors.scenario_file_read(root=scope.root.resolve(), domain=domain)
    refusal = selectors.scenario_edit_refusal(scope)
    return JsonResponse(
        {
            "domain": shown.domain,
            "file": f"scenarios/{shown.file}",
            "catalog": scope.name,
            "content": shown.text,
            "version": shown.version,
            "editable": not refusal and selectors.scenario_may_edit(user=request.user),
            "read_only_reason": refusal
            or ("" if selectors.scenario_may_edit(user=request.user) else "staff only"),
        }
    )


def _changed(change: ScenarioChange, status: int = 200) -> JsonResponse:
    """A change made: the file, its new version, the backup, and the catalog's plan now."""
    catalog = change.check.catalog
    plan = plans.catalog_plan_preview(catalog=catalog, models=None) if catalog else None
    still = change.check.still_broken
    return JsonResponse(
        {
            "domain": change.domain,
            "file": f"scenarios/{change.file}",
            "action": change.action,
            "version": change.version,
            "backup": f"scenarios/{change.backup}" if change.backup else "",
            "pairs": sum(len(s.target_skills) for s in catalog.scenarios) if catalog else None,
            "plan": public_text(plan.text) if plan else "",
            "warnings": [public_text(w.split(": ", 1)[-1]) for w in change.check.warnings],
            "catalog_error": public_catalog_error(still) if still else "",
        },
        status=status,
    )


def _refused(exc: ScenarioRefused) -> JsonResponse:
    error = exc.check.refusal if exc.check is not None else None
    if error is None:
        return error_response(public_text(str(exc)), exc.status)
    root = error.root
    file = error.path.relative_to(root).as_posix() if root else error.path.name
    body: dict[str, Any] = {"error": public_catalog_error(error), "file": file}
    body |= {"line": error.line, "column": error.column}
    return JsonResponse(body, status=exc.status)


def _content(request: HttpRequest) -> tuple[str, str | None]:
    """``content`` (and the optional ``version`` it was edited from) of a JSON body."""
    body = json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("content"), str):
        raise BadRequestBody('send {"content": "<the file\'s YAML>"}')
    version = body.get("version")
    if version is not None and not isinstance(version, str):
        raise BadRequestBody("'version' must be the text of a file's version")
    return body["content"], version


@json_or_csrf
def _change(request: HttpRequest, scope: selectors.CatalogScope, domain: str) -> JsonResponse:
    if not selectors.scenario_may_edit(user=request.user):
        return error_response("only staff users may edit scenarios in team mode", 403)
    try:
        if request.method == "DELETE":
            version = None
            if request.body:
                version = _content_version(request)
            return _changed(
                scenario_delete(scope=scope, domain=domain, user=request.user, version=version)
            )
        content, version = _content(request)
        if request.method == "POST":
            created = scenario_create(
                scope=scope, domain=domain, content=content, user=request.user
            )
            return _changed(created, status=201)
        saved = scenario_save(
            scope=scope, domain=domain, content=content, user=request.user, version=version
        )
        return _changed(saved)
    except BadRequestBody as exc:
        return error_response(str(exc), exc.status)
    except ScenarioRefused as exc:
        return _refused(exc)


def _content_version(request: HttpRequest) -> str | None:
    """A DELETE's optional ``{"version": ...}``."""
    body = json_body(request)
    version = body.get("version") if isinstance(body, dict) else None
    if version is not None and not isinstance(version, str):
        raise BadRequestBody("'version' must be the text of a file's version")
    return version


@csrf_exempt  # a change passes _change's own check (JSON or a CSRF token)
@require_http_methods(["GET", "PUT", "POST", "DELETE"])
def scenario_file(request: HttpRequest, domain: str) -> HttpResponseBase:
    """GET the file's YAML (or, when no file has that name, the original's scenario of that
    id); PUT saves it, POST creates it, DELETE removes it, each keeping ``FILE.bak``."""
    try:
        scope = _scope(request)
    except selectors.UnknownCatalog as exc:
        return error_response(str(exc), 404)
    if request.method != "GET":
        return _change(request, scope, domain)
    try:
        return _read(request, scope, domain)
    except (selectors.ScenarioNameError, selectors.ScenarioFileMissing):
        return scenario_detail(request, domain)
    except selectors.CatalogError as exc:
        return error_response(public_catalog_error(exc), 422)


__all__ = ["scenario_file", "scenario_templates"]
