"""Every page type through axe-core in a real Chromium, at 390 and 1440 px, light and dark:
no serious or critical violation, and no page wider than the screen. Each page, its folded
parts opened, is photographed in each mode and width into ``test-artifacts/screenshots/a11y/``,
with axe's whole report (see docs/contributing.md).

axe-core comes inside the axe-playwright-python wheel (tests/browser/a11y.py). One server
with an editable copy of the example catalog serves every page (the scenario editor's text
box needs a catalog it may write), and one set of results is made per mode and width.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from heatmap import selectors
from heatmap.models import Run
from heatmap.services.catalogs import catalog_register
from skillcheck.bundled import EXAMPLE_CATALOG_DIR
from skillcheck.catalog import load_catalog
from tests.browser.a11y import BLOCKING, violations
from tests.heatmap_data import fill_domain, make_run

pytestmark = pytest.mark.browser

MODELS = ("heuristic", "haiku", "sonnet")
HEIGHT = {390: 844, 1440: 900}


@pytest.fixture(scope="module")
def a11y_server(django_db_setup, start_daphne, tmp_path_factory) -> Iterator[str]:
    """The app under daphne on an editable copy of the example catalog, for this module."""
    from django.conf import settings

    root = tmp_path_factory.mktemp("a11y") / "catalog"
    shutil.copytree(EXAMPLE_CATALOG_DIR, root)
    saved = settings.SKILLCHECK_CATALOG, settings.DEBUG
    settings.SKILLCHECK_CATALOG, settings.DEBUG = root, False
    try:
        with start_daphne() as url:
            yield url
    finally:
        settings.SKILLCHECK_CATALOG, settings.DEBUG = saved


@pytest.fixture
def page_paths(a11y_server, transactional_db, corpus_dir) -> dict[str, str]:
    """Three models on the widest domain (one fails, citing SKILL.md), a stopped run to
    compare with, and the corpus as a second catalog (the header's switcher shows)."""
    catalog = selectors.catalog_current()
    domain = max(
        (d for d in catalog.domains.values() if not d.is_dev),
        key=lambda d: sum(len(s.target_skills) for s in d.scenarios),
    )
    run = make_run(models=list(MODELS), domains=list(catalog.domains))
    fill_domain(run, catalog, domain.id, model="heuristic", result="pass")
    fill_domain(run, catalog, domain.id, model="sonnet", result="unclear")
    checks = [c.id for c in catalog.taxonomy.model_checks]
    fill_domain(
        run,
        catalog,
        domain.id,
        model="haiku",
        result=dict.fromkeys(checks, "pass") | {checks[0]: "fail", checks[1]: "na"},
        evidence='SKILL.md:3: "the step" leaves out the retry',
    )
    base = make_run(status=Run.Status.CANCELLED, models=list(MODELS), domains=[domain.id])
    fill_domain(base, catalog, domain.id, model="haiku", result="pass", age_s=3600)
    corpus = load_catalog(corpus_dir)
    corpus_domain = next(d for d in corpus.domains.values() if len(d.skills) > 1)
    fill_domain(
        make_run(catalog=catalog_register(catalog=corpus)), corpus, corpus_domain.id, model="haiku"
    )
    scenario = domain.scenarios[0]
    skill = scenario.specialist
    scenario_file = sorted((Path(catalog.root) / "scenarios").glob("*.yaml"))[0].stem
    cell = f"scenario={scenario.id}&check={checks[0]}&clicked=haiku"
    return {
        "overview": "/heatmap/",
        "domain": f"/heatmap/{domain.id}/",
        "cell-detail": f"/heatmap/{domain.id}/cell/?{cell}",
        "bp-matrix": f"/heatmap/{domain.id}/bp/",
        "bp-finding": f"/heatmap/{domain.id}/bp/cell/?skill={skill}&check=BP-1",
        "skill": f"/skills/{skill}/",
        "skill-file": f"/skills/{skill}/files/SKILL.md#L3",
        "checks-file": "/checks/",
        "check-quality": "/checks/quality/",
        "runs": "/runs/",
        "run": f"/runs/{run.run_id}/",
        "compare": f"/runs/{run.run_id}/compare/{base.run_id}/",
        "routing": "/routing/",
        "scenarios": "/scenarios/",
        "scenario-edit": f"/scenarios/{scenario_file}/",
        "scenario-new": "/scenarios/new/",
        "login": "/accounts/login/",  # team mode's too: test_team_login.py
        "not-found": "/heatmap/no-such-domain/cell/?scenario=x&check=y",
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1440])
def test_no_serious_violations_on_any_page(
    page: Page, a11y_server: str, page_paths, screenshots, width: int, scheme: str
):
    page.set_viewport_size({"width": width, "height": HEIGHT[width]})
    page.emulate_media(color_scheme=scheme)
    folder = screenshots / "a11y"
    folder.mkdir(exist_ok=True)
    found: dict[str, list[dict]] = {}
    minor: dict[str, list[dict]] = {}
    too_wide: dict[str, int] = {}
    for name, path in page_paths.items():
        page.goto(a11y_server + path)
        if name == "overview":  # its model agreement is asked for once the table is in
            expect(page.locator("#agreement h2")).to_have_text("Model agreement")
        # Folded parts (the prompt, the analysis, compare's skills, filters) are checked open.
        page.evaluate(
            "document.querySelectorAll('details:not(.catalog-switcher)')"
            ".forEach((d) => { d.open = true; })"
        )
        for violation in violations(page):
            (found if violation["impact"] in BLOCKING else minor).setdefault(name, []).append(
                violation
            )
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            too_wide[name] = scroll_width
        page.screenshot(path=folder / f"{name}-{width}-{scheme}.png", full_page=True)
    # The moderate and minor ones are kept beside the pictures, to read.
    report = folder / f"axe-{width}-{scheme}.json"
    report.write_text(json.dumps({"blocking": found, "other": minor}, indent=1))
    assert found == {}, json.dumps(found, indent=1)
    assert too_wide == {}, f"pages wider than {width} px: {too_wide}"
