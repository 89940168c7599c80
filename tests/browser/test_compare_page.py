"""The compare page for the case issue 19 tried: the real corpus with three models through the
Messages API stub, one skill's SKILL.md edited, the catalog run again (the other skills from
the response cache). The page leads with the per-skill summary and fits in three screens at
1440 px; the filters swap only the list. Photographed at 390 and 1440 px."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENS = 3
EDITED = "apify-competitor-intelligence"
SECTION = """## Cost and limits

Before a run, tell the user what it may cost: most Actors charge per result, so cap
`maxItems` (start with 50) and confirm before raising it. Never scrape private profiles or
anything behind a login.

"""


def _run(catalog: str, run_id: str) -> str:
    out = io.StringIO()
    call_command(
        "run_scored", "--catalog", catalog, "--models", "haiku,sonnet,opus", "--run-id", run_id,
        "--concurrency", "16", "--json", stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    data = json.loads(out.getvalue())
    assert data["status"] == "completed" and data["failed"] == 0, data
    return data["run_id"]


@pytest.fixture
def one_skill_edited(corpus_dir, tmp_path, anthropic_stub, settings) -> str:
    """The compare page's path after: run, edit one SKILL.md, run again."""
    settings.ANTHROPIC_API_KEY = "test-key"
    settings.ANTHROPIC_BASE_URL = anthropic_stub.base_url
    settings.SKILLCHECK_CLAUDE_BIN = "no-such-claude"
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    settings.SKILLCHECK_MAX_RETRIES = 0
    catalog = tmp_path / "apify-skills"
    shutil.copytree(corpus_dir, catalog)
    base = _run(str(catalog), "before-edit")
    skill_md = catalog / "skills" / EDITED / "SKILL.md"
    text = skill_md.read_text()
    skill_md.write_text(text.replace("## Workflow\n", SECTION + "## Workflow\n", 1))
    new = _run(str(catalog), "after-edit")
    return f"/runs/{new}/compare/{base}/"


def test_the_compare_page_of_one_edited_skill_fits_three_screens(
    page: Page, live_url: str, one_skill_edited: str, screenshots, artifacts
):
    page.set_viewport_size(DESKTOP)
    page.goto(live_url + one_skill_edited)
    headings = page.locator("main h2").all_inner_texts()
    assert headings[:2] == ["Per skill", "Changed checks by skill"], headings
    summary = page.locator("tbody.skill-summary")
    expect(summary).to_have_count(1)  # the edited skill; the others on one line
    assert summary.get_attribute("data-skill") == EDITED
    expect(summary.locator(".files-changed")).to_have_text("files edited")
    height = page.evaluate("document.documentElement.scrollHeight")
    page.screenshot(path=screenshots / "compare-1440.png", full_page=True)
    assert height <= SCREENS * DESKTOP["height"], height
    # The diff and the evidence are one click away: the skill's group opens in place.
    group = page.locator(f'details.skill-flips[data-skill="{EDITED}"]')
    group.locator("summary").click()
    expect(group.locator(".skill-diff .file-edited")).to_have_text("edited")
    added = group.locator(".skill-diff .d-add", has_text="## Cost and limits")
    expect(added).to_have_count(1)
    expect(group.locator("article.flip").first).to_be_visible()
    opened = {"x": 0, "y": 0, "width": DESKTOP["width"], "height": 1350}
    page.screenshot(path=screenshots / "compare-opened-1440.png", full_page=True, clip=opened)
    page.screenshot(path=DOCS_IMAGES / "compare-1440.png", full_page=True, clip=opened)
    # Regressions only: htmx swaps the list, the summary stays as it was.
    page.evaluate("document.querySelector('section.compare-skills').dataset.kept = 'yes'")
    page.get_by_label("Regressions only").check()
    expect(page).to_have_url(re.compile(r"regressions=1"))
    expect(page.locator("#compare-list article.flip[data-flip=improvement]")).to_have_count(0)
    expect(page.locator("#compare-list article.flip[data-flip=regression]").first).to_be_attached()
    assert page.locator("section.compare-skills").get_attribute("data-kept") == "yes"
    (artifacts / "compare-page-heights.txt").write_text(f"1440: {height}\n")


def test_the_compare_page_on_a_phone(page: Page, live_url: str, one_skill_edited: str, screenshots):
    page.set_viewport_size(PHONE)
    page.goto(live_url + one_skill_edited + f"?skill={EDITED}&model=haiku&regressions=1")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    first = page.locator("article.flip").first
    expect(first).to_be_visible()
    # Before and after stack on a phone: the after side starts below the before side.
    before = first.locator(".side.before").bounding_box()
    after = first.locator(".side.after").bounding_box()
    assert before and after and after["y"] >= before["y"] + before["height"] - 1
    page.screenshot(path=screenshots / "compare-filtered-390.png", full_page=False)
