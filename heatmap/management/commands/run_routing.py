"""``manage.py run_routing``: which skill each model picks for each case, out of the whole
catalog; per-skill precision, recall and F1, and gates for CI."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from heatmap.management.commands._cancel_signals import cancel_on_signals
from heatmap.management.commands._pipes import QuietBrokenPipe, raw_stream
from heatmap.models import RoutingRun
from heatmap.selectors.routing import (
    DEFAULT_RUNS,
    LEXICAL,
    RoutingComparison,
    RoutingProgress,
    RoutingReport,
    mean_f1,
    routing_comparison,
    routing_run_get,
    routing_run_previous,
)
from heatmap.services.plans import RunRequestError
from heatmap.services.routing_execution import DEFAULT_ROUTING_CONCURRENCY, routing_run_execute
from heatmap.services.routing_resume import routing_run_resume
from heatmap.services.routing_start import routing_run_create

PREVIOUS = "previous"
# The documented exit codes (skillcheck.gates.ExitCode).
EXIT_GATE_FAILED = 1
EXIT_INVALID = 2
EXIT_RUN_INCOMPLETE = 3
EXIT_CANCELLED = 130


def _names(value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]


class Command(QuietBrokenPipe):
    help = (
        "Route every case of the catalog (each scenario, expecting its specialist, and each "
        "routing: prompt) with each model, K times, and report per-skill precision, recall "
        "and F1 (majority pick of the K), the confusion matrix and the stolen-by lists. "
        "Exit codes: 0 ok, 1 a gate failed, 2 bad request, 3 run incomplete, 130 cancelled."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--models",
            help=f"comma-separated routers: {LEXICAL} (offline BM25 baseline) or Claude model "
            f"aliases, API only (default: {LEXICAL})",
        )
        parser.add_argument(
            "--runs", type=int, default=DEFAULT_RUNS, help="samples per case and model (K)"
        )
        parser.add_argument("--catalog", help="catalog folder (default: SKILLCHECK_CATALOG)")
        parser.add_argument("--reports-dir", help="where routing_run_{id}.json goes")
        parser.add_argument("--run-id", help="the new run's id (default: generated)")
        parser.add_argument(
            "--resume",
            metavar="RUN_ID",
            help="ask what a stopped (interrupted, cancelled, failed) run lacks, and its "
            "errored samples again",
        )
        parser.add_argument(
            "--batch",
            action="store_true",
            help="send the calls through Message Batches (half price, results within hours; "
            "Claude models on the API only)",
        )
        parser.add_argument(
            "--no-cache", action="store_true", help="ask every case even when a pick is stored"
        )
        parser.add_argument(
            "--concurrency", type=int, default=DEFAULT_ROUTING_CONCURRENCY, help="calls at once"
        )
        parser.add_argument(
            "--estimate", action="store_true", help="print the cost estimate and stop"
        )
        parser.add_argument(
            "--fail-under",
            type=float,
            metavar="F1",
            help="exit 1 when any model's mean per-skill F1 is under F1 (0 to 1)",
        )
        parser.add_argument(
            "--fail-on-regression",
            nargs="?",
            const=PREVIOUS,
            metavar="BASE",
            help="exit 1 when a case that routing run BASE (default: the previous completed "
            "run of this catalog) routed right is routed wrong now",
        )
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["fail_under"] is not None and not 0 <= options["fail_under"] <= 1:
            raise CommandError("--fail-under is an F1 between 0 and 1", returncode=EXIT_INVALID)
        try:
            run = self.run_of(options)
            if options["estimate"]:
                self.print_estimate(run.estimate, as_json=options["json"])
                run.delete()
                return
            progress = None if options["json"] else self.progress
            cancel, abort = threading.Event(), threading.Event()
            try:
                with cancel_on_signals(cancel, abort, self.stderr.write):
                    report = routing_run_execute(
                        run=run,
                        concurrency=options["concurrency"],
                        on_progress=progress,
                        cancel_event=cancel,
                        abort_event=abort,
                    )
                cancelled = report.status == RoutingRun.Status.CANCELLED
            except KeyboardInterrupt:  # off the main thread, where no handler is installed
                cancelled = True
            if cancelled:
                self.stderr.write(f"cancelled; finish it with --resume {run.run_id}")
                raise SystemExit(EXIT_CANCELLED)
        except RunRequestError as exc:
            raise CommandError(str(exc), returncode=EXIT_INVALID) from None
        if report.status != RoutingRun.Status.COMPLETED:
            self.stderr.write(f"run {run.run_id} {report.status}; --resume {run.run_id}")
            raise SystemExit(EXIT_RUN_INCOMPLETE)
        saved = report.to_dict()
        comparison = self.comparison(run, report, options["fail_on_regression"])
        if options["json"]:
            if comparison is not None:
                saved["comparison"] = comparison.to_dict()
            self.stdout.write(json.dumps(saved, indent=1, ensure_ascii=False))
        else:
            self.print_report(report, saved["metrics"], run)
            if comparison is not None:
                self.print_regressions(comparison)
        failed = False
        if options["fail_under"] is not None:
            for model, metrics in saved["metrics"].items():
                score = mean_f1(metrics)
                if score is None or score < options["fail_under"]:
                    self.stderr.write(f"gate: {model} mean F1 {score} < {options['fail_under']}")
                    failed = True
        if comparison is not None and comparison.regressions:
            self.stderr.write(
                f"gate: {len(comparison.regressions)} case(s) routed right in "
                f"{comparison.base} are routed wrong now"
            )
            failed = True
        if failed:
            raise SystemExit(EXIT_GATE_FAILED)

    def run_of(self, options: dict[str, Any]) -> RoutingRun:
        if options["resume"]:
            return routing_run_resume(run_id=options["resume"])
        return routing_run_create(
            batch=options["batch"],
            models=_names(options["models"]) or [LEXICAL],
            runs=options["runs"],
            catalog_path=options["catalog"],
            run_id=options["run_id"],
            reports_dir=options["reports_dir"],
            use_cache=not options["no_cache"],
        )

    def comparison(
        self, run: RoutingRun, report: RoutingReport, base_id: str | None
    ) -> RoutingComparison | None:
        if base_id is None:
            return None
        base = routing_run_previous(run) if base_id == PREVIOUS else routing_run_get(base_id)
        if base is None:
            if base_id == PREVIOUS:
                self.stderr.write(
                    "gate: no earlier completed routing run of these models to compare with"
                )
                return None
            raise CommandError(f"no routing run {base_id!r}", returncode=EXIT_INVALID)
        try:
            return routing_comparison(base=base, new=report)
        except ValueError as exc:
            raise CommandError(str(exc), returncode=EXIT_INVALID) from None

    def progress(self, step: RoutingProgress) -> None:
        if step.done == step.total or step.done % 20 == 0:
            sys.stderr.write(f"\r{step.done}/{step.total} calls")
            if step.done == step.total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    def print_estimate(self, estimate: dict[str, dict[str, Any]], *, as_json: bool) -> None:
        """The dry run: calls and cost per model, nothing asked (the run is not kept)."""
        if as_json:
            self.stdout.write(json.dumps(estimate, indent=2))
            return
        for model, e in estimate.items():
            reused = e["cached_cases"]
            cached = f", {reused} case(s) from the pick cache" if reused else ""
            price = f"~${e['usd']:.4f}"
            if e["usd"] != e["usd_uncached"]:
                price += f" (${e['usd_uncached']:.4f} without prompt caching)"
            rate = " at the batch rate" if e.get("batch") else ""
            self.stdout.write(f"{model}: {e['calls']} call(s){cached}, {price}{rate}")
        total = sum(e["usd"] for e in estimate.values())
        self.stdout.write(f"total ~${total:.4f}; nothing was asked (--estimate)")

    def print_regressions(self, comparison: RoutingComparison) -> None:
        """The regression gate's findings, as ``compare_routing`` prints them."""
        self.stdout.write(
            f"compared with routing run {comparison.base}: {len(comparison.regressions)} "
            f"case(s) routed right there and wrong now, {len(comparison.improvements)} the "
            "other way"
        )
        for model, case_id, expected, before, after in comparison.regressions:
            self.stdout.write(f"Lost: {model} {case_id} (expects {expected}): {before} → {after}")

    def print_report(self, report: RoutingReport, metrics: dict, run: RoutingRun) -> None:
        console = Console(file=raw_stream(self.stdout), width=140, highlight=False)
        console.print(f"routing run {run.run_id}: {len(report.cases)} case rows, K={report.runs}")
        for model, m in metrics.items():
            table = Table(title=f"{model}: routed right {m['routed_right']}, mean F1 "
                          f"{mean_f1(m)}, none accuracy {m['none_accuracy']}, errored cases "
                          f"{m['errored_cases']}")  # fmt: skip
            for column in ("skill", "TP", "FP", "FN", "precision", "recall", "F1", "F1 95% CI"):
                table.add_column(column)
            for skill, s in m["skills"].items():
                ci = s["ci"]["f1"]
                table.add_row(
                    skill, str(s["tp"]), str(s["fp"]), str(s["fn"]), str(s["precision"]),
                    str(s["recall"]), str(s["f1"]), f"{ci[0]}–{ci[1]}" if ci else "",
                )  # fmt: skip
            console.print(table)
        console.print(f"report: {run.report_path}")
