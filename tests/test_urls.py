"""The URL map: every valid run id and every domain id open their own pages, whatever they
are called."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, get_resolver, resolve

from heatmap import urls
from heatmap.models import Run
from tests.heatmap_data import make_run


def _literal_routes() -> list[str]:
    """Every route of the app with no parameter: the fixed names a run id could collide with."""
    return [
        str(p.pattern)
        for p in urls.urlpatterns
        if isinstance(p, URLPattern) and not p.pattern.converters
    ]


def test_no_fixed_route_has_the_shape_of_a_run_path():
    run_patterns = [
        p
        for p in urls.urlpatterns
        if isinstance(p, URLPattern) and "run_id" in p.pattern.converters
    ]
    assert run_patterns
    shadowed = [
        (route, str(p.pattern))
        for route in _literal_routes()
        for p in run_patterns
        if p.pattern.match(route)
    ]
    assert shadowed == []


@pytest.mark.django_db
@pytest.mark.parametrize("run_id", ["plan", "start"])
def test_a_run_named_like_a_former_fixed_route_opens_its_page(client, catalog, run_id):
    make_run(run_id=run_id, status=Run.Status.COMPLETED)
    assert get_resolver().resolve(f"/runs/{run_id}/").url_name == "run-progress"
    response = client.get(f"/runs/{run_id}/")
    assert response.status_code == 200
    assert f"/runs/{run_id}/report.json" in response.content.decode()


def _literal_segments() -> list[str]:
    """Every fixed path segment of the app: the names a domain id could collide with."""
    return sorted(
        {
            part
            for p in urls.urlpatterns
            for part in str(p.pattern).split("/")
            if part and "<" not in part
        }
    )


@pytest.mark.parametrize("domain_id", _literal_segments())
def test_a_domain_named_like_a_fixed_segment_reaches_its_pages(domain_id):
    domain_patterns = [
        p for p in urls.urlpatterns if isinstance(p, URLPattern) and "domain_id" in str(p.pattern)
    ]
    assert len(domain_patterns) >= 4
    for pattern in domain_patterns:
        path = "/" + str(pattern.pattern).replace("<str:domain_id>", domain_id)
        assert resolve(path).url_name == pattern.name, path
