"""``/api/heatmap/domains``, ``skills``, ``domain/ID`` and ``models``: the catalog, the
heatmap's numbers and the models a run can use, each with the catalog's warnings."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from heatmap import selectors
from heatmap.api.responses import error_response
from heatmap.security import public_catalog_warnings, public_model_choices


@require_GET
def domain_list(request: HttpRequest) -> JsonResponse:
    catalog = selectors.catalog_current()
    domains = [
        {
            "id": d.id,
            "kind": d.kind,
            "specialist": d.specialist,
            "scenarios": len(d.scenarios),
            "skills": list(d.skills),
            "pairs": sum(len(s.target_skills) for s in d.scenarios),
        }
        for d in catalog.domains.values()
    ]
    return JsonResponse({"domains": domains, "warnings": public_catalog_warnings(catalog)})


@require_GET
def skill_list(request: HttpRequest) -> JsonResponse:
    catalog = selectors.catalog_current()
    rows = selectors.heatmap_overview(
        catalog=catalog, domain=request.GET.get("domain") or None, query=request.GET.get("q", "")
    )
    return JsonResponse(
        {"skills": [row.as_dict() for row in rows], "warnings": public_catalog_warnings(catalog)}
    )


@require_GET
def domain_detail(request: HttpRequest, domain_id: str) -> JsonResponse:
    catalog = selectors.catalog_current()
    if domain_id not in catalog.domains:
        return error_response(
            f"unknown domain {domain_id!r}; valid: {', '.join(catalog.domains)}", 404
        )
    matrix = selectors.heatmap_domain_matrix(catalog=catalog, domain_id=domain_id)
    return JsonResponse({**matrix.as_dict(), "warnings": public_catalog_warnings(catalog)})


@require_GET
def model_list(request: HttpRequest) -> JsonResponse:
    models = [
        {"name": c.name, "available": c.available, "reason": c.reason, "via": c.via}
        for c in public_model_choices()
    ]
    return JsonResponse({"models": models})
