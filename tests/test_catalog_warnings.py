"""What the catalog skipped (a scenario whose skill is not in the manifest) is said wherever
the user looks: ``run_scored`` (also ``--dry-run`` and ``--json``), ``lint_skills``, the
overview's notice, the run controls and the API."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.utils.html import escape

from heatmap import selectors
from tests.conftest import GHOST_WARNING

pytestmark = pytest.mark.django_db

DOMAIN = "price-tracking"


@pytest.fixture
def warned(warned_catalog_dir, settings, tmp_path, empty_cache):
    settings.SKILLCHECK_CATALOG = warned_catalog_dir
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    return selectors.catalog_current(warned_catalog_dir)


def command(name: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_fixture_catalog_warns_once(warned):
    assert len(warned.warnings) == 1 and GHOST_WARNING in warned.warnings[0]


def test_run_scored_says_what_the_catalog_skipped(warned):
    out, err = command("run_scored", "--models", "heuristic", "--domains", DOMAIN)
    assert GHOST_WARNING in err
    assert out.splitlines()[0].startswith("Run ")  # stdout starts as before


def test_a_dry_run_lists_every_warning_and_its_json_has_them(warned):
    out, err = command("run_scored", "--dry-run", "--models", "heuristic")
    assert GHOST_WARNING in err and "dry run" in out
    out, err = command("run_scored", "--dry-run", "--models", "heuristic", "--json")
    assert json.loads(out)["warnings"] == warned.warnings and err == ""


def test_run_scored_json_carries_the_warnings(warned):
    out, _ = command("run_scored", "--models", "heuristic", "--domains", DOMAIN, "--json")
    data = json.loads(out)
    assert data["status"] == "completed" and data["warnings"] == warned.warnings


def test_a_run_shows_the_first_few_warnings_and_counts_the_rest(warned_catalog_dir, settings):
    wf = warned_catalog_dir / "scenarios" / "wf_scenarios.yaml"
    extra = "".join(
        f"\n  - id: wf-ghost-{n}\n    name: Missing\n    target_skill: ghost-skill\n"
        '    prompt: "Do it."\n'
        for n in range(4)
    )
    wf.write_text(wf.read_text() + extra)
    settings.SKILLCHECK_CATALOG = warned_catalog_dir
    _, err = command("run_scored", "--models", "heuristic", "--domains", DOMAIN)
    assert err.count("warning: ") == 4 and "and 2 more" in err and "--dry-run" in err
    _, err = command("run_scored", "--dry-run", "--models", "heuristic")
    assert err.count("warning: ") == 5


def test_resume_repeats_the_warnings(warned):
    from heatmap.models import Run

    command("run_scored", "--models", "heuristic", "--domains", DOMAIN, "--run-id", "w1")
    Run.objects.filter(run_id="w1").update(status=Run.Status.CANCELLED)
    _, err = command("run_scored", "--resume", "w1")
    assert GHOST_WARNING in err


def test_lint_skills_prints_them_and_its_json_has_them(warned, warned_catalog_dir):
    out, err = command("lint_skills", "--catalog", str(warned_catalog_dir))
    assert GHOST_WARNING in err and GHOST_WARNING not in out
    out, _ = command("lint_skills", "--catalog", str(warned_catalog_dir), "--json")
    assert json.loads(out)["warnings"] == warned.warnings


def test_overview_shows_a_notice_that_a_dismissal_hides(client, warned):
    page = client.get("/heatmap/").content.decode()
    assert 'id="catalog-notice"' in page and escape(GHOST_WARNING) in page
    assert "scenarios/wf_scenarios.yaml:" in page and str(warned.root) not in page
    response = client.post(
        "/notices/catalog/dismiss/", {"next": "/heatmap/?q=web"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and response.content == b""
    page = client.get("/heatmap/").content.decode()
    assert 'id="catalog-notice"' not in page
    # The run controls still say it: it is about what a run will leave out.
    assert "1 catalog warning: not in any run" in page and escape(GHOST_WARNING) in page


def test_dismissing_without_javascript_returns_to_the_page(client, warned):
    response = client.post("/notices/catalog/dismiss/", {"next": "/heatmap/?q=web"})
    assert response.status_code == 302 and response["Location"] == "/heatmap/?q=web"


def test_a_new_warning_brings_the_notice_back(client, warned, warned_catalog_dir):
    client.post("/notices/catalog/dismiss/")
    wf = warned_catalog_dir / "scenarios" / "wf_scenarios.yaml"
    ghost = (
        '\n  - id: wf-ghost-2\n    name: Missing\n    target_skill: other-ghost\n    prompt: "x"\n'
    )
    wf.write_text(wf.read_text() + ghost)
    page = client.get("/heatmap/").content.decode()
    assert 'id="catalog-notice"' in page and "other-ghost" in page


def test_a_catalog_without_warnings_shows_no_notice(client, catalog):
    response = client.get("/heatmap/")
    page = response.content.decode()
    assert response.status_code == 200 and all(f'data-skill="{s}"' in page for s in catalog.skills)
    assert 'id="catalog-notice"' not in page and "catalog warning" not in page


def test_the_api_answers_carry_the_warnings_without_server_paths(client, warned, dispatched):
    # The file is named relative to the catalog: a shared page shows no server layout.
    shown = [f"scenarios/wf_scenarios.yaml:{w.split('.yaml:')[1]}" for w in warned.warnings]
    # /api/heatmap/domains and /skills answer bare lists, as the original did.
    for url in (f"/api/heatmap/domain/{DOMAIN}", "/api/heatmap/bp"):
        assert client.get(url).json()["warnings"] == shown, url
    started = client.post(
        "/api/heatmap/run",
        {"domains": [DOMAIN], "models": ["heuristic"]},
        content_type="application/json",
    )
    assert started.status_code == 201 and started.json()["warnings"] == shown
