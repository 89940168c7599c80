from __future__ import annotations

from django.urls import path

from heatmap import converters  # noqa: F401  (registers the <run_id:…> converter)
from heatmap.views import checks as check_views
from heatmap.views import compare as compare_views
from heatmap.views import heatmap as heatmap_views
from heatmap.views import routing as routing_views
from heatmap.views import runs as run_views
from heatmap.views import scenarios as scenario_views
from heatmap.views import skill_files as skill_file_views
from heatmap.views import skills as skill_views

app_name = "heatmap"

urlpatterns = [
    path("", heatmap_views.index, name="index"),
    path("heatmap/", heatmap_views.overview, name="overview"),
    # Every path under heatmap/ is a domain's: any domain id ("skill", "rerun-stale") opens it.
    path("skills/<str:name>/", skill_views.skill_view, name="skill"),
    path(
        "skills/<str:name>/files/<path:path>",
        skill_file_views.skill_file_view,
        name="skill-file",
    ),
    path("checks/", skill_views.checks_file, name="checks-file"),
    path("checks/quality/", check_views.check_quality, name="check-quality"),
    path("heatmap/<str:domain_id>/", heatmap_views.domain_view, name="domain"),
    path("heatmap/<str:domain_id>/bp/", heatmap_views.bp_matrix, name="bp-matrix"),
    path("heatmap/<str:domain_id>/bp/cell/", heatmap_views.bp_finding, name="bp-finding"),
    path("heatmap/<str:domain_id>/cell/", heatmap_views.cell_detail, name="cell-detail"),
    path(
        "notices/catalog/dismiss/",
        heatmap_views.catalog_notice_dismiss,
        name="catalog-notice-dismiss",
    ),
    path("runs/", run_views.run_list, name="runs"),
    # The scenario editor; "new" and "templates" are reserved: no scenario file has them.
    path("scenarios/", scenario_views.scenario_list, name="scenarios"),
    path("scenarios/new/", scenario_views.scenario_new, name="scenario-new"),
    path("scenarios/<str:domain>/", scenario_views.scenario_edit, name="scenario-edit"),
    path("scenarios/<str:domain>/check/", scenario_views.scenario_check, name="scenario-check"),
    path(
        "scenarios/<str:domain>/delete/",
        scenario_views.scenario_delete_view,
        name="scenario-delete",
    ),
    path("routing/", routing_views.routing, name="routing"),
    path("routing/run/", routing_views.routing_start, name="routing-start"),
    path("routing/run/plan/", routing_views.routing_plan, name="routing-plan"),
    path(
        "routing/run/<run_id:run_id>/cancel/",
        routing_views.routing_cancel,
        name="routing-cancel",
    ),
    path(
        "routing/run/<run_id:run_id>/resume/",
        routing_views.routing_resume,
        name="routing-resume",
    ),
    # Every path under runs/ is a run's: any valid run id ("plan", "start") opens its run.
    path("run-controls/plan/", run_views.run_plan, name="run-plan"),
    path("run-controls/start/", run_views.run_start_view, name="run-start"),
    path("run-controls/rerun-stale/", run_views.rerun_stale_view, name="rerun-stale"),
    path("runs/<run_id:run_id>/", run_views.run_progress, name="run-progress"),
    path("runs/<run_id:run_id>/cancel/", run_views.run_cancel_view, name="run-cancel"),
    path("runs/<run_id:run_id>/resume/", run_views.run_resume_view, name="run-resume"),
    path(
        "runs/<run_id:run_id>/retry-errors/",
        run_views.run_retry_errors_view,
        name="run-retry-errors",
    ),
    path(
        "runs/<run_id:run_id>/compare/<run_id:base_id>/",
        compare_views.run_compare,
        name="run-compare",
    ),
    path("runs/<run_id:run_id>/report.json", run_views.run_report, name="run-report"),
    path("runs/<run_id:run_id>/summary.md", run_views.run_report_markdown, name="run-markdown"),
    # The JSON API is heatmap/openapi.py's, under /api/ (simsite/urls.py).
]
