"""The screenshots in the docs, taken from the pages as the code draws them.

A real run fills the heatmap: the offline heuristic auditor over the whole bundled catalog,
and two Claude models (the fake ``claude``) over one domain, through ``run_scored`` as a user
would start them. Then the overview and a domain matrix, with a cell's detail open, are
photographed at 390 px and 1440 px into ``docs/img/`` (committed; the README shows one) and
the test-artifacts folder. Fixed run ids and times keep the pictures the same from one run to
the next while the pages do not change (Chromium's text rendering may still move a pixel now
and then), so a changed PNG in ``git status`` is most likely a changed page.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from heatmap import selectors
from heatmap.models import Run, TaskResult
from heatmap.services.newest import newest_rebuild

pytestmark = pytest.mark.browser

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
DOMAIN = "price-tracking"
WIDTHS = {390: 844, 1440: 900}
# When the pictured runs say they ran: the pages show these times.
PICTURED_AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def audited(live_url: str, tmp_path: Path, monkeypatch) -> str:
    """A heuristic run of every domain and a haiku + sonnet run of one; the cell to open."""
    monkeypatch.setenv("FAKE_CLAUDE_DELAY_S", "0")
    reports = str(tmp_path / "reports")
    runs = (
        ("docs-heuristic", "heuristic", None),
        ("docs-claude", "haiku,sonnet", DOMAIN),
    )
    for run_id, models, domain in runs:
        args = ["--run-id", run_id, "--models", models, "--reports-dir", reports]
        args += ["--concurrency", "4", "--no-cache"]
        if domain:
            args += ["--domains", domain]
        call_command("run_scored", *args, stdout=StringIO(), stderr=StringIO())
    for hours, (run_id, _, _) in enumerate(runs):
        start = PICTURED_AT + timedelta(hours=hours)
        end = start + timedelta(minutes=2)
        Run.objects.filter(run_id=run_id).update(
            created_at=start, started_at=start, finished_at=end, heartbeat_at=end
        )
        TaskResult.objects.filter(run__run_id=run_id).update(finished_at=end)
    newest_rebuild()  # the tasks' times moved behind the kept aggregates' back
    scenario = selectors.catalog_current().domains[DOMAIN].scenarios[0]
    return f"/heatmap/{DOMAIN}/cell/?scenario={scenario.id}&check=WF-1&clicked=haiku"


def _save(page: Page, name: str, screenshots: Path, *, full_page: bool = True) -> Path:
    # Every request answered and the layout settled (fonts, the sticky headers' offsets),
    # so that one page gives one picture.
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => new Promise(requestAnimationFrame))")
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    path = DOCS_IMAGES / f"{name}.png"
    page.screenshot(path=path, full_page=full_page)
    shutil.copyfile(path, screenshots / f"docs-{name}.png")
    return path


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_docs_screenshots_of_the_overview_and_a_domain_matrix(
    page: Page, live_url: str, audited: str, screenshots: Path, width: int
):
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})

    page.goto(f"{live_url}/heatmap/")
    table = page.locator("#overview-table")
    for model in ("heuristic", "haiku", "sonnet"):
        expect(table).to_contain_text(model)
    expect(page.locator("#agreement h2")).to_have_text("Model agreement")
    overview = _save(page, f"heatmap-overview-{width}", screenshots)

    page.goto(live_url + audited)
    expect(page.locator("#domain-matrix")).to_be_visible()
    expect(page.locator("#detail-panel")).to_contain_text("sonnet")
    # The first screen only: in a whole-page picture Chromium draws the matrix's sticky
    # check names a pixel apart from one run to the next.
    matrix = _save(page, f"domain-matrix-{width}", screenshots, full_page=False)

    for path in (overview, matrix):
        assert path.stat().st_size > 10_000, f"{path} looks empty"
