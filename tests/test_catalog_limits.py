"""Catalog limits: hostile YAML, links out of a skill or the catalog, oversized documents.

Each case is a ``CatalogError`` naming the file (the catalog-error page on the web, exit 2
in commands) or a warning with the file skipped; never a traceback, a 500 or exhaustion.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillcheck.auditors.heuristic import HeuristicAuditor
from skillcheck.catalog import DEFAULT_CHECKS_FILE, MAX_YAML_DEPTH, CatalogError, load_catalog
from skillcheck.catalog import files as catalog_module
from skillcheck.linter import lint_skill
from skillcheck.prompt import build_user_prompt
from skillcheck.scoring import score_task
from tests.test_heuristic import BASE_SKILL, make_catalog

SECRET = "sk-live-not-for-models-4242"

# Nine levels of nine aliases: 9**9 (387 million) values from a dozen lines.
ALIAS_BOMB = "\n".join(
    [
        "domain: bomb",
        "target_skill: demo-scraper",
        'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
        *(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)),
        "scenarios:",
        "  - {id: b1, name: *l8, prompt: boom}",
    ]
)


def write_scenarios(root: Path, text: str) -> Path:
    path = root / "scenarios" / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- YAML ---------------------------------------------------------------------------------


@pytest.fixture(params=["libyaml", "pure python"])
def yaml_parser(request, monkeypatch):
    """Catalog files parse with libyaml when PyYAML has it, else in pure Python: the same
    limits, line numbers and errors either way."""
    if request.param == "libyaml":
        if catalog_module._FastLineLoader is None:
            pytest.skip("PyYAML without libyaml here")
    else:
        monkeypatch.setattr(catalog_module, "_FastLineLoader", None)
    return request.param


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ALIAS_BOMB, "alias bomb"),
        ("domain: demo\ntarget_skill: demo-scraper\nscenarios: &s [*s]\n", "contains it"),
        ("domain: demo\ntarget_skill: demo-scraper\nx: " + "[" * 2000 + "]" * 2000, "nested"),
        ("domain: demo\ntarget_skill: demo-scraper\nx: " + "[" * 70 + "]" * 70, "nested"),
        ("domain: demo\nscenarios:\n  - id: a\n    name: [unclosed\n", "invalid YAML"),
    ],
)
def test_both_parsers_refuse_hostile_yaml_alike(tmp_path: Path, yaml_parser, text, message):
    make_catalog(tmp_path)
    path = write_scenarios(tmp_path, text)
    with pytest.raises(CatalogError, match=message) as caught:
        load_catalog(tmp_path)
    assert caught.value.path == path and caught.value.line is not None


def test_both_parsers_give_scenarios_their_lines(tmp_path: Path, yaml_parser):
    make_catalog(tmp_path)
    write_scenarios(
        tmp_path,
        "domain: demo\ntarget_skill: demo-scraper\nscenarios:\n"
        "  - id: first\n    name: One\n    prompt: Scrape it\n"
        "  - id: second\n    name: Two\n    prompt: |\n      Scrape\n      more\n",
    )
    scenarios = load_catalog(tmp_path).scenarios
    assert [(s.id, s.line, s.prompt) for s in scenarios] == [
        ("first", 4, "Scrape it"),
        ("second", 7, "Scrape\nmore"),
    ]


def test_an_alias_bomb_is_a_catalog_error_naming_the_file(tmp_path: Path):
    make_catalog(tmp_path)
    path = write_scenarios(tmp_path, ALIAS_BOMB)

    with pytest.raises(CatalogError, match="alias bomb") as caught:
        load_catalog(tmp_path)

    assert caught.value.path == path
    assert caught.value.line is not None


def test_a_few_ordinary_aliases_still_load(tmp_path: Path):
    make_catalog(tmp_path)
    write_scenarios(
        tmp_path,
        "domain: demo\ntarget_skill: demo-scraper\ncommon: &p Scrape 10 shops\n"
        "scenarios:\n  - {id: a, name: A, prompt: *p}\n  - {id: b, name: B, prompt: *p}\n",
    )

    assert [s.prompt for s in load_catalog(tmp_path).scenarios] == ["Scrape 10 shops"] * 2


def test_a_recursive_alias_is_a_catalog_error(tmp_path: Path):
    make_catalog(tmp_path)
    write_scenarios(tmp_path, "domain: demo\ntarget_skill: demo-scraper\nscenarios: &s [*s]\n")

    with pytest.raises(CatalogError, match="contains it"):
        load_catalog(tmp_path)


@pytest.mark.parametrize("depth", [MAX_YAML_DEPTH + 1, 100_000])
def test_deep_nesting_is_a_catalog_error_not_a_recursion_error(tmp_path: Path, depth: int):
    make_catalog(tmp_path)
    path = write_scenarios(
        tmp_path, "domain: demo\ntarget_skill: demo-scraper\nx: " + "[" * depth + "]" * depth
    )

    with pytest.raises(CatalogError, match=f"nested deeper than {MAX_YAML_DEPTH}") as caught:
        load_catalog(tmp_path)
    assert caught.value.path == path


def test_an_alias_bomb_in_frontmatter_is_a_lint_finding(tmp_path: Path):
    frontmatter = "\n".join(ALIAS_BOMB.splitlines()[2:11])
    skill_md = f"---\nname: demo-scraper\n{frontmatter}\n---\n\n# Demo\n"
    catalog, _, skill = make_catalog(tmp_path, skill_md=skill_md)

    lint = lint_skill(skill, catalog.taxonomy)

    assert any("alias bomb" in f.detail for f in lint.findings)


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=10) | st.integers(), children, max_size=3)
    ),
    max_leaves=10,
)
skill_entries = yaml_values | st.fixed_dictionaries(
    {"path": yaml_values | st.just("skills/demo-scraper/SKILL.md")},
    optional={"category": yaml_values, "generalist": yaml_values},
)
manifests = yaml_values | st.fixed_dictionaries(
    {"skills": yaml_values | st.dictionaries(st.text(max_size=10), skill_entries, max_size=2)}
)
scenario_files = yaml_values | st.fixed_dictionaries(
    {
        "domain": yaml_values,
        "target_skill": st.just("demo-scraper") | yaml_values,
        "scenarios": yaml_values
        | st.lists(
            st.fixed_dictionaries(
                {"id": yaml_values, "name": yaml_values, "prompt": yaml_values},
                optional={"models": yaml_values, "target_skill": yaml_values},
            )
        ),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifest=manifests, scenarios=scenario_files)
def test_any_yaml_content_loads_or_is_a_catalog_error(tmp_path_factory, manifest, scenarios):
    root = tmp_path_factory.mktemp("fuzz")
    make_catalog(root)
    (root / "skills_manifest.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    write_scenarios(root, yaml.safe_dump(scenarios))
    with contextlib.suppress(CatalogError):
        load_catalog(root)


# --- files a skill sends -------------------------------------------------------------------


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "secret.md"
    path.parent.mkdir()
    path.write_text(f"# Secret\n\nAPIFY_TOKEN={SECRET}\n", encoding="utf-8")
    return path


def test_a_reference_linked_out_of_the_skill_folder_is_skipped_with_a_warning(
    tmp_path: Path, secret_file: Path
):
    catalog, scenario, skill = make_catalog(tmp_path / "cat", references={"references/a.md": "A"})
    link = skill.root / "references" / "secret.md"
    link.symlink_to(secret_file)
    (skill.root / "linked-folder").symlink_to(secret_file.parent, target_is_directory=True)

    catalog = load_catalog(tmp_path / "cat")
    skill = catalog.skills[skill.name]

    assert [p.name for p, _ in skill.documents()] == ["SKILL.md", "a.md"]
    assert SECRET not in build_user_prompt(scenario, skill)
    warnings = "\n".join(catalog.warnings)
    assert f"{link}: skill 'demo-scraper': links outside the skill's folder" in warnings
    assert str(skill.root / "linked-folder") in warnings
    run = score_task(HeuristicAuditor(), scenario, skill, catalog.taxonomy)
    assert SECRET not in run.markdown_response
    lint = lint_skill(skill, catalog.taxonomy)
    assert all(SECRET not in f.detail for f in lint.findings)


def test_a_link_inside_the_skill_folder_is_still_sent(tmp_path: Path):
    catalog, _scenario, skill = make_catalog(tmp_path, references={"references/a.md": "Alpha"})
    (skill.root / "alias.md").symlink_to(skill.root / "references" / "a.md")

    catalog = load_catalog(tmp_path)

    names = [p.name for p, _ in catalog.skills[skill.name].documents()]
    assert names == ["SKILL.md", "alias.md", "a.md"]
    assert catalog.warnings == []


@pytest.mark.parametrize("target", ["/etc/hostname", "outside"])
def test_a_skill_outside_the_catalog_is_a_catalog_error(
    tmp_path: Path, secret_file: Path, target: str
):
    make_catalog(tmp_path / "cat")
    manifest = tmp_path / "cat" / "skills_manifest.yaml"
    path = "/etc/hostname" if target == "/etc/hostname" else str(secret_file)
    manifest.write_text(f"skills:\n  demo-scraper: {{path: {path}, category: x}}\n")

    with pytest.raises(CatalogError, match="outside the catalog folder") as caught:
        load_catalog(tmp_path / "cat")

    assert caught.value.path == manifest
    assert path in str(caught.value)


def test_a_skill_md_that_links_out_of_the_catalog_is_a_catalog_error(
    tmp_path: Path, secret_file: Path
):
    _, _, skill = make_catalog(tmp_path / "cat")
    skill.path.unlink()
    skill.path.symlink_to(secret_file)

    with pytest.raises(CatalogError, match=f"resolves to {secret_file}, outside the catalog"):
        load_catalog(tmp_path / "cat")


def _link_out(root: Path, outside: Path, which: str) -> Path:
    """Make one catalog YAML file (or the scenarios folder) a link to a copy outside the
    catalog, holding a secret; return the path the error must name."""
    outside.mkdir(exist_ok=True)
    if which == "checks.yaml":
        source, link = DEFAULT_CHECKS_FILE, root / "checks.yaml"
    elif which == "manifest":
        source, link = root / "skills_manifest.yaml", root / "skills_manifest.yaml"
    else:
        source, link = root / "scenarios" / "demo.yaml", root / "scenarios" / "demo.yaml"
    target = outside / link.name
    target.write_text(f"# {SECRET}\n{source.read_text()}", encoding="utf-8")
    if which == "scenarios folder":
        shutil.rmtree(root / "scenarios")
        (root / "scenarios").symlink_to(outside, target_is_directory=True)
        return link
    link.unlink(missing_ok=True)
    link.symlink_to(target)
    return link


@pytest.mark.parametrize("which", ["scenario file", "scenarios folder", "checks.yaml", "manifest"])
def test_a_catalog_yaml_file_linked_out_of_the_catalog_is_a_catalog_error(
    tmp_path: Path, which: str
):
    root = tmp_path / "cat"
    make_catalog(root)
    link = _link_out(root, tmp_path / "outside", which)

    with pytest.raises(CatalogError, match="links outside the catalog folder") as caught:
        load_catalog(root)

    assert caught.value.path == link
    assert str((tmp_path / "outside").resolve()) in str(caught.value)
    assert SECRET not in str(caught.value)


def test_catalog_yaml_files_linked_inside_the_catalog_still_load(tmp_path: Path):
    root = tmp_path / "cat"
    make_catalog(root)
    kept = root / "shared"
    kept.mkdir()
    shutil.copy(DEFAULT_CHECKS_FILE, kept / "checks.yaml")
    (root / "checks.yaml").symlink_to(kept / "checks.yaml")
    (root / "scenarios" / "demo.yaml").rename(kept / "demo.yaml")
    (root / "scenarios" / "demo.yaml").symlink_to(kept / "demo.yaml")

    catalog = load_catalog(root)

    assert list(catalog.domains) == ["demo"]
    assert catalog.taxonomy.path == root / "checks.yaml"


# --- sizes ---------------------------------------------------------------------------------


def test_an_oversized_skill_md_is_a_catalog_error_naming_it(tmp_path: Path):
    _, _, skill = make_catalog(tmp_path, skill_md=BASE_SKILL + "x" * 2000)

    with pytest.raises(CatalogError, match="larger than the limit of 1,000 bytes") as caught:
        load_catalog(tmp_path, max_document_bytes=1000)

    assert caught.value.path == skill.path
    assert load_catalog(tmp_path, max_document_bytes=10_000).skills


def test_an_oversized_reference_is_a_catalog_error_naming_it(tmp_path: Path):
    make_catalog(tmp_path, references={"references/big.md": "y" * 5000})

    with pytest.raises(CatalogError, match="larger than the limit") as caught:
        load_catalog(tmp_path, max_document_bytes=4000)

    assert caught.value.path.name == "big.md"


def test_a_reference_grown_after_loading_fails_its_task_not_the_run(tmp_path: Path):
    catalog, scenario, skill = make_catalog(tmp_path)
    catalog = load_catalog(tmp_path, max_document_bytes=3000)
    (skill.root / "late.md").write_text("z" * 4000)

    run = score_task(HeuristicAuditor(), scenario, catalog.skills[skill.name], catalog.taxonomy)

    assert "late.md" in run.error and "larger than the limit" in run.error


# --- the web app and the commands ----------------------------------------------------------


@pytest.fixture
def app_catalog(tmp_path: Path, example_catalog_dir: Path, settings) -> Path:
    root = tmp_path / "app-catalog"
    shutil.copytree(example_catalog_dir, root)
    settings.SKILLCHECK_CATALOG = root
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    return root


def break_catalog(root: Path, how: str, settings) -> Path:
    """Damage the app's catalog one way; return the file the error must name."""
    scenario_file = sorted((root / "scenarios").glob("*.yaml"))[0]
    if how == "alias bomb":
        scenario_file.write_text(
            ALIAS_BOMB.replace("target_skill: demo-scraper", "target_skill: x")
        )
        return scenario_file
    if how == "deep nesting":
        scenario_file.write_text("x: " + "[" * 50_000 + "]" * 50_000)
        return scenario_file
    if how == "scenarios linked outside":
        outside = root.parent / "outside-scenarios"
        outside.mkdir()
        (outside / scenario_file.name).write_bytes(scenario_file.read_bytes())
        scenario_file.unlink()
        scenario_file.symlink_to(outside / scenario_file.name)
        return scenario_file
    if how == "skill outside":
        manifest = root / "skills_manifest.yaml"
        manifest.write_text("skills:\n  x: {path: /etc/hostname}\n")
        return manifest
    largest = max(p.stat().st_size for p in root.rglob("*") if p.is_file())
    skill_md = next(root.rglob("SKILL.md"))
    skill_md.write_text(skill_md.read_text() + "x" * largest)
    settings.SKILLCHECK_MAX_DOCUMENT_BYTES = largest + 1  # only this file is over it
    return skill_md


CASES = ["alias bomb", "deep nesting", "skill outside", "scenarios linked outside", "oversized"]


@pytest.mark.django_db
@pytest.mark.parametrize("how", CASES)
def test_each_broken_catalog_is_the_catalog_error_page(client, app_catalog, settings, how):
    named = break_catalog(app_catalog, how, settings)

    page = client.get("/heatmap/")
    api = client.get("/api/heatmap/domains")

    assert page.status_code == 503
    html = page.content.decode()
    assert "The catalog cannot be loaded" in html
    # Named as in the catalog: the server's folders are not for everyone who sees the page.
    relative = str(named.relative_to(app_catalog))
    assert api.status_code == 503
    for shown in (html, api.json()["error"]):
        assert f"{relative}:" in shown
        assert str(app_catalog.parent.resolve()) not in shown
        assert str(app_catalog.parent) not in shown


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["run_scored", "lint_skills"])
@pytest.mark.parametrize("how", CASES)
def test_each_broken_catalog_is_exit_2_in_commands(app_catalog, settings, how, command):
    named = break_catalog(app_catalog, how, settings)
    args = ["--models", "heuristic"] if command == "run_scored" else []

    with pytest.raises(CommandError) as caught:
        call_command(command, *args, stdout=io.StringIO(), stderr=io.StringIO())

    assert caught.value.returncode == 2
    assert str(named) in str(caught.value)
