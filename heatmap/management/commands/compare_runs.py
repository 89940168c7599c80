"""``manage.py compare_runs BASE NEW``: the checks that flipped between two runs, for CI too."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from heatmap import exports, selectors
from heatmap.management.commands._pipes import QuietBrokenPipe, raw_stream
from heatmap.selectors import Comparison, Flip
from skillcheck.gates import ExitCode
from skillcheck.junit import write_junit

EXIT_REGRESSION = ExitCode.GATE_FAILED
EXIT_INVALID = ExitCode.INVALID
SECTIONS = (
    ("regression", "Regressions (a pass became fail or unclear)"),
    ("improvement", "Improvements (became pass)"),
    ("change", "Other changes"),
)


class Command(QuietBrokenPipe):
    help = (
        "Compare two runs check by check: regressions (a pass lost) first, then improvements "
        "and other changes, with counts. Only tasks in both runs are compared; the rest are "
        "listed as added or removed; runs of two catalogs are refused. With two or more "
        "samples per task on both sides, each skill and check is tested against noise. "
        "--fail-on-regression exits 1 on a significant regression (any lost pass with one "
        "sample on either side)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("base", help="the earlier run id")
        parser.add_argument("new", help="the later run id")
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
        parser.add_argument(
            "--fail-on-regression",
            action="store_true",
            help="exit with status 1 on a significant regression of a skill or a check (with "
            "one sample on either side: when any check went from pass to fail or unclear)",
        )
        parser.add_argument(
            "--fail-on-any-flip",
            action="store_true",
            help="with --fail-on-regression: fail on any regression flip, significant or not",
        )
        parser.add_argument(
            "--junit-xml",
            metavar="PATH",
            help="write JUnit XML: each check of the new run's tasks, failing where it regressed",
        )
        parser.add_argument(
            "--markdown",
            metavar="PATH",
            help="write a Markdown summary with the per-skill changes",
        )

    def handle(self, *args, **options) -> None:
        runs = {}
        for which in ("base", "new"):
            run = selectors.run_get(run_id=options[which])
            if run is None:
                raise CommandError(f"no run {options[which]!r}", returncode=EXIT_INVALID)
            runs[which] = run
        try:
            catalog = selectors.catalog_scope(run=runs["new"]).load()
        except selectors.CatalogError:
            catalog = None  # severities are only for ordering and display
        try:
            comparison = selectors.run_comparison(
                base=runs["base"], new=runs["new"], catalog=catalog
            )
        except selectors.RunsOfDifferentCatalogs as exc:
            raise CommandError(str(exc), returncode=EXIT_INVALID) from None
        if options["json"]:
            self.stdout.write(json.dumps(comparison.to_dict(), indent=2))
        else:
            self.print_comparison(comparison)
        if options["junit_xml"]:
            document = exports.comparison_junit_document(comparison=comparison, new=runs["new"])
            write_junit(document, options["junit_xml"])
        if options["markdown"]:
            path = Path(options["markdown"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(exports.comparison_markdown_text(comparison=comparison), "utf-8")
        if options["fail_on_regression"]:
            failing = comparison.failing_regressions(any_flip=options["fail_on_any_flip"])
            if failing:
                self.stderr.write(f"{len(failing)} regression(s):")
                for name in failing[:20]:
                    self.stderr.write(f"  {name}")
                raise SystemExit(EXIT_REGRESSION)

    def print_comparison(self, comparison: Comparison) -> None:
        console = Console(file=raw_stream(self.stdout), width=160, highlight=False, soft_wrap=True)
        console.print(
            f"{comparison.base} → {comparison.new}: {comparison.compared} tasks compared; "
            f"{len(comparison.regressions)} regressions, {len(comparison.improvements)} "
            f"improvements, {len(comparison.changes)} other changes"
        )
        if comparison.skills:
            console.print(self.skill_table(comparison))
        if not comparison.knows_noise:
            console.print(
                "Unknown noise: one sample per task on "
                + ("both sides" if max(comparison.base_samples, comparison.new_samples) < 2
                   else "one side")
                + "; every flip is listed (run with --epochs 3 or more to tell change from noise)."
            )  # fmt: skip
        for kind, title in SECTIONS:
            flips = [f for f in comparison.flips if f.kind == kind]
            if flips:
                console.print(self.table(title, flips))
        for label, keys in (
            ("Only in the new run (added)", comparison.added),
            ("Only in the base run (removed)", comparison.removed),
            ("Not compared: a task failed in one of the runs", comparison.errored),
        ):
            if keys:
                console.print(f"{label}: {len(keys)}")
                for scenario_id, skill, model in keys:
                    console.print(f"  {scenario_id} × {skill} × {model}")

    @staticmethod
    def skill_table(comparison: Comparison) -> Table:
        """The summary that leads: per skill and model, changed significantly or not."""
        table = Table("skill", "model", "base pass %", "new pass %", "change (95 % CI)", "p", "")
        table.title = (
            f"Per skill ({comparison.base_samples} vs {comparison.new_samples} samples a task)"
        )
        for c in comparison.skills:
            ci = (
                ""
                if c.low is None or c.high is None
                else f" [{100 * c.low:+.1f}, {100 * c.high:+.1f}]"
            )
            table.add_row(
                c.skill,
                c.model,
                f"{100 * c.base_pass:.1f}",
                f"{100 * c.new_pass:.1f}",
                f"{100 * c.difference:+.1f}{ci}",
                "" if c.p is None else f"{c.p:.3g}",
                c.verdict,
            )
        return table

    @staticmethod
    def table(title: str, flips: list[Flip]) -> Table:
        table = Table("skill", "model", "scenario", "check", "severity", "before → after", "noise")
        table.title = f"{title}: {len(flips)}"
        for f in flips:
            noise = {None: "unknown", True: "significant", False: "within noise"}[f.significant]
            if f.q is not None:
                noise += f" (q={f.q:.2g})"
            table.add_row(
                f.skill,
                f.model,
                f.scenario_id,
                f.check_id,
                f.severity,
                f"{f.before} → {f.after}",
                noise,
            )
        return table
