"""The bundled example catalog must load cleanly and keep the shape the demo heatmap relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from skillcheck.catalog import Catalog, load_catalog


@pytest.fixture(scope="module")
def catalog(example_catalog_dir: Path) -> Catalog:
    return load_catalog(example_catalog_dir)


def _frontmatter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path} does not start with YAML frontmatter"
    block = text.split("---\n", 2)[1]
    return yaml.safe_load(block)


def test_loads_without_warnings(catalog: Catalog) -> None:
    assert catalog.warnings == []


def test_has_enough_domains_scenarios_and_skills(catalog: Catalog) -> None:
    domain_files = [d for d in catalog.domains.values() if d.kind == "domain"]
    assert len(domain_files) >= 13
    assert len(catalog.scenarios) >= 40
    assert len(catalog.skills) >= 5


def test_has_a_category_file(catalog: Catalog) -> None:
    categories = [d for d in catalog.domains.values() if d.kind == "category"]
    assert len(categories) == 1
    assert all(s.models for s in categories[0].scenarios)


def test_exactly_one_generalist_and_a_dev_skill(catalog: Catalog) -> None:
    assert len([s for s in catalog.skills.values() if s.generalist]) == 1
    assert any(s.is_dev for s in catalog.skills.values())


def test_a_dev_domain_exists(catalog: Catalog) -> None:
    assert any(d.is_dev for d in catalog.domains.values())


def test_frontmatter_name_matches_folder(catalog: Catalog) -> None:
    for name, skill in catalog.skills.items():
        meta = _frontmatter(skill.path)
        assert meta["name"] == skill.root.name == name
        assert str(meta.get("description") or "").strip(), f"{name} has no description"


def test_skill_files_stay_within_demo_size(catalog: Catalog) -> None:
    for name, skill in catalog.skills.items():
        lines = skill.path.read_text(encoding="utf-8").count("\n")
        assert 40 <= lines <= 200, f"{name}: SKILL.md has {lines} lines"


def test_dev_scenarios_target_only_their_specialist(catalog: Catalog) -> None:
    dev = [s for s in catalog.scenarios if s.is_dev]
    assert dev
    for scenario in dev:
        assert scenario.target_skills == (scenario.specialist,)


def test_other_scenarios_also_target_the_generalist(catalog: Catalog) -> None:
    (generalist,) = [name for name, s in catalog.skills.items() if s.generalist]
    for scenario in (s for s in catalog.scenarios if not s.is_dev):
        targets = scenario.target_skills
        assert len(targets) == len(set(targets)), f"{scenario.id} has duplicate targets"
        assert set(targets) == {scenario.specialist, generalist}
        assert targets[0] == scenario.specialist
