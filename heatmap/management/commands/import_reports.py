"""``manage.py import_reports [paths]``: put existing JSON reports in the database, idempotently."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from heatmap.management.commands._pipes import QuietBrokenPipe
from heatmap.services import imports, reports
from skillcheck.reports import REPORT_GLOB


class Command(QuietBrokenPipe):
    help = (
        "Import scored JSON reports (old scored_<timestamp>.json and scored_run_<id>.json) "
        "into the database. Importing a report again adds nothing. Default: every report in "
        "SKILLCHECK_REPORTS_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="report files or folders holding them")

    def handle(self, *args, **options):
        paths: list[Path] = []
        for raw in options["paths"] or [str(reports.default_reports_dir())]:
            path = Path(raw)
            if path.is_dir():
                paths.extend(sorted(path.glob(REPORT_GLOB)))
            elif path.is_file():
                paths.append(path)
            else:
                raise CommandError(f"no such report file or folder: {path}")
        outcomes, problems = imports.reports_import(paths=paths)
        for outcome in outcomes:
            line = (
                f"{outcome.path.name}: run {outcome.run.run_id}: {outcome.created} imported, "
                f"{outcome.skipped} already there"
            )
            if outcome.report_rewritten:
                line += " (JSON rewritten from the database, which held more)"
            self.stdout.write(line)
        for problem in problems:
            self.stderr.write(f"skipped: {problem}")
        self.stdout.write(
            f"{len(outcomes)} report(s) imported, {len(problems)} skipped, "
            f"{sum(o.created for o in outcomes)} task result(s) added"
        )
