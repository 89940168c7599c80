"""``manage.py import_reports [paths]``: put existing JSON reports in the database, idempotently."""

from __future__ import annotations

from django.core.management.base import CommandError

from heatmap.management.commands._pipes import QuietBrokenPipe
from heatmap.services import imports


class Command(QuietBrokenPipe):
    help = (
        "Import scored JSON reports (old scored_<timestamp>.json and scored_run_<id>.json) "
        "into the database. Importing a report again adds nothing; a report claiming the id of "
        "a run that exists with other results becomes a new run <id>-import-N, and the "
        "existing run is never changed. A file with an invalid field is refused with the "
        "reason, the others are imported, and the exit status is 1. Imported results never "
        "answer a later run through the response cache unless --trust. Default: every report "
        "in SKILLCHECK_REPORTS_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="report files or folders holding them")
        parser.add_argument(
            "--trust",
            action="store_true",
            help="let the response cache reuse these results in later runs (by default an "
            "imported report never answers a run: it can claim anything); in team mode "
            "only with --user naming a staff account",
        )
        parser.add_argument(
            "--user",
            help="the account the imported runs are recorded as started by",
        )

    def handle(self, *args, **options):
        try:
            user = imports.import_user(username=options["user"], trusted=options["trust"])
            paths = imports.report_files(paths=options["paths"])
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        outcomes, problems = imports.reports_import(
            paths=paths, trusted=options["trust"], user=user
        )
        for outcome in outcomes:
            self.stdout.write(self._describe(outcome))
        for problem in problems:
            self.stderr.write(f"refused: {problem}")
        self.stdout.write(
            f"{len(outcomes)} report(s) imported, {len(problems)} refused, "
            f"{sum(o.created for o in outcomes)} task result(s) added"
        )
        if problems:
            raise CommandError(f"{len(problems)} report(s) could not be imported (see above)")

    def _describe(self, outcome: imports.ImportOutcome) -> str:
        run = outcome.run
        line = f"{outcome.path.name}: run {run.run_id}"
        if outcome.claimed_run_id:
            line = (
                f"{outcome.path.name}: run {outcome.claimed_run_id} exists with other results, "
                f"so this report is the new run {run.run_id}"
            )
        line += f": {outcome.created} imported, {outcome.skipped} already there"
        if outcome.report_written:
            line += f"; report {run.report_path}"
            if outcome.skipped:
                line += " (rewritten from the database, which held more)"
        return line
