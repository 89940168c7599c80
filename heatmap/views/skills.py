"""A skill's own pages: its history over runs, and the checks file its checks link to."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from heatmap import selectors


@require_GET
def skill_view(request: HttpRequest, name: str) -> HttpResponse:
    """One skill over time: pass % per model per run (an SVG chart), its matrix, lint, runs."""
    catalog = selectors.catalog_current()
    history = selectors.skill_history(catalog=catalog, skill=name)
    if name not in catalog.skills and not history.runs:
        raise Http404(f"unknown skill {name!r}")
    context = {"skill": name, "history": history, "chart": history.chart()}
    return render(request, "heatmap/skill.html", context)


@require_GET
def checks_file(request: HttpRequest) -> HttpResponse:
    """The catalog's checks.yaml with numbered lines, so a check can be linked to its line."""
    catalog = selectors.catalog_current()
    path = catalog.taxonomy.path
    text = path.read_text(encoding="utf-8") if path and path.is_file() else ""
    context = {"lines": text.splitlines(), "checks": catalog.taxonomy.checks}
    return render(request, "heatmap/checks-file.html", context)
