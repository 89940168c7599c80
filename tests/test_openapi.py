"""The API's OpenAPI schema: every /api/ route is in it, the docs page works offline, and
answers match the shapes the schema documents."""

from __future__ import annotations

import re

import jsonschema
import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.heatmap_data import fill_domain, make_run

pytestmark = [pytest.mark.django_db]
DOCS_ROUTES = {"/api/", "/api/schema/", "/api/docs/"}


def _routes(patterns, prefix: str = "") -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            found.append(route)
    return found


def _openapi_path(route: str) -> str:
    return "/" + re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", route)


def test_every_api_route_is_in_the_schema(client):
    schema = client.get("/api/schema/").json()
    assert schema["openapi"].startswith("3.")
    api_routes = {_openapi_path(r) for r in _routes(get_resolver().url_patterns)}
    api_routes = {r for r in api_routes if r.startswith("/api/")} - DOCS_ROUTES
    assert len(api_routes) >= 14
    assert api_routes - set(schema["paths"]) == set()
    assert set(schema["paths"]) - api_routes == set()  # and nothing else
    assert set(schema["paths"]["/api/reports/{filename}"]) == {"get", "delete"}


def test_docs_page_loads_its_own_static_files(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()


def _validator(schema: dict, name: str, *, many: bool = False) -> jsonschema.Validator:
    ref = {"$ref": f"#/components/schemas/{name}"}
    root = {
        "components": schema["components"],
        **({"type": "array", "items": ref} if many else ref),
    }
    return jsonschema.Draft202012Validator(root)


def test_answers_match_the_documented_shapes(client, catalog, domain_id):
    fill_domain(make_run(), catalog, domain_id, model="heuristic", result="fail")
    schema = client.get("/api/schema/").json()
    rows = client.get("/api/heatmap/skills").json()
    assert rows  # a bare list of rows, as the original answered
    _validator(schema, "SkillRow", many=True).validate(rows)
    _validator(schema, "Health").validate(client.get("/api/health").json())
    missing = client.get("/api/heatmap/run/nope-1")
    assert missing.status_code == 404
    _validator(schema, "Error").validate(missing.json())
