"""``/api/skills/NAME/files/PATH``: one of the files the auditor reads for a skill, with its
pinned findings and evidence (``/api/skills/NAME/content``, the original's SKILL.md answer,
lists them: ``heatmap.api.original``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from heatmap import selectors
from heatmap.api.responses import error_response


def _file_answer(request: HttpRequest, name: str, path: str) -> dict[str, Any] | JsonResponse:
    try:
        scope = selectors.catalog_scope(name=request.GET.get("catalog", ""))
        shown = selectors.skill_file(
            catalog=scope.load(), skill=name, path=path, catalog_id=scope.catalog_id
        )
    except selectors.UnknownCatalog as exc:
        return error_response(str(exc), 404)
    except selectors.SkillFileNotFound as exc:
        return error_response(str(exc), 404)
    except selectors.CatalogError as exc:
        return error_response(f"{path}: {exc.problem}", 422)
    return {
        "catalog": scope.name,
        "skill": name,
        "path": shown.path,
        "files": shown.files,
        "content": shown.text,
        "lines": len(shown.lines),
        "frontmatter": dict(shown.frontmatter),
        "changed_since_run": shown.changed,
        "run": shown.since_run or None,
        "pins": [
            {
                "line": line.number,
                "kind": pin.kind,
                "check_id": pin.check_id,
                "text": pin.text,
                "model": pin.model or None,
                "scenario_id": pin.scenario_id or None,
            }
            for line in shown.lines
            for pin in line.pins
        ],
    }


@require_GET
def skill_file(request: HttpRequest, name: str, path: str) -> JsonResponse:
    answer = _file_answer(request, name, path)
    return answer if isinstance(answer, JsonResponse) else JsonResponse(answer)
