"""``manage.py lint_skills`` prints the skills × BP matrix, findings and JSON."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.processes import child_env, manage_popen

COLUMNS = [f"BP-{n}" for n in range(1, 9)] + ["FM"]


def run(*args: str, **options) -> str:
    out = StringIO()
    call_command("lint_skills", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def tmp_catalog(tmp_path: Path) -> Path:
    """A two-skill catalog: one clean skill and one with a vague first-person description."""
    root = tmp_path / "catalog"
    good = root / "skills" / "good-skill"
    bad = root / "skills" / "bad-skill"
    good.mkdir(parents=True)
    bad.mkdir(parents=True)
    (good / "SKILL.md").write_text(
        "---\nname: good-skill\ndescription: Collects product prices from online shops and "
        "compares them across stores. Use when the user asks to compare prices.\n---\n\n"
        "# Good\n\nA short overview.\n",
        encoding="utf-8",
    )
    (bad / "SKILL.md").write_text(
        "---\nname: bad-skill\ndescription: I help with data.\n---\n\n# Bad\n\nText.\n",
        encoding="utf-8",
    )
    (root / "skills_manifest.yaml").write_text(
        "skills:\n  good-skill:\n    path: skills/good-skill/SKILL.md\n"
        "  bad-skill:\n    path: skills/bad-skill/SKILL.md\n",
        encoding="utf-8",
    )
    (root / "scenarios").mkdir()
    (root / "scenarios" / "prices.yaml").write_text(
        "domain: prices\ntarget_skill: good-skill\nscenarios:\n"
        "  - {id: p1, name: Compare, prompt: Compare laptop prices on two shops.}\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def some_catalog(example_catalog_dir: Path, tmp_catalog: Path) -> Path:
    """The bundled example catalog when it is there, else the tmp one."""
    if (example_catalog_dir / "skills_manifest.yaml").is_file():
        return example_catalog_dir
    return tmp_catalog


def matrix_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        parts = line.split()
        if parts and parts[0] != "skill" and ("✓" in line or "✗" in line) and ":" not in line:
            rows[parts[0]] = [p for p in parts[1:] if p in ("✓", "✗")]
    return rows


def test_prints_the_matrix_for_a_catalog(some_catalog: Path) -> None:
    output = run("--catalog", str(some_catalog))
    header = output.splitlines()[0].split()
    assert header == ["skill", *COLUMNS, "failed", "checks"]
    rows = matrix_rows(output)
    assert rows and all(len(cells) == len(COLUMNS) for cells in rows.values())
    assert "skills," in output and "findings" in output


def test_matrix_marks_pass_and_fail_in_words(tmp_catalog: Path) -> None:
    output = run("--catalog", str(tmp_catalog), "--details")
    rows = matrix_rows(output)
    assert rows["good-skill"] == ["✓"] * len(COLUMNS)
    assert rows["bad-skill"][COLUMNS.index("BP-2")] == "✗"
    bad = next(line for line in output.splitlines() if line.startswith("bad-skill "))
    assert int(bad.split()[-1]) == rows["bad-skill"].count("✗")
    assert "✗ FAIL" in output and "✓ ok" in output
    detail_lines = [line for line in output.splitlines() if "SKILL.md:3" in line]
    assert detail_lines and all(line.split()[:2] == ["bad-skill", "BP-2"] for line in detail_lines)


def test_default_catalog_comes_from_settings(tmp_catalog: Path, settings) -> None:
    settings.SKILLCHECK_CATALOG = tmp_catalog
    assert set(matrix_rows(run())) == {"good-skill", "bad-skill"}


def test_json_output_is_machine_readable(tmp_catalog: Path) -> None:
    data = json.loads(run("--catalog", str(tmp_catalog), "--json"))
    assert data["columns"] == COLUMNS
    skills = {s["skill"]: s for s in data["skills"]}
    assert list(skills) == ["good-skill", "bad-skill"]
    assert skills["good-skill"]["findings"] == []
    finding = skills["bad-skill"]["findings"][0]
    assert finding == {
        "check_id": "BP-2",
        "file": "SKILL.md",
        "line": 3,
        "detail": finding["detail"],
    }
    assert skills["bad-skill"]["results"]["BP-2"] == "fail"


def test_bad_catalog_is_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="manifest not found"):
        run("--catalog", str(tmp_path))


def test_real_corpus_lints_all_twelve_skills(corpus_dir: Path) -> None:
    output = run("--catalog", str(corpus_dir), "--details")
    rows = matrix_rows(output)
    assert len(rows) == 12 and all(name.startswith("apify-") for name in rows)
    assert all(cells[COLUMNS.index("FM")] == "✓" for cells in rows.values())
    assert any("✗" in cells for cells in rows.values())
    details = [line.split()[:3] for line in output.splitlines() if "SKILL.md:" in line]
    assert ["apify-audience-analysis", "BP-2", "SKILL.md:3"] in details

    data = json.loads(run("--catalog", str(corpus_dir), "--json"))
    assert sum(len(s["findings"]) for s in data["skills"]) >= 1
    assert all(s["results"]["FM"] == "pass" for s in data["skills"])


def test_output_into_a_closed_pipe_ends_quietly(corpus_dir, tmp_path):
    """``manage.py lint_skills | head -1``: no traceback when the reader goes away."""
    env = child_env(tmp_path)
    child = manage_popen("lint_skills", "--details", "--catalog", str(corpus_dir), env=env)
    child.stdout.close()  # the reader is gone before the first line
    _, stderr = child.communicate(timeout=60)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert child.returncode == 1
