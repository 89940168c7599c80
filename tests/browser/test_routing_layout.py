"""The routing page at 390 and 1440 px, as a user reads it: on a desktop the per-skill table is
whole in its box (the stolen-by lists in sight beside the rates); on a phone the skill and its
F1 with the interval are on the first screen, the rest scrolls inside the table's box; the
confusion matrix is a heatmap with its diagonal outlined and a legend. The real corpus routed
by lexical; the bundled catalog (with prompts that expect none) by lexical and haiku (the
real SDK against the API stub), photographed into docs/img/ for the routing docs."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.fakes import API_MODELS

pytestmark = pytest.mark.browser

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def _right(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"]


def plausible_router(catalog_dir: Path):
    """The stub's haiku for the pictures: the lexical pick, with one prompt in five sent
    elsewhere (a hash picks which and where), so right and wrong both show."""
    import zlib

    from skillcheck.catalog import load_catalog
    from skillcheck.routing.cases import catalog_descriptions
    from skillcheck.routing.routers import LexicalRouter

    lexical = LexicalRouter(catalog_descriptions(load_catalog(catalog_dir)))

    def route(model: str, prompt: str, choices: list[str]) -> str:
        spin = zlib.crc32(prompt.encode())
        pick = lexical.route(prompt).pick or choices[-1]
        return choices[spin // 5 % len(choices)] if spin % 5 == 0 else pick

    return route


@pytest.fixture
def corpus_routed(live_url: str, corpus_dir: Path, tmp_path: Path) -> str:
    args = ["--catalog", str(corpus_dir), "--models", "lexical", "--runs", "1"]
    args += ["--run-id", "routing-corpus", "--reports-dir", str(tmp_path), "--no-cache"]
    call_command("run_routing", *args, stdout=StringIO(), stderr=StringIO())
    return f"{live_url}/routing/?catalog=apify-skills&run=routing-corpus"


def test_the_per_skill_table_is_whole_at_1440(page: Page, corpus_routed: str, screenshots):
    page.set_viewport_size(DESKTOP)
    page.goto(corpus_routed)
    expect(page.locator("#routing-skills tbody tr").first).to_be_visible()
    page.screenshot(path=screenshots / "routing-corpus-1440.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    box = page.locator("#routing-skills .scroll-box")
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth"), box.evaluate(
        "b => [b.scrollWidth, b.clientWidth]"
    )
    # The catch-all loses its prompts to the specialists: its stolen-by list is in sight.
    stolen = page.locator("#routing-skills tr[data-skill=apify-ultimate-scraper] td.stolen")
    expect(stolen.locator("summary").first).to_be_visible()
    assert _right(page, "#routing-skills tr[data-skill=apify-ultimate-scraper] td.stolen") <= (
        _right(page, "#routing-skills .scroll-box") + 1
    )


def test_on_a_phone_the_skill_and_its_f1_come_first(page: Page, corpus_routed: str, screenshots):
    page.set_viewport_size(PHONE)
    page.goto(corpus_routed)
    expect(page.locator("#routing-skills tbody tr").first).to_be_visible()
    page.screenshot(path=screenshots / "routing-corpus-390.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    edge = _right(page, "#routing-skills .scroll-box")
    row = "#routing-skills tbody tr[data-skill]"
    for cell in (f"{row} th", f"{row} td.f1", f"{row} td.f1-ci"):
        assert _right(page, cell) <= edge, cell
    # The confusion matrix scrolls in its own box; its rows' names stay beside the cells.
    matrix = page.locator("#routing-confusion .scroll-box")
    assert matrix.evaluate("b => b.scrollWidth > b.clientWidth")
    assert _right(page, "#routing-confusion tbody th") < PHONE["width"] / 2


def test_the_confusion_matrix_is_a_heatmap_with_its_diagonal_marked(page: Page, corpus_routed: str):
    page.set_viewport_size(DESKTOP)
    page.goto(corpus_routed)
    diagonal = page.locator("#routing-confusion td.diag")
    expect(diagonal).to_have_count(12)  # one a skill; the corpus has no case expecting none
    outline = diagonal.first.evaluate("c => getComputedStyle(c).boxShadow")
    assert "inset" in outline
    fills = page.locator("#routing-confusion td.conf-cell").evaluate_all(
        "cells => [...new Set(cells.map(c => getComputedStyle(c).backgroundColor))]"
    )
    assert len(fills) >= 3  # white, and shades of blue by the share of the row
    expect(page.locator("#routing-confusion .legend")).to_contain_text("the expected skill")


def test_choosing_another_run_shows_it(
    page: Page, corpus_routed: str, corpus_dir: Path, tmp_path: Path
):
    """The run picker submits on change from app.js: an inline handler is refused by the
    Content-Security-Policy (which the autouse fixture checks on every page)."""
    args = ["--catalog", str(corpus_dir), "--models", "lexical", "--runs", "1"]
    call_command("run_routing", *args, "--run-id", "routing-corpus-2",
                 "--reports-dir", str(tmp_path), stdout=StringIO())  # fmt: skip
    page.goto(corpus_routed)
    page.select_option("select[name=run]", "routing-corpus-2")
    page.wait_for_url("**run=routing-corpus-2**")
    expect(page.locator("select[name=run]")).to_have_value("routing-corpus-2")


def test_the_run_form_shows_its_plan_line(page: Page, corpus_routed: str):
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/routing/run/plan/" in r.url else None)
    page.goto(corpus_routed)
    plan = page.locator("#routing-plan .plan-line")
    expect(plan).to_have_text("37 calls")  # lexical, K = 3: the corpus run had K = 1
    page.fill("#routing-run input[name=runs]", "1")
    page.locator("#routing-run input[name=runs]").dispatch_event("change")
    expect(plan).to_have_text("0 calls · 37 cases from the pick cache")
    page.check("#routing-run input[name=no_cache]")
    expect(plan).to_have_text("37 calls")
    # A GET: the form's CSRF token stays out of its URL (and out of logs and Referer headers).
    assert asked and not [url for url in asked if "csrfmiddlewaretoken" in url]


@pytest.mark.parametrize("width", [1440, 390])
def test_docs_screenshots_of_the_bundled_catalog(
    page: Page, live_url: str, tmp_path: Path, anthropic_stub, settings, screenshots, width
):
    settings.SKILLCHECK_MODELS = dict(API_MODELS)
    settings.ANTHROPIC_API_KEY = "sk-test-key"
    settings.ANTHROPIC_BASE_URL = anthropic_stub.base_url
    anthropic_stub.router = plausible_router(settings.SKILLCHECK_CATALOG)
    args = ["--models", "lexical,haiku", "--run-id", "routing-docs", "--no-cache"]
    call_command("run_routing", *args, "--reports-dir", str(tmp_path), stdout=StringIO())
    page.set_viewport_size({"width": width, "height": 1100 if width > 400 else 844})
    page.goto(f"{live_url}/routing/?run=routing-docs&model=haiku")
    expect(page.locator("#routing-confusion td.diag").first).to_be_visible()
    name = f"routing-{width}.png"
    if width < 400:  # the phone picture: the confusion matrix, as the docs show it
        page.locator("#routing-confusion").screenshot(path=screenshots / name)
    else:
        page.screenshot(path=screenshots / name)
    shutil.copy(screenshots / name, DOCS_IMAGES / name)
