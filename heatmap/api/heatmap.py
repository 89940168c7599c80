"""``/api/heatmap/catalogs``, ``domains``, ``skills``, ``domain/ID`` and ``models``: the
catalogs, one catalog's domains and heatmap numbers (``?catalog=NAME``, default the configured
one) and the models a run can use, each with the catalog's warnings."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from heatmap import selectors
from heatmap.api.responses import error_response
from heatmap.security import public_catalog_warnings, public_model_choices


def _scope(request: HttpRequest) -> selectors.CatalogScope | JsonResponse:
    """The catalog asked for (``?catalog=NAME``), or a 404 answer naming the known ones."""
    try:
        return selectors.catalog_scope(name=request.GET.get("catalog", ""))
    except selectors.UnknownCatalog as exc:
        return error_response(str(exc), 404)


@require_GET
def catalog_list(request: HttpRequest) -> JsonResponse:
    """Every catalog: its name (what ``?catalog=`` takes), whether it is the default one,
    whether its files are here, its fingerprint and last load, its number of runs."""
    scope = selectors.catalog_scope()
    catalogs = [
        {
            "name": c.name,
            "default": c.pk == scope.catalog_id,
            "imported": c.imported,
            "has_folder": c.has_folder,
            "fingerprint": c.fingerprint,
            "loaded_at": c.loaded_at.isoformat() if c.loaded_at else None,
            "runs": runs,
        }
        for c, runs in selectors.catalog_list_with_counts()
    ]
    return JsonResponse({"catalogs": catalogs, "default": scope.name})


@require_GET
def domain_list(request: HttpRequest) -> JsonResponse:
    scope = _scope(request)
    if isinstance(scope, JsonResponse):
        return scope
    catalog = scope.load()
    domains = [
        {
            "id": d.id,
            "kind": d.kind,
            "specialist": d.specialist,
            "scenarios": len(d.scenarios),
            "skills": list(d.skills),
            "pairs": sum(len(s.target_skills) for s in d.scenarios),
            # The original's names for the same facts.
            "scenario_count": len(d.scenarios),
            "is_dev": d.specialist in catalog.skills and catalog.skills[d.specialist].is_dev,
        }
        for d in catalog.domains.values()
    ]
    # A bare list, as the original skill-checker answered (its clients read it unchanged); the
    # catalog's warnings are in the answers of domain/<id>, bp and a run's start.
    return JsonResponse(domains, safe=False)


@require_GET
def skill_list(request: HttpRequest) -> JsonResponse:
    """One row per skill of the catalog; ``?include=removed`` adds the skills it no longer
    has but has results for (``"removed": true``)."""
    scope = _scope(request)
    if isinstance(scope, JsonResponse):
        return scope
    catalog = scope.load()
    filters = selectors.HeatmapFilter(
        query=request.GET.get("q", ""),
        catalog_id=scope.catalog_id,
        include_removed=scope.stand_in or request.GET.get("include") == "removed",
    )
    rows = selectors.heatmap_overview(
        catalog=catalog, domain=request.GET.get("domain") or None, filters=filters
    )
    # A bare list, as the original skill-checker answered (see domain_list).
    return JsonResponse(
        [{**row.as_dict(), "removed": not row.in_catalog} for row in rows], safe=False
    )


@require_GET
def domain_detail(request: HttpRequest, domain_id: str) -> JsonResponse:
    scope = _scope(request)
    if isinstance(scope, JsonResponse):
        return scope
    catalog = scope.load()
    if domain_id not in catalog.domains:
        return error_response(
            f"unknown domain {domain_id!r}; valid: {', '.join(catalog.domains)}", 404
        )
    filters = selectors.HeatmapFilter(catalog_id=scope.catalog_id)
    matrix = selectors.heatmap_domain_matrix(catalog=catalog, domain_id=domain_id, filters=filters)
    return JsonResponse(
        {"catalog": scope.name, **matrix.as_dict(), "warnings": public_catalog_warnings(catalog)}
    )


@require_GET
def model_list(request: HttpRequest) -> JsonResponse:
    models = [
        {"name": c.name, "available": c.available, "reason": c.reason, "via": c.via}
        for c in public_model_choices()
    ]
    return JsonResponse({"models": models})


@require_GET
def check_list(request: HttpRequest) -> JsonResponse:
    """The taxonomy's model checks, least telling first (the Checks page's numbers)."""
    scope = _scope(request)
    if isinstance(scope, JsonResponse):
        return scope
    catalog = scope.load()
    filters = selectors.HeatmapFilter(catalog_id=scope.catalog_id)
    rows = selectors.heatmap_check_quality(catalog=catalog, filters=filters)
    return JsonResponse({"catalog": scope.name, "checks": [row.as_dict() for row in rows]})
