from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from heatmap.models import Run
from tests.heatmap_data import HTMX, fill_domain, make_run, specialist_task
from tests.matrix_html import matrix_cells

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


HOSTILE = (
    "## Analysis\n<script>window.pwned = 1</script>\n"
    '<img src=x onerror="window.pwned = 1">\n[click](javascript:alert(1))\n'
)


def test_root_redirects_to_the_overview(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/heatmap/"


def test_overview_shows_every_skill_tabs_and_run_controls(client, catalog):
    html = client.get("/heatmap/").content.decode()
    for skill in catalog.skills:
        assert f'data-skill="{skill}"' in html
    for domain in catalog.domains:
        assert f'href="/heatmap/{domain}/"' in html
    assert 'name="models" value="heuristic"' in html
    assert "htmx-2.min.js" in html and "hx-ws-2.min.js" in html
    assert "scenario-skill pairs" in html


def test_idle_pages_do_not_poll(client, catalog, domain_id):
    overview = client.get("/heatmap/")
    assert overview.status_code == 200 and b'id="overview-table"' in overview.content
    assert b"every 5s" not in overview.content
    make_run()
    fill_domain(Run.objects.get(), catalog, domain_id, model="heuristic")
    domain = client.get(f"/heatmap/{domain_id}/")
    assert domain.status_code == 200 and b'id="domain-matrix"' in domain.content
    assert b"every 5s" not in domain.content


def test_active_run_makes_fragments_poll_and_the_end_stops_them(client, catalog, domain_id):
    run = make_run(status=Run.Status.RUNNING, models=["heuristic", "sonnet"], total=10)
    page = client.get(f"/heatmap/{domain_id}/").content.decode()
    assert 'hx-trigger="every 5s, run-ended from:body"' in page
    assert f'ws-connect="/ws/runs/{run.run_id}/"' in page

    polling = client.get(f"/heatmap/{domain_id}/", **HTMX)
    assert polling.status_code == 200
    assert polling.content.decode().lstrip().startswith('<div id="domain-matrix"')
    assert b"<html" not in polling.content

    Run.objects.filter(pk=run.pk).update(status=Run.Status.COMPLETED)
    final = client.get(f"/heatmap/{domain_id}/", **HTMX)
    assert final.status_code == 286
    assert b'id="domain-matrix"' in final.content and b"every 5s" not in final.content
    assert client.get("/heatmap/", **HTMX).status_code == 286


def test_overview_fragment_filters_skills(client, catalog):
    some = sorted(catalog.skills)[0]
    html = client.get("/heatmap/", {"q": some}, **HTMX).content.decode()
    assert f'data-skill="{some}"' in html
    assert html.count("data-skill=") == 1


def test_domain_matrix_shows_results_without_relying_on_colour(client, domain_id, scenario):
    specialist_task(
        make_run(),
        scenario,
        model="haiku",
        results={"WF-1": "fail", "WF-2": "pass"},
        domain=domain_id,
    )
    html = client.get(f"/heatmap/{domain_id}/").content.decode()
    cells = matrix_cells(html)
    # Each block has a glyph and the cell a tooltip in words (S: the specialist, then the
    # generalists' initials), so a cell reads without its colour.
    failed, passed = cells[(scenario.id, "WF-1", "haiku")], cells[(scenario.id, "WF-2", "haiku")]
    generalists = len(scenario.target_skills) - 1
    assert [b.glyph for b in failed.blocks] == ["✗"] + ["·"] * generalists
    assert [b.glyph for b in passed.blocks] == ["✓"] + ["·"] * generalists
    assert failed.title.startswith("S fail") and passed.title.startswith("S pass")
    assert generalists and failed.title.endswith(" not run")
    assert '<th scope="col" class="g" title="haiku on' in html


def test_unknown_domain_is_404(client, catalog):
    assert client.get("/heatmap/no-such-domain/").status_code == 404


def test_cell_detail_renders_markdown_without_anything_executable(client, domain_id, scenario):
    specialist_task(
        make_run(),
        scenario,
        model="haiku",
        results={"WF-1": "fail"},
        domain=domain_id,
        markdown=HOSTILE,
        evidence="<b>quoted</b>",
    )
    response = client.get(
        f"/heatmap/{domain_id}/cell/",
        {"scenario": scenario.id, "check": "WF-1", "model": "haiku"},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Analysis</h2>" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;window.pwned" in html
    assert "&lt;b&gt;quoted&lt;/b&gt;" in html
    assert "<html" not in html


def test_bp_toggle_shows_the_linter_matrix(client, catalog, domain_id):
    html = client.get(f"/heatmap/{domain_id}/bp/", **HTMX).content.decode()
    for skill in catalog.domains[domain_id].skills:
        assert f">{skill}</th>" in html
    assert "BP-1" in html and "BP-8" in html


def test_pages_use_constant_queries(client, catalog, domain_id, django_assert_max_num_queries):
    for model in ("haiku", "sonnet"):
        fill_domain(make_run(), catalog, domain_id, model=model)
    make_run(status=Run.Status.RUNNING, models=["haiku"])
    # The full page's plan line also asks the response cache which tasks it would answer,
    # and the filters' run picker lists the recent runs; fragments do neither. The overview
    # also reads the newest tasks' fingerprints for its stale marks and their check rows for
    # model agreement (once per data version), and the least-agreed checks (a version read).
    # The live fragments are keyed by the data version (with whether a run of the catalog is
    # on, which throttles it: ``results_version``); a fragment not rendered yet reads it again.
    with django_assert_max_num_queries(8):
        client.get("/heatmap/")
    with django_assert_max_num_queries(5):
        client.get(f"/heatmap/{domain_id}/")
    with django_assert_max_num_queries(4):
        client.get(f"/heatmap/{domain_id}/", **HTMX)
    with django_assert_max_num_queries(4):
        client.get("/heatmap/", **HTMX)
    with django_assert_max_num_queries(3):  # rendered: catalog, active run, version
        client.get("/heatmap/", **HTMX)


def test_plan_endpoint_counts_tasks_like_the_engine(client, catalog, domain_id):
    from heatmap.services import plans

    plan = plans.run_plan(catalog=catalog, domains=[domain_id], models=["heuristic"])
    html = client.get(
        "/run-controls/plan/", {"domains": [domain_id], "models": ["heuristic"]}
    ).content
    assert f"1 domain × {plan.pairs} scenario-skill pairs × 1 model" in (html.decode())
    assert f"= {plan.total} task" in html.decode()
    assert (
        b"Choose at least one model"
        in client.get("/run-controls/plan/", {"domains": [domain_id]}).content
    )


def test_run_form_starts_a_run_and_hands_it_to_a_worker(client, catalog, domain_id, dispatched):
    response = client.post(
        "/run-controls/start/",
        {"domains": [domain_id], "models": ["heuristic"], "concurrency": "2", "next": "/heatmap/"},
    )
    assert response.status_code == 302 and response["Location"] == "/heatmap/"
    run = Run.objects.get()
    assert run.models == ["heuristic"] and run.domains == [domain_id] and run.concurrency == 2
    assert dispatched == [run.run_id]


def test_run_form_rejects_an_unknown_model_with_a_message(client, catalog, domain_id, dispatched):
    response = client.post(
        "/run-controls/start/", {"domains": [domain_id], "models": ["gpt-9"]}, follow=True
    )
    assert "unknown model(s): gpt-9" in response.content.decode()
    assert not Run.objects.exists() and dispatched == []


def test_plan_line_gives_the_cost_of_paid_models_and_asks_above_the_threshold(
    client, catalog, domain_id, fake_claude_bin, settings
):
    settings.SKILLCHECK_CLAUDE_BIN = str(fake_claude_bin)
    settings.SKILLCHECK_CONFIRM_COST_USD = 1000.0
    free = client.get("/run-controls/plan/", {"domains": [domain_id], "models": ["heuristic"]})
    assert "No cost: offline models only." in free.content.decode()
    cheap = client.get(
        "/run-controls/plan/", {"domains": [domain_id], "models": ["heuristic", "haiku"]}
    )
    text = cheap.content.decode()
    assert "Estimated cost: <strong>$" in text and "haiku $" in text
    assert 'name="confirm_cost"' not in text

    settings.SKILLCHECK_CONFIRM_COST_USD = 0.0
    dear = client.get("/run-controls/plan/", {"domains": [domain_id], "models": ["haiku"]}).content
    assert b'name="confirm_cost"' in dear and b"required" in dear


def test_run_form_starts_a_run_above_the_threshold_only_once_confirmed(
    client, catalog, domain_id, fake_claude_bin, settings, dispatched
):
    from heatmap.services.plans import run_plan_preview

    settings.SKILLCHECK_CLAUDE_BIN = str(fake_claude_bin)
    settings.SKILLCHECK_CONFIRM_COST_USD = 0.0
    form = {"domains": [domain_id], "models": ["haiku"], "next": "/heatmap/"}
    refused = client.post("/run-controls/start/", form, follow=True).content.decode()
    assert "tick the confirmation box" in refused and not Run.objects.exists()
    # The refusal keeps the selection: the same domain and model are ticked again.
    assert f'value="{domain_id}" checked' in refused
    assert 'name="confirm_cost"' in refused

    preview = run_plan_preview(catalog=catalog, domains=[domain_id], models=["haiku"])
    client.post(
        "/run-controls/start/", {**form, "confirm_cost": str(int(preview.confirm_token) - 1)}
    )
    assert not Run.objects.exists(), "a confirmation of another estimate does not count"
    client.post("/run-controls/start/", {**form, "confirm_cost": preview.confirm_token})
    assert Run.objects.get().models == ["haiku"] and len(dispatched) == 1


def test_run_controls_keep_the_last_selection(client, catalog, domain_id, dispatched):
    other = next(d for d in catalog.domains if d != domain_id)
    client.post(
        "/run-controls/start/",
        {"domains": [domain_id], "models": ["heuristic"], "concurrency": "7"},
    )
    page = client.get("/heatmap/").content.decode()
    assert f'value="{domain_id}" checked' in page
    assert f'value="{other}" checked' not in page
    assert 'name="concurrency" min="1" max="64" value="7"' in page


def test_run_all_runs_every_domain_and_every_available_model(client, catalog, dispatched):
    from heatmap.services import auditors, plans

    client.post("/run-controls/start/", {"all": "1", "models": ["heuristic"]})
    run = Run.objects.get()
    available = [c.name for c in auditors.model_choices() if c.available]
    assert (
        run.models == available
        and run.total == plans.run_plan(catalog=catalog, domains=None, models=available).total
    )


def test_run_form_needs_the_csrf_token(catalog, domain_id, dispatched):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/run-controls/start/", {"domains": [domain_id], "models": ["heuristic"]}
    )
    assert response.status_code == 403 and not Run.objects.exists()


def test_cancel_button_requests_cancellation(client, catalog):
    run = make_run(status=Run.Status.RUNNING, total=4)
    response = client.post(f"/runs/{run.run_id}/cancel/", **HTMX)
    run.refresh_from_db()
    assert run.cancel_requested
    assert response.status_code == 200 and b'id="progress-body"' in response.content


def test_runs_history_lists_runs_with_report_download(
    client, catalog, domain_id, settings, tmp_path
):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path
    run = make_run(models=["heuristic", "haiku"], total=3, completed=3, cost_usd=0.25)
    fill_domain(run, catalog, domain_id, model="heuristic")
    html = client.get("/runs/").content.decode()
    assert run.run_id in html and "heuristic, haiku" in html and "$0.2500" in html
    report = client.get(f"/runs/{run.run_id}/report.json")
    assert report.status_code == 200
    data = json.loads(b"".join(report.streaming_content) if report.streaming else report.content)
    assert {r["scenario_id"] for r in data["results"]} == {
        s.id for s in catalog.domains[domain_id].scenarios
    }
    # The missing file was rebuilt from the rows, in the engine's one report format.
    assert data["type"] == "scored" and data["run_id"] == run.run_id
    assert data["result_count"] == len(data["results"])
    assert (tmp_path / f"scored_run_{run.run_id}.json").is_file()


def test_progress_fragment_counts_tasks_with_models(client, catalog):
    run = make_run(status=Run.Status.RUNNING, models=["haiku", "opus"], total=201, completed=15)
    html = client.get(reverse("heatmap:run-progress", args=[run.run_id])).content.decode()
    assert "15 / 201 completed (haiku, opus)" in html
    assert ">Cancel</button>" in html


def test_resume_button_resumes_a_cancelled_run_and_reloads_the_page(client, catalog, dispatched):
    run = make_run(status=Run.Status.CANCELLED, total=4, completed=1)
    response = client.post(f"/runs/{run.run_id}/resume/", **HTMX)
    run.refresh_from_db()
    assert run.status == Run.Status.PENDING and dispatched == [run.run_id]
    # htmx reloads the page it was on, which then shows the resumed run's live panel.
    assert response.status_code == 200 and response["HX-Refresh"] == "true"


def test_resume_form_without_javascript_returns_to_the_page(client, catalog, dispatched):
    run = make_run(status=Run.Status.INTERRUPTED, total=4, completed=1)
    response = client.post(f"/runs/{run.run_id}/resume/", {"next": "/runs/"})
    assert response.status_code == 302 and response["Location"] == "/runs/"
    assert dispatched == [run.run_id]


def test_a_run_has_its_own_page_with_live_progress_and_links(client, catalog):
    run = make_run(status=Run.Status.COMPLETED, models=["haiku"], total=4, completed=4)
    html = client.get(f"/runs/{run.run_id}/").content.decode()
    assert "<title>" in html and 'class="site"' in html  # a whole page, not a bare fragment
    assert "4 / 4 completed (haiku)" in html
    assert f'href="/runs/{run.run_id}/report.json"' in html
    assert f'href="/admin/heatmap/run/{run.pk}/change/"' in html
    assert f'href="/runs/{run.run_id}/"' in client.get("/runs/").content.decode()


def test_overview_says_how_to_start_while_there_are_no_results(client, catalog, domain_id):
    assert "No results yet" in client.get("/heatmap/").content.decode()
    fill_domain(make_run(), catalog, domain_id, model="heuristic")
    assert "No results yet" not in client.get("/heatmap/").content.decode()


def test_a_run_whose_process_died_here_offers_resume_at_once(client, catalog, dispatched):
    import subprocess
    import sys

    from django.utils import timezone

    from skillcheck import processes

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    run = make_run(
        status=Run.Status.RUNNING,
        total=4,
        completed=1,
        heartbeat_at=timezone.now(),
        owner_host=processes.this_host(),
        owner_pid=gone.pid,
    )
    page = client.get("/runs/").content.decode()
    assert "interrupted" in page and f"/runs/{run.run_id}/resume/" in page
    client.post(f"/runs/{run.run_id}/resume/", **HTMX)
    run.refresh_from_db()
    assert run.status == Run.Status.PENDING and dispatched == [run.run_id]
