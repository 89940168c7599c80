"""Read-only admin for runs: list, filter by status, model and catalog, drill down to tasks
and checks; catalogs with their runs, where only a catalog's name can be changed.

Results are records of what happened, so nothing here adds, edits or deletes them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from heatmap.models import Catalog, CheckResult, Run, ScenarioEdit, SkillSnapshot, TaskResult
from heatmap.services.catalogs import catalog_name_check
from heatmap.services.plans import RunRequestError


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ModelFilter(admin.SimpleListFilter):
    """Runs that used a model (``models`` is a JSON list; SQLite cannot query inside it)."""

    title = "model"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        names = sorted(
            {m for models in Run.objects.values_list("models", flat=True) for m in models}
        )
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        wanted = [
            pk for pk, models in queryset.values_list("pk", "models") if self.value() in models
        ]
        return queryset.filter(pk__in=wanted)


class CatalogForm(forms.ModelForm):
    class Meta:
        model = Catalog
        fields = ["name"]

    def clean_name(self) -> str:
        try:
            return catalog_name_check(self.cleaned_data["name"])
        except RunRequestError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(Catalog)
class CatalogAdmin(admin.ModelAdmin):
    """Catalogs are registered by runs; a name can be changed here (it is in ``?catalog=``
    links, so an old link then finds nothing)."""

    form = CatalogForm
    list_display = ["name", "root_path", "imported", "fingerprint", "loaded_at", "run_count"]
    list_filter = ["imported"]
    search_fields = ["name", "root_path"]
    readonly_fields = [
        "root_path",
        "imported",
        "fingerprint",
        "loaded_at",
        "created_at",
        "runs_link",
    ]
    fields = ["name", *readonly_fields]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_runs=Count("runs"))

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="runs", ordering="n_runs")
    def run_count(self, catalog: Catalog) -> int:
        return catalog.n_runs  # type: ignore[attr-defined]

    @admin.display(description="runs")
    def runs_link(self, catalog: Catalog) -> str:
        url = reverse("admin:heatmap_run_changelist") + f"?catalog__id__exact={catalog.pk}"
        return format_html('<a href="{}">{} runs</a>', url, catalog.runs.count())


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = [
        "run_id",
        "catalog",
        "shown_status",
        "started_by",
        "model_list",
        "progress",
        "started_at",
        "shown_duration",
        "tokens",
        "cost",
    ]
    list_filter = ["status", ModelFilter, "catalog", "started_by"]
    list_select_related = ["catalog", "started_by"]
    search_fields = ["run_id", "started_by__username"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "run_id",
        "catalog",
        "shown_status",
        "started_by",
        "model_list",
        "domain_list",
        "concurrency",
        "progress",
        "tasks_link",
        "tokens",
        "cost",
        "created_at",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "owner",
        "shown_duration",
        "report_path",
        "catalog_path",
        "catalog_fingerprint",
        "cache_source",
        "error",
        "cancel_requested",
    )

    @admin.display(description="status", ordering="status")
    def shown_status(self, run: Run) -> str:
        return run.display_status

    @admin.display(description="owner (executing process)")
    def owner(self, run: Run) -> str:
        return f"{run.owner_host} pid {run.owner_pid}" if run.owner_pid else "—"

    @admin.display(description="models")
    def model_list(self, run: Run) -> str:
        return ", ".join(run.models)

    @admin.display(description="domains")
    def domain_list(self, run: Run) -> str:
        return ", ".join(run.domains) or "—"

    @admin.display(description="progress")
    def progress(self, run: Run) -> str:
        text = f"{run.completed}/{run.total}"
        return text + (f" ({run.failed} failed)" if run.failed else "")

    @admin.display(description="duration")
    def shown_duration(self, run: Run) -> str:
        duration = run.duration
        if duration is None:
            return "—"
        seconds = int(duration.total_seconds())
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    @admin.display(description="tokens in/out")
    def tokens(self, run: Run) -> str:
        return f"{run.input_tokens:,} / {run.output_tokens:,}"

    @admin.display(description="cost", ordering="cost_usd")
    def cost(self, run: Run) -> str:
        return f"${run.cost_usd:.4f}"

    @admin.display(description="tasks")
    def tasks_link(self, run: Run) -> str:
        url = reverse("admin:heatmap_taskresult_changelist") + f"?run__id__exact={run.pk}"
        return format_html('<a href="{}">{} task results</a>', url, run.tasks.count())


class CheckResultInline(admin.TabularInline):
    model = CheckResult
    fields = readonly_fields = ("check_id", "result", "evidence", "summary")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TaskResult)
class TaskResultAdmin(ReadOnlyAdmin):
    list_display = [
        "scenario_id",
        "skill",
        "model",
        "domain",
        "risk_level",
        "ok",
        "duration_s",
        "cost_usd",
        "run",
    ]
    list_filter = ["model", "risk_level", "domain", "run"]
    search_fields = ["scenario_id", "skill", "run__run_id"]
    list_select_related = ["run"]
    fields = readonly_fields = (
        "run",
        "scenario_id",
        "domain",
        "skill",
        "model",
        "risk_level",
        "duration_s",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "finished_at",
        "error",
        "markdown_response",
    )
    inlines = [CheckResultInline]

    @admin.display(boolean=True, description="ok")
    def ok(self, task: TaskResult) -> bool:
        return not task.error


@admin.register(ScenarioEdit)
class ScenarioEditAdmin(ReadOnlyAdmin):
    """The scenario editor's log: who changed which file of which catalog, and when."""

    list_display = ("created_at", "catalog", "file", "action", "username", "pairs")
    list_filter = ("action", "catalog")
    search_fields = ("file", "username")
    date_hierarchy = "created_at"


@admin.register(SkillSnapshot)
class SkillSnapshotAdmin(ReadOnlyAdmin):
    """The kept versions of skills' files (what the compare page diffs), by fingerprint."""

    list_display = ("fingerprint", "created_at", "file_names")
    search_fields = ("fingerprint",)
    date_hierarchy = "created_at"

    @admin.display(description="files")
    def file_names(self, obj: SkillSnapshot) -> str:
        return ", ".join(f.get("path", "") for f in obj.files)
