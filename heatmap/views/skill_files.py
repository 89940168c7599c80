"""The skill viewer: one of a skill's files (SKILL.md or a reference the auditor reads) with
numbered, linkable lines (``#L31``), its frontmatter as a table, and the linter's findings and
the failing checks' evidence pinned to their lines."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from heatmap import selectors
from heatmap.views.lookups import catalog_scope_or_404


@require_GET
def skill_file_view(request: HttpRequest, name: str, path: str) -> HttpResponse:
    """``/skills/NAME/files/PATH``; ``?run=ID`` pins that run's evidence, ``?view=rendered``
    shows Markdown rendered (sanitized) instead of as source."""
    scope = catalog_scope_or_404(request)
    catalog = scope.load()
    try:
        shown = selectors.skill_file(
            catalog=catalog, skill=name, path=path, catalog_id=scope.catalog_id, run=scope.run
        )
    except selectors.SkillFileNotFound as exc:
        raise Http404(str(exc)) from None
    except selectors.CatalogError as exc:
        context = {"skill": name, "path": path, "error": exc.problem, "catalog_scope": scope}
        return render(request, "heatmap/skill-file.html", context, status=422)
    context = {
        "skill": name,
        "path": path,
        "file": shown,
        "files": shown.files,
        "rendered": request.GET.get("view") == "rendered" and shown.is_markdown,
        "catalog_scope": scope,
    }
    return render(request, "heatmap/skill-file.html", context)
