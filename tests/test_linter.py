"""The static BP checks and frontmatter rules, each flipped on a minimal skill."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillcheck.catalog import DEFAULT_CHECKS_FILE, Skill, load_catalog, load_taxonomy
from skillcheck.linter import FM, Finding, lint_catalog, lint_columns, lint_skill, magic_numbers

GOOD_DESCRIPTION = (
    "Collects product prices from online shops with Apify Actors and compares them across "
    "stores. Use when the user asks to compare or monitor prices."
)

MakeSkill = Callable[..., Skill]


@pytest.fixture
def make_skill(tmp_path: Path) -> MakeSkill:
    """Write a skill folder: SKILL.md (frontmatter + body) and any extra files."""

    def make(
        body: str = "# Demo\n\nA short overview.\n",
        *,
        name: str = "demo-skill",
        folder: str = "demo-skill",
        description: str | None = GOOD_DESCRIPTION,
        frontmatter: str | None = None,
        files: dict[str, str | bytes] | None = None,
    ) -> Skill:
        root = tmp_path / folder
        root.mkdir(parents=True, exist_ok=True)
        if frontmatter is None:
            meta = {"name": name} | ({"description": description} if description else {})
            frontmatter = "---\n" + yaml.safe_dump(meta, width=10_000, sort_keys=False) + "---\n"
        (root / "SKILL.md").write_text(frontmatter + body, encoding="utf-8")
        for rel, content in (files or {}).items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return Skill(name=folder, path=root / "SKILL.md")

    return make


def findings(skill: Skill, check_id: str) -> list[Finding]:
    return lint_skill(skill).findings_for(check_id)


def only(skill: Skill, check_id: str) -> Finding:
    found = findings(skill, check_id)
    assert len(found) == 1, found
    return found[0]


def test_a_well_formed_skill_passes_everything(make_skill: MakeSkill) -> None:
    lint = lint_skill(make_skill())
    assert lint.findings == []
    assert lint.results == {check: "pass" for check in lint_columns()}


# --- BP-1 -----------------------------------------------------------------------------------


def test_bp1_flags_skill_md_over_500_lines(make_skill: MakeSkill) -> None:
    skill = make_skill("# Demo\n" + "Line of text.\n" * 520)
    finding = only(skill, "BP-1")
    assert (finding.file, finding.line) == ("SKILL.md", 501)
    assert "lines" in finding.detail


def test_bp1_passes_under_500_lines(make_skill: MakeSkill) -> None:
    skill = make_skill("# Demo\n" + "Line of text.\n" * 400)
    assert lint_skill(skill).result("BP-1") == "pass"


# --- BP-2 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Helps with data.", "too short"),
        ("Helps with various data tasks and files and things, useful for work stuff.", "vague"),
        ("Collects product prices from online shops and compares them across stores.", "trigger"),
        (
            "I help you scrape product prices from shops. Use when the user asks for prices.",
            "third",
        ),
        ("Scrapes prices from shops so you can compare them. Use when prices matter.", "third"),
    ],
)
def test_bp2_flags_weak_descriptions(
    make_skill: MakeSkill, description: str, expected: str
) -> None:
    found = findings(make_skill(description=description), "BP-2")
    assert any(expected in f.detail for f in found), found
    assert {(f.file, f.line) for f in found} == {("SKILL.md", 3)}


def test_bp2_flags_a_missing_description(make_skill: MakeSkill) -> None:
    finding = only(make_skill(description=None), "BP-2")
    assert "missing" in finding.detail


def test_bp2_accepts_a_third_person_description_with_triggers(make_skill: MakeSkill) -> None:
    assert findings(make_skill(), "BP-2") == []


# --- BP-3 -----------------------------------------------------------------------------------


def test_bp3_flags_a_reference_nested_two_levels(make_skill: MakeSkill) -> None:
    skill = make_skill(
        "# Demo\n\nRead [paging](references/a.md) when a site paginates with cursors.\n",
        files={
            "references/a.md": "# A\n\nCursor notes.\n\nSee [b](b.md) if cursors expire.\n",
            "references/b.md": "# B\n\nExpiry notes.\n",
        },
    )
    finding = only(skill, "BP-3")
    assert (finding.file, finding.line) == ("references/a.md", 5)
    assert "references/b.md" in finding.detail and "2 levels" in finding.detail


def test_bp3_follows_bare_reference_mentions(make_skill: MakeSkill) -> None:
    skill = make_skill(
        "# Demo\n\nRead references/a.md when a site paginates with cursors.\n",
        files={
            "references/a.md": "Cursor notes; for expiry see references/b.md as well.\n",
            "references/b.md": "# B\n",
        },
    )
    assert (only(skill, "BP-3").file, only(skill, "BP-3").line) == ("references/a.md", 1)


def test_bp3_passes_when_every_reference_is_linked_from_skill_md(make_skill: MakeSkill) -> None:
    skill = make_skill(
        "# Demo\n\nRead [a](references/a.md) when a site paginates with cursors.\n"
        "Read [b](references/b.md) if a cursor expires mid-run.\n",
        files={
            "references/a.md": "# A\n\nSee [b](b.md) if cursors expire.\n",
            "references/b.md": "# B\n\nSee the [docs](https://example.com/b.md) for more.\n",
        },
    )
    assert findings(skill, "BP-3") == []


# --- BP-4 -----------------------------------------------------------------------------------

MIXED_TERMS = """# Demo

Pick an actor for the site. The actor returns items.
If the scraper fails, retry the scraper once.
When the bot is blocked, the bot needs proxies.
"""


def test_bp4_flags_three_synonyms_used_twice_each(make_skill: MakeSkill) -> None:
    finding = only(make_skill(MIXED_TERMS), "BP-4")
    assert (finding.file, finding.line) == ("SKILL.md", 9)
    assert "'actor' ×2 (first SKILL.md:7)" in finding.detail
    assert "'scraper'" in finding.detail and "'bot'" in finding.detail


def test_bp4_counts_reference_files_too(make_skill: MakeSkill) -> None:
    body = "# Demo\n\nPick an actor. The actor runs.\nThe scraper runs. The scraper stops.\n"
    bots = "# Notes\n\nThe bot waits. The bot retries.\n"
    skill = make_skill(
        body + "Read [notes](references/notes.md) when runs stall.\n",
        files={"references/notes.md": bots},
    )
    assert (only(skill, "BP-4").file, only(skill, "BP-4").line) == ("references/notes.md", 3)


def test_bp4_passes_with_one_term_and_product_names(make_skill: MakeSkill) -> None:
    body = (
        "# Demo\n\nPick an actor. The actor runs.\nUse the Website Content Crawler or the "
        "Web Scraper actor.\nThe Website Content Crawler and Web Scraper are general.\n"
    )
    assert findings(make_skill(body), "BP-4") == []


# --- BP-5 -----------------------------------------------------------------------------------


def test_bp5_flags_a_long_skill_md_without_references(make_skill: MakeSkill) -> None:
    skill = make_skill("# Demo\n" + "Some detail.\n" * 340)
    finding = only(skill, "BP-5")
    assert (finding.file, finding.line) == ("SKILL.md", 301)


def test_bp5_flags_a_long_inlined_section_when_references_exist(make_skill: MakeSkill) -> None:
    body = (
        "# Demo\n\nRead [a](references/a.md) when a site paginates.\n\n## Details\n"
        + "Detail line.\n" * 60
    )
    skill = make_skill(body, files={"references/a.md": "# A\n"})
    finding = only(skill, "BP-5")
    assert (finding.file, finding.line) == ("SKILL.md", 9)
    assert "Details" in finding.detail


def test_bp5_passes_for_a_short_overview_with_references(make_skill: MakeSkill) -> None:
    body = (
        "# Demo\n\nRead [a](references/a.md) when a site paginates.\n\n## Steps\n" + "Step.\n" * 20
    )
    skill = make_skill(body, files={"references/a.md": "# A\n" + "Detail.\n" * 400})
    assert findings(skill, "BP-5") == []


# --- BP-6 -----------------------------------------------------------------------------------


def test_bp6_flags_an_unexplained_number(make_skill: MakeSkill) -> None:
    skill = make_skill("# Demo\n\nSet the timeout to 300 seconds.\n")
    finding = only(skill, "BP-6")
    assert (finding.file, finding.line) == ("SKILL.md", 7)
    assert "300" in finding.detail


def test_bp6_flags_setting_numbers_in_code_without_a_comment(make_skill: MakeSkill) -> None:
    body = '# Demo\n\n```json\n{\n  "timeoutSecs": 7200,\n  "maxItems": 50\n}\n```\n'
    assert only(make_skill(body), "BP-6").line == 9


def test_bp6_passes_when_numbers_are_explained_or_not_settings(make_skill: MakeSkill) -> None:
    body = """# Demo

Set the timeout to 300 seconds because large pages load slowly.
Start with `maxItems: 50` to check the output shape.
Requires Node.js 18 or newer; the API changed in 2024, see https://example.com:8080/v2/items.
Pin `crawlee==3.11.2` and compare the last 12 months of data.
The user says: "I need 200 clinics in Munich".

12. Step twelve of the workflow.

## Step 15

```python
# keep runs short: the platform kills idle runs after 300 seconds
run = client.call(timeout_secs=300)
user_id = 123456
```
"""
    assert findings(make_skill(body), "BP-6") == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Wait 30s between pages", ["30"]),
        ("Use 1,000 items and 10-50 threads", ["1,000", "10", "50"]),
        ("Amazon S24 B09V3KXJPB UTF-8 python3.11 v2 10x faster 50+ shops", []),
        ("See [docs](https://x.io/a/500) on 2025-01-15 at 10:30", []),
        ("HTTP 429 status code", []),
    ],
)
def test_magic_numbers_picks_settings_and_skips_identifiers(line: str, expected: list[str]) -> None:
    assert magic_numbers(line) == expected


# --- BP-7 -----------------------------------------------------------------------------------

SHARED = (
    "Validate the sample before the full run: every row needs a name, an address and a\n"
    "category, and the rows must be in the area the user asked for.\n"
)


def test_bp7_flags_a_paragraph_repeated_in_a_reference(make_skill: MakeSkill) -> None:
    skill = make_skill(
        "# Demo\n\nRead [a](references/a.md) when a run looks wrong.\n\n" + SHARED,
        files={"references/a.md": "# A\n\nSome intro text.\n\n" + SHARED},
    )
    finding = only(skill, "BP-7")
    assert (finding.file, finding.line) == ("references/a.md", 5)
    assert "SKILL.md:9" in finding.detail


def test_bp7_flags_three_identical_consecutive_lines(make_skill: MakeSkill) -> None:
    block = (
        "- Check the run status before reading\n"
        "- Count the dataset items first\n"
        "- Compare the count with the request\n"
    )
    skill = make_skill(
        "# Demo\n\nRead [a](references/a.md) when a run looks wrong.\n\nChecks:\n" + block,
        files={"references/a.md": "# A\n\nOther words here, different.\n" + block},
    )
    finding = only(skill, "BP-7")
    assert (finding.file, finding.line) == ("references/a.md", 4)
    assert finding.detail.startswith("3 lines")


def test_bp7_passes_when_references_add_new_content(make_skill: MakeSkill) -> None:
    skill = make_skill(
        "# Demo\n\nRead [a](references/a.md) when a run looks wrong.\n\n" + SHARED,
        files={"references/a.md": "# A\n\nCursor pagination needs the last cursor of a page.\n"},
    )
    assert findings(skill, "BP-7") == []


# --- BP-8 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "See [advanced](references/a.md).",
        "For more see references/a.md.",
        "See references/a.md for the a.",
    ],
)
def test_bp8_flags_a_reference_without_when_to_read_it(make_skill: MakeSkill, line: str) -> None:
    skill = make_skill(f"# Demo\n\n{line}\n", files={"references/a.md": "# A\n"})
    finding = only(skill, "BP-8")
    assert (finding.file, finding.line) == ("SKILL.md", 7)
    assert "references/a.md" in finding.detail


@pytest.mark.parametrize(
    "text",
    [
        "Read [paging](references/a.md) when a site paginates with cursors.",
        "If a run fails twice,\nconsult references/a.md.",
        "Choose based on the language:\n\n- **Python**: see [a](references/a.md)",
    ],
)
def test_bp8_passes_with_guidance(make_skill: MakeSkill, text: str) -> None:
    skill = make_skill(f"# Demo\n\n{text}\n", files={"references/a.md": "# A\n"})
    assert findings(skill, "BP-8") == []


def test_bp8_reports_a_missing_linked_file(make_skill: MakeSkill) -> None:
    skill = make_skill("# Demo\n\nRead [gone](references/gone.md) when runs stall.\n")
    finding = only(skill, "BP-8")
    assert (finding.file, finding.line) == ("SKILL.md", 7)
    assert "linked file not found" in finding.detail


def test_bp8_reports_a_reference_never_linked(make_skill: MakeSkill) -> None:
    skill = make_skill(files={"references/orphan.md": "# Orphan\n"})
    finding = only(skill, "BP-8")
    assert (finding.file, finding.line) == ("references/orphan.md", 1)


def test_non_utf8_reference_is_a_finding_not_a_crash(make_skill: MakeSkill) -> None:
    skill = make_skill(
        "# Demo\n\nRead [a](references/a.md) when runs stall.\n",
        files={"references/a.md": b"# A\n\xff\xfe broken\n"},
    )
    finding = only(skill, "BP-8")
    assert finding.file == "references/a.md" and "UTF-8" in finding.detail


# --- FM -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "line", "expected"),
    [
        ({"frontmatter": ""}, 1, "no YAML frontmatter"),
        ({"frontmatter": "---\nname: demo-skill\n"}, 1, "not closed"),
        ({"frontmatter": "---\nname: [demo\n---\n"}, 2, "not valid YAML"),
        ({"frontmatter": "---\n- a list\n---\n"}, 1, "mapping"),
        ({"frontmatter": f"---\ndescription: {GOOD_DESCRIPTION}\n---\n"}, 1, "no 'name'"),
        ({"name": "Demo_Skill", "folder": "Demo_Skill"}, 2, "a-z, 0-9 and hyphens"),
        ({"name": "-demo-", "folder": "-demo-"}, 2, "hyphen"),
        ({"name": "a" * 65, "folder": "a" * 65}, 2, "max 64"),
        ({"name": "other-name"}, 2, "differs from its folder 'demo-skill'"),
        ({"description": None}, 1, "no 'description'"),
        ({"description": "Use when asked. " + "x" * 1100}, 3, "max 1024"),
    ],
)
def test_fm_rules_flag_bad_frontmatter(
    make_skill: MakeSkill, kwargs: dict, line: int, expected: str
) -> None:
    found = findings(make_skill(**kwargs), FM)
    assert any(expected in f.detail and f.line == line for f in found), found
    assert all(f.file == "SKILL.md" for f in found)


def test_fm_passes_for_a_valid_name_and_description(make_skill: MakeSkill) -> None:
    skill = make_skill(name="web-scraper-2", folder="web-scraper-2")
    assert lint_skill(skill).result(FM) == "pass"


# --- API ------------------------------------------------------------------------------------


def test_only_bp_checks_in_the_taxonomy_are_reported(make_skill: MakeSkill, tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_CHECKS_FILE.read_text(encoding="utf-8"))
    data["checks"] = [c for c in data["checks"] if c["id"] != "BP-4"]
    checks = tmp_path / "checks.yaml"
    checks.write_text(yaml.safe_dump(data), encoding="utf-8")
    lint = lint_skill(make_skill(MIXED_TERMS), load_taxonomy(checks))
    assert "BP-4" not in lint.results and list(lint.results)[-1] == FM
    assert all(f.check_id != "BP-4" for f in lint.findings)


def test_lint_catalog_covers_the_corpus_in_manifest_order(corpus_dir: Path) -> None:
    catalog = load_catalog(corpus_dir)
    lints = lint_catalog(catalog)
    assert list(lints) == list(catalog.skills)
    assert all(lint.result(FM) == "pass" for lint in lints.values())
    assert lints["apify-audience-analysis"].result("BP-2") == "fail"
    assert lints["apify-lead-generation"].result("BP-2") == "pass"
    assert lints["apify-actorization"].result("BP-3") == "fail"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=400))
def test_arbitrary_markdown_never_crashes(make_skill: MakeSkill, text: str) -> None:
    lint = lint_skill(make_skill(text, frontmatter="", files={"references/x.md": text}))
    assert set(lint.results.values()) <= {"pass", "fail"}
    assert all(f.line >= 1 for f in lint.findings)
