"""A skill's own pages: its history over runs, and the checks file its checks link to."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from heatmap import selectors
from heatmap.views.lookups import catalog_scope_or_404
from skillcheck.catalog import Catalog


@require_GET
def skill_view(request: HttpRequest, name: str) -> HttpResponse:
    """One skill over time in one catalog (``?catalog=NAME``, default the configured one):
    pass % per model per run (an SVG chart), its matrix, lint, runs."""
    scope = catalog_scope_or_404(request)
    catalog = scope.load()
    history = selectors.skill_history(catalog=catalog, skill=name, catalog_id=scope.catalog_id)
    if name not in catalog.skills and not history.runs:
        raise Http404(f"unknown skill {name!r} in catalog {scope.name}")
    context = {
        "skill": name,
        "history": history,
        "chart": history.chart(),
        "catalog_scope": scope,
        "removed": name not in catalog.skills,
        "matrix_rows": _matrix_cells(history, catalog),
        "files": (
            selectors.skill_file_names(catalog=catalog, skill=name)
            if name in catalog.skills
            else []
        ),
    }
    return render(request, "heatmap/skill.html", context)


def _matrix_cells(history: selectors.SkillHistory, catalog: Catalog) -> list:
    """The matrix rows with each cell's (result, scenario, model, domain): a cell links to
    its detail in the scenario's domain (none for a scenario the catalog no longer has)."""
    domains = {s.id: s.domain for s in catalog.scenarios}
    columns = history.matrix_columns
    return [
        (check, [(r, s, m, domains.get(s, "")) for r, (s, m) in zip(results, columns, strict=True)])
        for check, results in history.matrix_rows
    ]


@require_GET
def checks_file(request: HttpRequest) -> HttpResponse:
    """The catalog's checks.yaml with numbered lines, so a check can be linked to its line."""
    scope = catalog_scope_or_404(request)
    catalog = scope.load()
    path = catalog.taxonomy.path
    text = path.read_text(encoding="utf-8") if path and path.is_file() else ""
    context = {
        "lines": text.splitlines(),
        "checks": catalog.taxonomy.checks,
        "catalog_scope": scope,
    }
    return render(request, "heatmap/checks-file.html", context)
