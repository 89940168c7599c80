"""The URL map: every valid run id opens its own run, whatever it is called."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, get_resolver

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
