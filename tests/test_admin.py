"""The admin shows runs, tasks and checks read-only, with status and model filters."""

from __future__ import annotations

import pytest
from django.urls import reverse

from heatmap.models import CheckResult, Run, TaskResult
from heatmap.services.catalogs import catalog_for_path
from tests.heatmap_data import configured_catalog

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture
def run():
    run = Run.objects.create(
        run_id="adm-1",
        catalog=configured_catalog(),
        status="completed",
        models=["heuristic", "sonnet"],
        domains=["wf"],
        total=2,
        completed=2,
        failed=1,
        input_tokens=1234,
        output_tokens=99,
        cost_usd=0.5,
    )
    task = TaskResult.objects.create(
        run=run,
        scenario_id="wf-1",
        skill="apify-x",
        model="sonnet",
        risk_level="HIGH",
        markdown_response="## Verdict <b>bold</b>",
    )
    CheckResult.objects.create(task=task, check_id="WF-1", result="fail", evidence="SKILL.md:3")
    TaskResult.objects.create(
        run=run, scenario_id="wf-2", skill="apify-x", model="heuristic", error="timed out"
    )
    Run.objects.create(
        run_id="adm-2", status="cancelled", models=["haiku"], catalog=configured_catalog()
    )
    return run


def test_run_list_shows_progress_tokens_and_cost(admin_client, run):
    page = admin_client.get(reverse("admin:heatmap_run_changelist")).content.decode()
    assert "adm-1" in page and "2/2 (1 failed)" in page
    assert "1,234 / 99" in page and "$0.5000" in page and "heuristic, sonnet" in page


def test_run_list_filters_by_status_and_model(admin_client, run):
    url = reverse("admin:heatmap_run_changelist")
    by_model = admin_client.get(url, {"model": "haiku"}).content.decode()
    assert "adm-2" in by_model and "adm-1" not in by_model
    by_status = admin_client.get(url, {"status__exact": "completed"}).content.decode()
    assert "adm-1" in by_status and "adm-2" not in by_status
    searched = admin_client.get(url, {"q": "adm-2"}).content.decode()
    assert "adm-2" in searched and "adm-1" not in searched


def test_drill_down_from_run_to_tasks_to_checks_is_read_only(admin_client, run):
    detail = admin_client.get(reverse("admin:heatmap_run_change", args=[run.pk])).content.decode()
    tasks_url = reverse("admin:heatmap_taskresult_changelist") + f"?run__id__exact={run.pk}"
    assert tasks_url.replace("&", "&amp;") in detail and "2 task results" in detail
    assert 'name="_save"' not in detail
    tasks = admin_client.get(tasks_url).content.decode()
    assert "wf-1" in tasks and "wf-2" in tasks
    task = run.tasks.get(scenario_id="wf-1")
    page = admin_client.get(reverse("admin:heatmap_taskresult_change", args=[task.pk]))
    html = page.content.decode()
    assert "WF-1" in html and "SKILL.md:3" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert 'name="_save"' not in html


@pytest.mark.parametrize("name", ["heatmap_run", "heatmap_taskresult"])
def test_nothing_can_be_added_or_deleted(admin_client, run, name):
    assert admin_client.get(reverse(f"admin:{name}_add")).status_code == 403
    obj = run if name == "heatmap_run" else run.tasks.first()
    assert admin_client.post(reverse(f"admin:{name}_delete", args=[obj.pk])).status_code == 403
    assert Run.objects.filter(pk=run.pk).exists() and run.tasks.count() == 2


def test_run_detail_lists_domains_as_text_not_json(admin_client, run):
    run.domains = ["job-market", "price-tracking"]
    run.save()
    detail = admin_client.get(reverse("admin:heatmap_run_change", args=[run.pk])).content.decode()
    assert "job-market, price-tracking" in detail
    assert "&quot;job-market&quot;" not in detail


def test_runs_show_and_filter_by_their_catalog(admin_client, run):
    other = catalog_for_path(root="/srv/apify-skills", loaded=False)
    Run.objects.create(run_id="adm-3", models=["heuristic"], catalog=other)
    url = reverse("admin:heatmap_run_changelist")
    listed = admin_client.get(url).content.decode()
    assert "apify-skills" in listed and "adm-3" in listed
    only = admin_client.get(url, {"catalog__id__exact": other.pk}).content.decode()
    assert "adm-3" in only and "adm-1" not in only


def test_a_catalogs_name_is_the_one_thing_the_admin_changes(admin_client, run):
    catalog = run.catalog
    other = catalog_for_path(root="/srv/apify-skills", loaded=False)
    listed = admin_client.get(reverse("admin:heatmap_catalog_changelist")).content.decode()
    assert catalog.name in listed and "apify-skills" in listed
    url = reverse("admin:heatmap_catalog_change", args=[catalog.pk])
    page = admin_client.get(url).content.decode()
    assert catalog.root_path in page and "2 runs" in page
    taken = admin_client.post(url, {"name": other.name})
    assert taken.status_code == 200 and "already exists" in taken.content.decode()
    renamed = admin_client.post(url, {"name": "bundled", "root_path": "/elsewhere"})
    assert renamed.status_code == 302
    catalog.refresh_from_db()
    assert (catalog.name, catalog.root_path) == ("bundled", str(catalog.root_path))
    assert catalog.root_path != "/elsewhere"
    assert admin_client.get(reverse("admin:heatmap_catalog_add")).status_code == 403


def test_the_admin_shows_who_started_a_run(admin_client, run, django_user_model):
    """Issue 21: team permissions hang on the run's owner, so the admin shows it."""
    alice = django_user_model.objects.create_user("alice", password="x")
    Run.objects.filter(pk=run.pk).update(started_by=alice)
    page = admin_client.get(reverse("admin:heatmap_run_changelist")).content.decode()
    assert "started by" in page.lower() and ">alice<" in page
    page = admin_client.get(reverse("admin:heatmap_run_change", args=[run.pk])).content.decode()
    assert "alice" in page
    filtered = admin_client.get(
        reverse("admin:heatmap_run_changelist"), {"started_by__id__exact": alice.pk}
    ).content.decode()
    assert "adm-1" in filtered and "adm-2" not in filtered
