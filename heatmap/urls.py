from __future__ import annotations

from django.urls import path

import heatmap.converters  # noqa: F401  (registers the <run_id:…> converter)
from heatmap import api, views

app_name = "heatmap"

urlpatterns = [
    path("", views.index, name="index"),
    path("heatmap/", views.overview, name="overview"),
    # Every path under heatmap/ is a domain's: any domain id ("skill", "rerun-stale") opens it.
    path("skills/<str:name>/", views.skill_view, name="skill"),
    path("checks/", views.checks_file, name="checks-file"),
    path("heatmap/<str:domain_id>/", views.domain_view, name="domain"),
    path("heatmap/<str:domain_id>/bp/", views.bp_matrix, name="bp-matrix"),
    path("heatmap/<str:domain_id>/bp/cell/", views.bp_finding, name="bp-finding"),
    path("heatmap/<str:domain_id>/cell/", views.cell_detail, name="cell-detail"),
    path("notices/catalog/dismiss/", views.catalog_notice_dismiss, name="catalog-notice-dismiss"),
    path("runs/", views.run_list, name="runs"),
    # Every path under runs/ is a run's: any valid run id ("plan", "start") opens its run.
    path("run-controls/plan/", views.run_plan, name="run-plan"),
    path("run-controls/start/", views.run_start_view, name="run-start"),
    path("run-controls/rerun-stale/", views.rerun_stale_view, name="rerun-stale"),
    path("runs/<run_id:run_id>/", views.run_progress, name="run-progress"),
    path("runs/<run_id:run_id>/cancel/", views.run_cancel_view, name="run-cancel"),
    path("runs/<run_id:run_id>/resume/", views.run_resume_view, name="run-resume"),
    path(
        "runs/<run_id:run_id>/retry-errors/",
        views.run_retry_errors_view,
        name="run-retry-errors",
    ),
    path(
        "runs/<run_id:run_id>/compare/<run_id:base_id>/",
        views.run_compare,
        name="run-compare",
    ),
    path("runs/<run_id:run_id>/report.json", views.run_report, name="run-report"),
    path("api/heatmap/run", api.run_create_view, name="api-run"),
    path("api/heatmap/run/<run_id:run_id>", api.run_status, name="api-run-status"),
    path("api/heatmap/run/<run_id:run_id>/cancel", api.run_cancel_view, name="api-run-cancel"),
    path("api/heatmap/compare", api.run_compare, name="api-compare"),
    path("api/heatmap/domains", api.domain_list, name="api-domains"),
    path("api/heatmap/skills", api.skill_list, name="api-skills"),
    path("api/heatmap/domain/<str:domain_id>", api.domain_detail, name="api-domain"),
    path("api/heatmap/models", api.model_list, name="api-models"),
]
