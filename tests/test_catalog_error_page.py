from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.both_databases


@pytest.fixture
def broken_catalog(tmp_path, example_catalog_dir, settings):
    root = tmp_path / "catalog"
    shutil.copytree(example_catalog_dir, root)
    path = root / "scenarios" / "price-tracking.yaml"
    path.write_text(path.read_text() + "\n  - id: [unclosed\n")
    settings.SKILLCHECK_CATALOG = root
    return path


@pytest.mark.django_db
def test_a_broken_catalog_page_names_the_file_and_line(client, broken_catalog):
    response = client.get("/heatmap/")
    assert response.status_code == 503
    text = response.content.decode()
    assert "The catalog cannot be loaded" in text
    assert "scenarios/price-tracking.yaml:" in text
    assert str(broken_catalog.parent.parent.parent) not in text
    assert "invalid YAML" in text


@pytest.mark.django_db
def test_a_catalog_error_page_hides_paths_outside_the_catalog(client, settings, tmp_path):
    settings.SKILLCHECK_CATALOG = tmp_path / "no-such-catalog"
    response = client.get("/heatmap/")
    assert response.status_code == 503
    text = response.content.decode()
    assert "catalog folder not found" in text
    assert str(tmp_path) not in text


@pytest.mark.django_db
def test_the_api_answers_a_broken_catalog_with_json(client, broken_catalog):
    response = client.get("/api/heatmap/domains")
    assert response.status_code == 503
    assert "price-tracking.yaml" in response.json()["error"]
