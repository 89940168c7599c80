"""Run ids that break today's rule (``skillcheck.runids``), left by imports before it existed
(``../../x``, ``a/b``, a NUL), get a safe id, and their report is rebuilt in the reports folder.

The rule is repeated here, not imported, so this migration stays as it is if the rule moves.
"""

import re

from django.db import migrations

VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(run_id: str) -> str:
    cleaned = UNSAFE.sub("-", run_id).lstrip("._-")[:56].rstrip("._-")
    return cleaned or "run"


def rename_unsafe_run_ids(apps, schema_editor):
    Run = apps.get_model("heatmap", "Run")
    taken = set(Run.objects.values_list("run_id", flat=True))
    for pk, run_id in Run.objects.values_list("pk", "run_id"):
        if VALID.fullmatch(run_id):
            continue
        base = candidate = _safe(run_id)
        number = 1
        while candidate in taken:
            number += 1
            candidate = f"{base}-{number}"
        taken.add(candidate)
        # The old report path was built from the unsafe id: the download rebuilds the file.
        Run.objects.filter(pk=pk).update(run_id=candidate, report_path="")


class Migration(migrations.Migration):
    dependencies = [
        ("heatmap", "0006_run_status_queued"),
    ]

    operations = [
        migrations.RunPython(rename_unsafe_run_ids, migrations.RunPython.noop, elidable=True),
    ]
