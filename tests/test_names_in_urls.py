"""Issue 21 (3): a name that cannot be a URL path segment (a ``/``) broke pages with a 500
(``NoReverseMatch``). The catalog refuses such ids with file and line; a name that slipped in
another way (an imported report) is shown without a link, never a 500."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from heatmap.models import Run

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

ODD = ["a/b", "..", "."]


@pytest.fixture
def imported(tmp_path, catalog, settings):
    """Runs imported from reports whose skill, scenario and domain names hold a ``/``."""
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    for index, name in enumerate(ODD):
        report = {
            "type": "scored",
            "run_id": f"odd-{index}",
            "models": ["haiku"],
            "domains": [name, "price-tracking"],
            "total": 1,
            "results": [
                {
                    "scenario_id": name,
                    "skill": name,
                    "model": "haiku",
                    "domain": name,
                    "finished_at": "2026-01-01T00:00:00+00:00",
                    "checks": [{"check_id": "WF-1", "result": "fail", "evidence": "e"}],
                }
            ],
        }
        path = tmp_path / f"scored_run_odd-{index}.json"
        path.write_text(json.dumps(report))
        call_command("import_reports", str(path), stdout=io.StringIO())
    return list(Run.objects.values_list("run_id", flat=True))


def test_every_page_survives_an_imported_name_that_is_no_path_segment(client, imported):
    pages = ["/", "/heatmap/", "/runs/", "/heatmap/price-tracking/", "/api/heatmap/skills"]
    pages += [f"/runs/{run_id}/" for run_id in imported]
    for page in pages:
        response = client.get(page, follow=True)
        assert response.status_code == 200, page
    from urllib.parse import quote

    names = {run.catalog.name for run in Run.objects.filter(run_id__in=imported)}
    for name in names:  # the imported runs' own catalog: their names are on its heatmap
        for page in ("/heatmap/", "/runs/"):
            response = client.get(f"{page}?catalog={quote(name)}")
            assert response.status_code == 200, (page, name)
        html = client.get(f"/heatmap/?catalog={quote(name)}").content.decode()
        assert "a/b" in html  # shown, as text


@pytest.mark.parametrize("name", ["a%2Fb", "..", "."])
def test_urls_with_such_a_name_are_a_404(client, catalog, name):
    for url in (f"/skills/{name}/", f"/heatmap/{name}/", f"/api/heatmap/domain/{name}"):
        assert client.get(url).status_code in (404, 301, 302), url


@pytest.mark.parametrize(
    ("where", "old", "new", "kind"),
    [
        ("scenarios/price-tracking.yaml", "domain: price-tracking", "domain: price/tracking",
         "domain id 'price/tracking'"),
        ("scenarios/price-tracking.yaml", "id: pt-1", "id: pt/1", "scenario id 'pt/1'"),
        ("scenarios/price-tracking.yaml", "id: pt-1", "id: '..'", "scenario id '..'"),
        ("scenarios/price-tracking.yaml", "id: pt-1", 'id: "pt\\t1"', "scenario id 'pt\\t1'"),
        ("skills_manifest.yaml", "  web-scraper:", "  web/scraper:", "skill name 'web/scraper'"),
    ],
)  # fmt: skip
def test_the_catalog_refuses_ids_that_cannot_name_a_page(
    tmp_path, example_catalog_dir, where, old, new, kind
):
    import shutil

    from skillcheck.catalog import CatalogError, load_catalog

    root = tmp_path / "catalog"
    shutil.copytree(example_catalog_dir, root)
    path = root / where
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if new.strip() in row)

    with pytest.raises(CatalogError) as refused:
        load_catalog(root)

    assert refused.value.path == path and kind in str(refused.value)
    assert "URL" in str(refused.value)
    assert refused.value.line in (line, line + 1)
