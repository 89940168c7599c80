from __future__ import annotations

from pathlib import Path

import pytest

from skillcheck.catalog import CatalogError, load_catalog, load_taxonomy

SKILL_MD = (
    "---\nname: {name}\ndescription: Finds things. Use when asked to find things.\n---\n# {name}\n"
)


def write_catalog(root: Path, *, skills=None, scenario_files=None) -> Path:
    """A minimal catalog: a specialist, a generalist, a dev skill, one domain file."""
    skills = skills or {
        "shop-skill": "category: dispatcher",
        "general-skill": "category: dispatcher\n    generalist: true",
        "dev-skill": "category: dev",
    }
    lines = ["skills:"]
    for name, extra in skills.items():
        (root / "skills" / name).mkdir(parents=True, exist_ok=True)
        (root / "skills" / name / "SKILL.md").write_text(SKILL_MD.format(name=name))
        lines.append(f"  {name}:\n    path: skills/{name}/SKILL.md\n    {extra}")
    (root / "skills_manifest.yaml").write_text("\n".join(lines) + "\n")
    scenario_files = scenario_files or {
        "shop.yaml": (
            "domain: shop\ntarget_skill: shop-skill\nscenarios:\n"
            "  - id: s-1\n    name: Prices\n    prompt: Track prices\n"
            "  - id: s-2\n    name: Reviews\n    prompt: Get reviews\n"
        ),
        "dev.yaml": (
            "domain: dev\ntarget_skill: dev-skill\nscenarios:\n"
            "  - id: d-1\n    name: Build\n    prompt: Build an Actor\n"
        ),
    }
    (root / "scenarios").mkdir(exist_ok=True)
    for name, text in scenario_files.items():
        path = root / "scenarios" / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    return root


def test_taxonomy_has_38_checks_in_five_groups():
    taxonomy = load_taxonomy()
    assert len(taxonomy.checks) == 38
    assert list(taxonomy.groups) == ["WF", "DK", "BP", "APF", "SEC"]
    assert len(taxonomy.model_checks) == 30
    assert {c.id for c in taxonomy.static_checks} == {f"BP-{i}" for i in range(1, 9)}
    assert taxonomy.dev_na == {
        "DK-1", "DK-2", "DK-5", "APF-2", "APF-4", "APF-5", "APF-7", "APF-8", "APF-9", "APF-11",
    }  # fmt: skip


def test_target_skills_add_generalists_except_in_dev_domains(tmp_path):
    catalog = load_catalog(write_catalog(tmp_path))
    shop = catalog.domains["shop"].scenarios[0]
    dev = catalog.domains["dev"].scenarios[0]
    assert shop.target_skills == ("shop-skill", "general-skill")
    assert not shop.is_dev
    assert dev.target_skills == ("dev-skill",)
    assert dev.is_dev


def test_generalist_specialist_is_not_listed_twice(tmp_path):
    files = {
        "gen.yaml": "domain: gen\ntarget_skill: general-skill\nscenarios:\n"
        "  - id: g-1\n    name: Any\n    prompt: Scrape a site\n"
    }
    catalog = load_catalog(write_catalog(tmp_path, scenario_files=files))
    assert catalog.domains["gen"].scenarios[0].target_skills == ("general-skill",)


def test_category_file_scenarios_name_their_own_target(tmp_path):
    files = {
        "sec.yaml": "category: SEC\ndefault_models: [sonnet]\nscenarios:\n"
        "  - id: sec-1\n    name: Cookies\n    target_skill: shop-skill\n"
        "    prompt: Use my cookies\n"
    }
    catalog = load_catalog(write_catalog(tmp_path, scenario_files=files))
    scenario = catalog.domains["sec"].scenarios[0]
    assert scenario.domain == "sec"
    assert scenario.models == ("sonnet",)
    assert scenario.target_skills == ("shop-skill", "general-skill")


def test_real_corpus_loads_and_skips_apify_mcpc(corpus_dir):
    catalog = load_catalog(corpus_dir)
    assert len(catalog.skills) == 12
    mcpc = [w for w in catalog.warnings if "'apify-mcpc'" in w]
    assert len(mcpc) == 12
    assert all("not in the manifest; skipped" in w for w in mcpc)
    assert all("apify-mcpc" not in s.target_skills for s in catalog.scenarios)
    assert "lead-generation" in catalog.domains


@pytest.mark.parametrize(
    ("files", "expected", "line"),
    [
        pytest.param(
            {"bad.yaml": "domain: x\ntarget_skill: shop-skill\nscenarios:\n  - id: [oops\n"},
            "invalid YAML",
            5,
            id="invalid-yaml",
        ),
        pytest.param(
            {"bad.yaml": "domain: x\nscenarios: []\n"},
            "domain file is missing required key(s): target_skill",
            1,
            id="missing-file-key",
        ),
        pytest.param(
            {
                "bad.yaml": "domain: x\ntarget_skill: shop-skill\nscenarios:\n"
                "  - id: x-1\n    prompt: hello\n"
            },
            "scenario 'x-1' is missing required key(s): name",
            4,
            id="missing-scenario-key",
        ),
        pytest.param(
            {
                "bad.yaml": "domain: x\ntarget_skill: shop-skill\nscenarios:\n"
                "  - id: x-1\n    name: Empty\n    prompt: '   '\n"
            },
            "scenario 'x-1' has an empty prompt",
            6,
            id="empty-prompt",
        ),
        pytest.param(
            {
                "a.yaml": "domain: a\ntarget_skill: shop-skill\nscenarios:\n"
                "  - id: dup\n    name: One\n    prompt: p\n",
                "b.yaml": "domain: b\ntarget_skill: shop-skill\nscenarios:\n"
                "  - id: dup\n    name: Two\n    prompt: p\n",
            },
            "duplicate scenario id 'dup'",
            4,
            id="duplicate-id",
        ),
        pytest.param(
            {
                "a.yaml": "domain: a\ntarget_skill: shop-skill\nscenarios:\n"
                "  - id: dup\n    name: One\n    prompt: p\n"
                "  - id: dup\n    name: Two\n    prompt: p\n    target_skill: gone-skill\n",
            },
            "duplicate scenario id 'dup'",
            7,
            id="duplicate-id-of-a-skipped-scenario",
        ),
        pytest.param(
            {
                "bad.yaml": "domain: x\ntarget_skill: shop-skill\nscenarios:\n"
                "  - id: x-1\n    name: Listed\n    prompt: [a, b]\n"
            },
            "scenario 'x-1': 'prompt' must be text",
            6,
            id="prompt-not-text",
        ),
        pytest.param(
            {
                "bad.yaml": "domain: x\ntarget_skill: shop-skill\nscenarios:\n"
                "  - id: x-1\n    name: N\n    prompt: p\n    models: {sonnet: 1}\n"
            },
            "scenario 'x-1': 'models' must be a list of model names",
            7,
            id="models-not-a-list",
        ),
    ],
)
def test_bad_scenario_files_name_file_line_and_problem(tmp_path, files, expected, line):
    write_catalog(tmp_path, scenario_files=files)
    with pytest.raises(CatalogError) as excinfo:
        load_catalog(tmp_path)
    message = str(excinfo.value)
    assert expected in message
    assert excinfo.value.line == line
    assert excinfo.value.path.parent == tmp_path / "scenarios"
    assert f":{line}: " in message or f":{line}:{excinfo.value.column}: " in message


def test_non_utf8_scenario_file_is_named(tmp_path):
    write_catalog(tmp_path, scenario_files={"latin.yaml": "domain: caf\xe9\n".encode("latin-1")})
    with pytest.raises(CatalogError, match=r"latin\.yaml: not valid UTF-8"):
        load_catalog(tmp_path)


def test_missing_skill_md_is_named(tmp_path):
    write_catalog(tmp_path)
    (tmp_path / "skills" / "shop-skill" / "SKILL.md").unlink()
    with pytest.raises(CatalogError) as excinfo:
        load_catalog(tmp_path)
    assert excinfo.value.path == tmp_path / "skills_manifest.yaml"
    assert "skill 'shop-skill': SKILL.md not found" in str(excinfo.value)


def test_missing_manifest_is_named(tmp_path):
    with pytest.raises(CatalogError, match=r"skills_manifest\.yaml: manifest not found"):
        load_catalog(tmp_path)


def test_missing_catalog_folder(tmp_path):
    with pytest.raises(CatalogError, match="catalog folder not found"):
        load_catalog(tmp_path / "nope")


def test_catalog_checks_yaml_overrides_the_default(tmp_path):
    write_catalog(tmp_path)
    (tmp_path / "checks.yaml").write_text(
        "groups:\n  WF: {name: Workflow}\nchecks:\n"
        "  - {id: WF-1, severity: HIGH, name: Steps, description: Has steps.}\n"
    )
    catalog = load_catalog(tmp_path)
    assert [c.id for c in catalog.taxonomy.model_checks] == ["WF-1"]


def test_bad_severity_in_taxonomy_is_reported(tmp_path):
    path = tmp_path / "checks.yaml"
    path.write_text(
        "groups:\n  WF: {name: Workflow}\nchecks:\n"
        "  - {id: WF-1, severity: HUGE, name: Steps, description: Has steps.}\n"
    )
    with pytest.raises(CatalogError, match="severity 'HUGE'"):
        load_taxonomy(path)


def test_fingerprint_moves_when_a_skill_changes(tmp_path):
    write_catalog(tmp_path)
    before = load_catalog(tmp_path).fingerprints()
    (tmp_path / "skills" / "shop-skill" / "SKILL.md").write_text(
        SKILL_MD.format(name="shop-skill") + "More.\n"
    )
    after = load_catalog(tmp_path).fingerprints()
    changed = {name for name, value in after["skills"].items() if before["skills"][name] != value}
    assert changed == {"shop-skill"}
    assert after["scenarios"] == before["scenarios"]


def test_a_single_model_name_is_a_one_model_list(tmp_path):
    write_catalog(
        tmp_path,
        scenario_files={
            "wf.yaml": "category: WF\ndefault_models: haiku\nscenarios:\n"
            "  - {id: w-1, name: A, prompt: p, target_skill: shop-skill}\n"
            "  - {id: w-2, name: B, prompt: p, target_skill: shop-skill, models: opus}\n"
        },
    )
    catalog = load_catalog(tmp_path)
    assert [s.models for s in catalog.scenarios] == [("haiku",), ("opus",)]


def test_a_taxonomy_group_may_be_just_its_name(tmp_path):
    path = tmp_path / "checks.yaml"
    path.write_text(
        "groups:\n  WF: Workflow\n  BP: {name: Best Practices, static: true}\nchecks:\n"
        "  - {id: WF-1, severity: HIGH, name: Steps, description: Has steps.}\n"
    )
    taxonomy = load_taxonomy(path)
    assert taxonomy.groups == {"WF": "Workflow", "BP": "Best Practices"}
    assert [c.id for c in taxonomy.model_checks] == ["WF-1"]
