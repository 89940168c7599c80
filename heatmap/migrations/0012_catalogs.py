"""Catalogs become records: every run (and its tasks) belongs to one.

Existing runs are grouped by their ``catalog_path``, one catalog per folder, named after the
folder. A run without one (an import of a report that did not say its catalog) goes to an
"imported" catalog named after its report's folder. The ranking index of the newest task per
key now leads with the catalog, so one catalog's newest tasks are one range of it.
"""

from pathlib import PurePath

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

IMPORTED_FALLBACK_NAME = "imported"


def _free_name(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``… when another catalog has it (a frozen copy of
    ``services.catalogs``'s rule: a migration must not change with the app's code)."""
    base = (wanted or "catalog")[:90]
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def assign_catalogs(apps, schema_editor):
    Catalog = apps.get_model("heatmap", "Catalog")
    Run = apps.get_model("heatmap", "Run")
    TaskResult = apps.get_model("heatmap", "TaskResult")
    taken: set[str] = set(Catalog.objects.values_list("name", flat=True))
    by_key: dict[tuple[str, str], object] = {}
    # Oldest first, so each catalog's fingerprint ends as its newest run's.
    runs = Run.objects.order_by("created_at", "pk").only(
        "pk", "catalog_path", "catalog_fingerprint", "report_path", "created_at"
    )
    for run in runs.iterator():
        if run.catalog_path:
            key = ("path", run.catalog_path)
        else:
            key = ("imported", PurePath(run.report_path).parent.name if run.report_path else "")
        catalog = by_key.get(key)
        if catalog is None:
            if key[0] == "path":
                catalog = Catalog.objects.create(
                    name=_free_name(PurePath(run.catalog_path).name, taken),
                    root_path=run.catalog_path,
                    created_at=run.created_at,
                )
            else:
                catalog = Catalog.objects.create(
                    name=_free_name(key[1] or IMPORTED_FALLBACK_NAME, taken),
                    imported=True,
                    created_at=run.created_at,
                )
            by_key[key] = catalog
        if run.catalog_fingerprint:
            catalog.fingerprint = run.catalog_fingerprint
        catalog.loaded_at = run.created_at
        catalog.save(update_fields=["fingerprint", "loaded_at"])
        Run.objects.filter(pk=run.pk).update(catalog=catalog)
    for catalog in by_key.values():
        TaskResult.objects.filter(run__catalog=catalog).update(catalog=catalog)


class Migration(migrations.Migration):

    dependencies = [
        ("heatmap", "0011_taskresult_errored"),
    ]

    operations = [
        migrations.CreateModel(
            name="Catalog",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, unique=True)),
                ("root_path", models.CharField(blank=True, max_length=1024)),
                ("fingerprint", models.CharField(blank=True, max_length=64)),
                ("loaded_at", models.DateTimeField(blank=True, null=True)),
                ("imported", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("root_path", ""), _negated=True),
                        fields=("root_path",),
                        name="unique_catalog_root_path",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="run",
            name="catalog",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="runs",
                to="heatmap.catalog",
            ),
        ),
        migrations.AddField(
            model_name="taskresult",
            name="catalog",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="heatmap.catalog",
            ),
        ),
        migrations.RunPython(assign_catalogs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="run",
            name="catalog",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="runs",
                to="heatmap.catalog",
            ),
        ),
        migrations.AlterField(
            model_name="taskresult",
            name="catalog",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="heatmap.catalog",
            ),
        ),
        migrations.RemoveIndex(
            model_name="taskresult",
            name="taskresult_newest_ok_first",
        ),
        migrations.AddIndex(
            model_name="taskresult",
            index=models.Index(
                fields=[
                    "catalog",
                    "scenario_id",
                    "skill",
                    "model",
                    "errored",
                    "-finished_at",
                    "-id",
                    "pass_count",
                    "fail_count",
                    "unclear_count",
                    "na_count",
                    "failed_checks",
                    "fingerprint",
                ],
                name="taskresult_catalog_newest",
            ),
        ),
    ]
