"""Runs keep each version of a skill's files once (``SkillSnapshot``), and the compare page
diffs a skill between two runs from them; without them it says which version is unknown."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command

from heatmap import selectors
from heatmap.models import SkillSnapshot
from heatmap.selectors.skill_versions import skill_versions
from skillcheck.catalog import load_catalog

pytestmark = pytest.mark.django_db


def _run(catalog_dir, skill: str) -> str:
    out = io.StringIO()
    call_command(
        "run_scored", "--catalog", str(catalog_dir), "--models", "heuristic", "--skill", skill,
        "--json", stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    data = json.loads(out.getvalue())
    assert data["status"] == "completed", data
    return data["run_id"]


@pytest.fixture
def edited(catalog_dir, settings, tmp_path):
    """A run, an edit of one skill's SKILL.md (a line changed, one added) and of a new
    reference file, a second run; (skill, base run id, new run id)."""
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    catalog = load_catalog(catalog_dir)
    skill = next(s.specialist for s in catalog.scenarios if s.specialist)
    base = _run(catalog_dir, skill)
    folder = catalog.skills[skill].root
    text = (folder / "SKILL.md").read_text()
    lines = text.splitlines()
    lines[-1] = lines[-1] + " (edited)"
    (folder / "SKILL.md").write_text("\n".join([*lines, "A new closing line."]) + "\n")
    (folder / "notes.md").write_text("# Notes\n")
    return skill, base, _run(catalog_dir, skill)


def test_a_run_keeps_each_version_of_a_skill_once(catalog_dir, settings, tmp_path):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    catalog = load_catalog(catalog_dir)
    skill = next(s.specialist for s in catalog.scenarios if s.specialist)
    _run(catalog_dir, skill)
    kept = SkillSnapshot.objects.count()
    assert kept == len(catalog.skills)
    snapshot = SkillSnapshot.objects.get(fingerprint=catalog.skills[skill].fingerprint())
    assert snapshot.files[0]["path"] == "SKILL.md"
    assert snapshot.files[0]["text"] == (catalog.skills[skill].root / "SKILL.md").read_text()
    _run(catalog_dir, skill)  # nothing changed: nothing new kept
    assert SkillSnapshot.objects.count() == kept


def test_the_compare_page_shows_the_diff_of_the_edited_skill(client, edited):
    skill, base, new = edited
    page = client.get(f"/runs/{new}/compare/{base}/?skill={skill}").content.decode()
    diff = page[page.index('<div class="skill-diff">') :]
    assert re.search(r"<code>SKILL\.md</code> <span class=\"file-edited\">edited</span>", diff)
    assert re.search(r"<code>notes\.md</code> <span class=\"file-added\">added</span>", diff)
    assert "A new closing line." in diff and "(edited)" in diff
    assert diff.count('class="d d-add"') == 3  # the changed line, the new line, notes.md
    assert diff.count('class="d d-del"') == 1
    # The new side is the files on disk: its line numbers open the skill viewer.
    assert f'href="/skills/{skill}/files/SKILL.md?run={new}#L' in diff


def test_without_the_base_text_the_page_names_the_versions(client, edited):
    skill, base, new = edited
    before = selectors.run_get(run_id=base).tasks.first().skill_fingerprint
    SkillSnapshot.objects.filter(fingerprint=before).delete()
    page = client.get(f"/runs/{new}/compare/{base}/?skill={skill}").content.decode()
    assert "base run's version was not kept" in page and before in page
    assert "<code>notes.md</code>" in page  # the new version's files, by hash


def test_a_removed_file_is_named(catalog_dir, edited):
    skill, _, _ = edited
    catalog = load_catalog(catalog_dir)
    before = catalog.skills[skill].fingerprint()
    kept = {before: {p: ("sha-" + p, text) for p, text in catalog.skills[skill].files()}}
    (catalog.skills[skill].root / "notes.md").unlink()
    current = load_catalog(catalog_dir)
    gone = skill_versions(
        catalog=current,
        skill=skill,
        before=before,
        after=current.skills[skill].fingerprint(),
        kept=kept,
    )
    statuses = {f.path: f.status for f in gone.files}
    assert statuses.pop("notes.md") == "removed" and gone.missing == ()
    assert set(statuses.values()) == {"edited"}  # the made-up hashes differ from the real ones
