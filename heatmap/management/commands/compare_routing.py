"""``manage.py compare_routing BASE NEW``: two routing runs of one catalog side by side."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from heatmap.management.commands._pipes import QuietBrokenPipe, raw_stream
from heatmap.selectors.routing import (
    RoutingComparison,
    routing_comparison,
    routing_report,
    routing_run_get,
)

EXIT_REGRESSION = 1
EXIT_INVALID = 2


class Command(QuietBrokenPipe):
    help = (
        "Compare two routing runs of one catalog: each skill's F1 per model, its change and "
        "whether it is significant (Fisher exact, Benjamini-Hochberg), and the cases routed "
        "right in BASE and wrong in NEW. --fail-on-regression exits 1 when there is one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("base", help="the earlier routing run id")
        parser.add_argument("new", help="the later routing run id")
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
        parser.add_argument(
            "--fail-on-regression",
            action="store_true",
            help="exit with status 1 when a case routed right in BASE is routed wrong in NEW",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        runs = {}
        for which in ("base", "new"):
            run = routing_run_get(options[which])
            if run is None:
                raise CommandError(f"no routing run {options[which]!r}", returncode=EXIT_INVALID)
            runs[which] = run
        try:
            comparison = routing_comparison(base=runs["base"], new=routing_report(runs["new"]))
        except ValueError as exc:
            raise CommandError(str(exc), returncode=EXIT_INVALID) from None
        if options["json"]:
            self.stdout.write(json.dumps(comparison.to_dict(), indent=2))
        else:
            self.print_comparison(comparison)
        if options["fail_on_regression"] and comparison.regressions:
            raise SystemExit(EXIT_REGRESSION)

    def print_comparison(self, comparison: RoutingComparison) -> None:
        console = Console(file=raw_stream(self.stdout), width=140, highlight=False)
        console.print(
            f"{comparison.base} → {comparison.new}: {len(comparison.regressions)} case(s) "
            f"routed right before and wrong now, {len(comparison.improvements)} the other way"
        )
        table = Table(title="F1 per skill")
        for column in ("model", "skill", "base", "new", "change", "q", "significant"):
            table.add_column(column)
        for c in comparison.changes:
            table.add_row(
                c.model, c.skill, str(c.f1_base), str(c.f1_new), str(c.delta),
                f"{c.q:.3f}", "yes" if c.significant else "no",
            )  # fmt: skip
        console.print(table)
        for title, items in (("Lost", comparison.regressions), ("Won", comparison.improvements)):
            for model, case_id, expected, before, after in items:
                console.print(
                    f"{title}: {model} {case_id} (expects {expected}): {before} → {after}"
                )
