"""``manage.py run_scored``: one scored run over domains × models, live, resumable."""

from __future__ import annotations

import gc
import json
import threading
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import CommandError
from rich.console import Console

from heatmap import exports, selectors
from heatmap.management.commands._cancel_signals import cancel_on_signals
from heatmap.management.commands._pipes import QuietBrokenPipe, raw_stream
from heatmap.management.commands._progress import PlainProgress, RichProgress
from heatmap.management.commands._tables import catalog_lines, catalog_listing, result_tables
from heatmap.models import Run
from heatmap.selectors import GroupTotals
from heatmap.services import auditors as auditor_services
from heatmap.services import plans
from heatmap.services.execution import run_execute
from heatmap.services.liveness import run_mark_stale_interrupted
from heatmap.services.plans import (
    MAX_CONCURRENCY,
    MAX_EPOCHS,
    MIN_CONCURRENCY,
    RunPlan,
    RunRequestError,
)
from heatmap.services.resume import run_resume
from heatmap.services.retry import run_retry_errors
from heatmap.services.start import run_create
from skillcheck.gates import ExitCode, fail_under_failed
from skillcheck.junit import write_junit

EXIT_INVALID = ExitCode.INVALID
BRIEF_WARNINGS = 3


def _repeated(values: list[str]) -> list[str]:
    """A repeatable option's values, each possibly comma-separated."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _names(value: str | None, option: str) -> list[str] | None:
    """``"a, b"`` -> ``["a", "b"]``; ``None`` when the option was not given (its default)."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise RunRequestError(f"--{option} needs at least one name, comma-separated")
    return items


class Command(QuietBrokenPipe):
    # The system checks read URL, template and admin configuration, none of which a run
    # uses (importing it all cost 0.05 s of every start); ``manage.py check`` runs them.
    requires_system_checks: list[str] = []
    help = (
        "Audit skills against scenarios with one or more models in one run. Every finished "
        "task is saved at once (database and reports/scored_run_<id>.json); Ctrl-C stops "
        "cleanly and --resume RUN_ID finishes the run later."
    )

    def add_arguments(self, parser):
        parser.add_argument("--domains", help="comma-separated domain ids (default: all)")
        parser.add_argument(
            "--models",
            help="comma-separated models (default: sonnet when Claude is available, else "
            "heuristic; see --list-models)",
        )
        parser.add_argument(
            "--concurrency",
            type=int,
            help=f"tasks at once, {MIN_CONCURRENCY}-{MAX_CONCURRENCY} "
            f"(default: {settings.SKILLCHECK_DEFAULT_CONCURRENCY})",
        )
        parser.add_argument(
            "--epochs",
            type=int,
            metavar="K",
            help=f"samples of each task, 1-{MAX_EPOCHS} (default: 1); each is its own call, "
            "and a cell's verdict is their majority (the heuristic auditor is sampled once)",
        )
        parser.add_argument(
            "--catalog",
            help="catalog folder (default: SKILLCHECK_CATALOG); registered on its first run",
        )
        parser.add_argument(
            "--catalog-name",
            help="the catalog's name in the app (?catalog=NAME); default: its folder's name "
            "on its first run, kept after; given later, renames it",
        )
        parser.add_argument(
            "--reports-dir",
            "-o",
            "--output",
            dest="reports_dir",
            help="where the JSON report goes (default: SKILLCHECK_REPORTS_DIR)",
        )
        parser.add_argument(
            "-s",
            "--scenario",
            action="append",
            default=[],
            metavar="ID",
            help="only this scenario (repeatable, or comma-separated)",
        )
        parser.add_argument(
            "--skill",
            action="append",
            default=[],
            metavar="NAME",
            help="only this skill (repeatable, or comma-separated)",
        )
        parser.add_argument(
            "--list",
            action="store_true",
            help="list the domains, their scenarios and target skills; run nothing",
        )
        parser.add_argument(
            "--junit-xml",
            metavar="PATH",
            help="write JUnit XML: a test case per scenario x skill x model x check",
        )
        parser.add_argument(
            "--markdown",
            metavar="PATH",
            help="write a Markdown summary (for a pull request or $GITHUB_STEP_SUMMARY)",
        )
        parser.add_argument(
            "--fail-under",
            type=float,
            metavar="PCT",
            help="exit 1 when the run's pass rate (n/a not counted) is under PCT percent",
        )
        parser.add_argument("--run-id", help="id for the new run (default: date, time, random)")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="show the tasks per model and a cost estimate; call nothing",
        )
        parser.add_argument(
            "--list-models", action="store_true", help="models, and why one cannot run here"
        )
        parser.add_argument(
            "--resume",
            metavar="RUN_ID",
            help="run the missing or failed tasks of a stopped run, with that run's settings",
        )
        parser.add_argument(
            "--retry-errors",
            metavar="RUN_ID",
            help="run only the failed tasks of a finished or stopped run again, into that run",
        )
        parser.add_argument(
            "--no-cache",
            action="store_true",
            help="call the model for every task, even when a stored successful result has the "
            "same fingerprint (default: reuse it, at no cost)",
        )
        parser.add_argument(
            "--batch",
            action="store_true",
            help="send the tasks through the Message Batches API: half price, results within "
            "hours (Anthropic API models only; SKILLCHECK_BATCH_SIZE tasks a batch)",
        )
        parser.add_argument(
            "--json", action="store_true", help="machine-readable output on stdout (logs: stderr)"
        )

    def handle(self, *args, **options):
        self.as_json = options["json"]
        self.outputs = {k: options[k] for k in ("junit_xml", "markdown", "fail_under")}
        self.catalog_warnings: list[str] = []
        self.catalog = None  # loaded once: create() plans with it, run_execute reuses it
        self.console = Console(
            file=self._stream(),
            width=None if self._tty() else 120,
            force_terminal=self._tty(),
        )
        try:
            if options["list_models"]:
                return self.list_models()
            if options["list"]:
                return self.list_catalog(options)
            run_mark_stale_interrupted()
            if options["resume"] and options["retry_errors"]:
                raise RunRequestError("choose --resume or --retry-errors, not both")
            if options["resume"] or options["retry_errors"]:
                run = self.resume(options)
            else:
                created = self.create(options)
                if created is None:  # a dry run
                    return None
                run = created
            return self.run_to_end(run)
        except RunRequestError as exc:
            raise CommandError(str(exc), returncode=EXIT_INVALID) from None
        finally:
            if getattr(self, "_called_from_command_line", False):
                # The run is saved and reported; what is left is the interpreter's teardown,
                # whose collections walk every object of the run (0.4 s after 1,000 tasks).
                # Frozen objects are skipped. Not in-process (tests, call_command).
                gc.freeze()

    # --- the steps --------------------------------------------------------------------------

    def _stream(self) -> TextIO:
        """The raw stream for human output: stderr under ``--json``, which owns stdout.

        Not Django's ``OutputWrapper``: it appends a newline to every write that lacks one,
        which turns each in-place redraw of the progress bar into a new line.
        """
        return raw_stream(self.stderr if self.as_json else self.stdout)

    def _tty(self) -> bool:
        return bool(getattr(self._stream(), "isatty", lambda: False)())

    def _say(self, text: str) -> None:
        self.console.print(text, highlight=False, soft_wrap=True)

    def list_models(self) -> None:
        from rich.table import Table

        rows = auditor_services.model_listing()
        if self.as_json:
            self.stdout.write(json.dumps(rows, indent=2))
            return
        table = Table("model", "id", "available", "via / reason", "isolation")
        for row in rows:
            iso = row["isolation"]
            table.add_row(
                row["name"],
                row["model_id"],
                "yes" if row["available"] else "no",
                ": ".join(part for part in (row["via"], row["reason"]) if part),
                "" if iso is None else iso["summary"],
            )
        self.console.print(table)

    def resume(self, options: dict[str, Any]) -> Run:
        settings_of_the_run = (
            "domains",
            "models",
            "concurrency",
            "epochs",
            "catalog",
            "catalog_name",
            "reports_dir",
        )
        extra = [
            f"--{name.replace('_', '-')}"
            for name in (*settings_of_the_run, "run_id")
            if options[name] is not None
        ] + [
            f"--{flag}"
            for flag in ("dry-run", "no-cache", "batch")
            if options[flag.replace("-", "_")]
        ]
        option = "--resume" if options["resume"] else "--retry-errors"
        if extra:
            raise RunRequestError(f"{option} uses the run's own settings; drop {', '.join(extra)}")
        if options["retry_errors"]:
            run = run_retry_errors(run_id=options["retry_errors"])
        else:
            run = run_resume(run_id=options["resume"])
        self.warn_about_catalog(run.catalog_warnings, every=False)
        for warning in run.resume_warnings:
            self._say(f"[yellow]warning:[/] {warning}")
        return run

    def warn_about_catalog(self, warnings: list[str], *, every: bool) -> None:
        """What the catalog skipped (scenarios whose skill is not in the manifest), on stderr.

        Under ``--json`` they are the output's ``warnings`` field instead. A run shows the
        first few, a dry run every one.
        """
        self.catalog_warnings = list(warnings)
        if self.as_json or not warnings:
            return
        shown = warnings if every else warnings[:BRIEF_WARNINGS]
        for warning in shown:
            self.stderr.write(f"warning: {warning}", self.style.WARNING)
        if len(shown) < len(warnings):
            more = len(warnings) - len(shown)
            self.stderr.write(
                f"warning: and {more} more from the catalog (--dry-run lists them all)",
                self.style.WARNING,
            )

    def create(self, options: dict[str, Any]) -> Run | None:
        catalog = self.catalog = plans.plan_catalog(path=options["catalog"])
        self.warn_about_catalog(catalog.warnings, every=options["dry_run"])
        auditors = auditor_services.auditor_registry()
        models = _names(options["models"], "models") or auditor_services.default_models(
            auditors=auditors
        )
        task_keys = plans.plan_task_keys(
            catalog=catalog,
            models=models,
            scenarios=_repeated(options["scenario"]),
            skills=_repeated(options["skill"]),
        )
        plan = plans.run_plan(
            catalog=catalog,
            domains=_names(options["domains"], "domains"),
            models=models,
            task_keys=task_keys,
            concurrency=(
                settings.SKILLCHECK_DEFAULT_CONCURRENCY
                if options["concurrency"] is None
                else options["concurrency"]
            ),
            auditors=auditors,
            require_available=not options["dry_run"],
            use_cache=options["dry_run"] and not options["no_cache"],
            batch=options["batch"],
            epochs=1 if options["epochs"] is None else options["epochs"],
        )
        if options["dry_run"]:
            self.dry_run(plan, catalog)
            return None
        return run_create(
            domains=plan.domains,
            models=plan.models,
            concurrency=plan.concurrency,
            catalog=catalog,
            run_id=options["run_id"],
            reports_dir=options["reports_dir"],
            auditors=auditors,
            use_cache=not options["no_cache"],
            batch=options["batch"],
            catalog_name=options["catalog_name"],
            task_keys=task_keys,
            epochs=plan.epochs,
        )

    def list_catalog(self, options: dict[str, Any]) -> None:
        """The original CLI's ``--list``: domains, their scenarios and target skills."""
        listing = catalog_listing(plans.plan_catalog(path=options["catalog"]))
        if self.as_json:
            self.stdout.write(json.dumps(listing, indent=2))
            return
        for line in catalog_lines(listing):
            self._say(line)

    def dry_run(self, plan: RunPlan, catalog) -> None:
        from rich.table import Table

        dry = plans.plan_dry_run(plan=plan, catalog=catalog)
        if self.as_json:
            self.stdout.write(json.dumps(dry.as_dict(warnings=self.catalog_warnings), indent=2))
            return
        self._say(f"{plan.describe()} (dry run: nothing is called)")
        if plan.batch:
            self._say("Batch mode: priced at half the API price; results within hours")
        if plan.cached:
            self._say(f"{plan.describe_cache(dry.total_usd)}: cached tasks cost $0")
        table = Table("model", "tasks", "cached", "estimated cost")
        cached = dry.cached_per_model
        for model, count in plan.per_model.items():
            cost = dry.cost_usd.get(model, 0.0)
            table.add_row(model, str(count), str(cached[model]), f"${cost:.2f}")
        table.add_row("total", str(plan.total), str(len(plan.cached)), f"${dry.total_usd:.2f}")
        self.console.print(table)
        if dry.caching_effect:
            self._say(
                f"Prompt caching is counted: it {dry.caching_effect} "
                f"(without it ${dry.uncached_usd:.2f})"
            )
        for model, reason in plan.unavailable.items():
            self._say(f"[yellow]note:[/] {model} is not available here: {reason}")

    def run_to_end(self, run: Run) -> None:
        remaining = selectors.run_tasks_to_do(run=run)
        self._say(
            f"Run {run.run_id}: {run.total} tasks (catalog {run.catalog.name}; "
            f"{', '.join(run.models)}; "
            f"{len(run.domains)} domain{'s' * (len(run.domains) != 1)}; "
            f"concurrency {run.concurrency}"
            + (f"; {run.epochs} samples each" if run.epochs > 1 else "")
            + ")"
            + (f", {remaining} to do" if remaining != run.total else "")
        )
        self._say(f"Report: {run.report_path}")
        display = (
            RichProgress(self.console, run.total, run.total - remaining)
            if self._tty()
            else PlainProgress(self._stream())
        )
        cancel, abort = threading.Event(), threading.Event()
        try:
            with cancel_on_signals(cancel, abort, self._say):
                run = run_execute(
                    run=run,
                    listeners=[display],
                    cancel_event=cancel,
                    abort_event=abort,
                    catalog=self.catalog,
                )
        finally:
            display.close()
        self.finish(run)

    def finish(self, run: Run) -> None:
        summary = selectors.run_summary(run=run)
        caching = summary.caching
        resume = summary.resume_command
        if self.as_json:
            self.stdout.write(json.dumps(summary.as_dict(warnings=self.catalog_warnings), indent=2))
        else:
            self.print_tables(summary.tables)
            self._say(
                f"Run {run.run_id} {run.status}: {run.completed}/{run.total} tasks, "
                f"{run.failed} failed, {run.cached} from the cache; "
                f"tokens {run.input_tokens:,} in / "
                f"{run.output_tokens:,} out; cost {summary.cost_text}"
                + (" at the batch price" if run.batch else "")
            )
            if caching["cache_hit_rate"] is not None and run.cache_read_tokens:
                self._say(
                    f"Prompt cache: {caching['cache_hit_rate']:.0%} of input tokens read from "
                    f"the cache; saved ${caching['cache_saved_usd']:.4f} by caching"
                )
            self._say(f"Report: {run.report_path}")
        if run.status == Run.Status.CANCELLED:
            self._say(f"Cancelled. To finish it: {resume}")
        self.write_outputs(run)
        if run.status == Run.Status.CANCELLED:
            raise SystemExit(ExitCode.CANCELLED)
        if run.status != Run.Status.COMPLETED:
            raise CommandError(
                f"run {run.run_id} {run.status}: {run.error}. Retry: {resume}",
                returncode=ExitCode.RUN_INCOMPLETE,
            )
        fail_under = self.outputs.get("fail_under")
        if fail_under is not None:
            pct = exports.run_pass_pct(run=run)
            if fail_under_failed(pct, fail_under):
                shown = "no scored checks" if pct is None else f"{pct:.1f} %"
                self.stderr.write(f"pass rate {shown} is under --fail-under {fail_under:g} %")
                raise SystemExit(ExitCode.GATE_FAILED)

    def write_outputs(self, run: Run) -> None:
        """The CI files asked for, whatever the run's status (a cancelled run's too)."""
        if self.outputs.get("junit_xml"):
            write_junit(exports.run_junit_document(run=run), self.outputs["junit_xml"])
        if self.outputs.get("markdown"):
            path = Path(self.outputs["markdown"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(exports.run_markdown_text(run=run), encoding="utf-8")

    def print_tables(self, tables: dict[str, list[GroupTotals]]) -> None:
        for table in result_tables(tables):
            self.console.print(table)
