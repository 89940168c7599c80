"""``lint_skills`` (``skillcheck lint``) for CI: paths, SARIF, and the ``--fail-on`` gate."""

from __future__ import annotations

import json
from io import StringIO

import jsonschema
import pytest
from django.core.management import CommandError, call_command

from tests.test_ci_outputs import SARIF_SCHEMA
from tests.test_lint_skills_command import tmp_catalog  # noqa: F401 (a fixture)


def lint(*args: str) -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("lint_skills", *args, stdout=out, stderr=StringIO())
    except SystemExit as exc:
        return out.getvalue(), int(exc.code or 0)
    return out.getvalue(), 0


def test_paths_lint_just_those_skills_and_name_file_and_line(tmp_catalog, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_catalog)
    output, code = lint("skills/bad-skill/SKILL.md", "--fail-on", "low")
    assert code == 1
    assert "skills/bad-skill/SKILL.md:3: BP-2 [HIGH]" in output
    assert "good-skill" not in output
    output, code = lint("skills/good-skill", "--fail-on", "low")
    assert (code, output.strip()) == (0, "1 skills, 0 findings")
    _, code = lint("skills", "--fail-on", "critical")  # BP-2 is HIGH: under the gate
    assert code == 0


def test_a_path_without_skills_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match=r"no SKILL\.md"):
        lint(str(tmp_path))


def test_sarif_to_a_file_with_the_gate(tmp_catalog, tmp_path, monkeypatch):  # noqa: F811
    (tmp_catalog / ".git").mkdir()  # the repository root: paths are relative to it
    monkeypatch.chdir(tmp_catalog / "skills")
    out = tmp_path / "reports" / "lint.sarif"
    _, code = lint("--catalog", str(tmp_catalog), "--format", "sarif", "-o", str(out))
    assert code == 0  # the gate is off unless asked for (manage.py's default)
    log = json.loads(out.read_text())
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    results = log["runs"][0]["results"]
    assert {r["properties"]["skill"] for r in results} == {"bad-skill"}
    result = next(r for r in results if r["ruleId"] == "BP-2")
    assert result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "skills/bad-skill/SKILL.md"
    assert location["region"]["startLine"] == 3
    _, code = lint("--catalog", str(tmp_catalog), "--format", "sarif", "--fail-on", "high")
    assert code == 1
