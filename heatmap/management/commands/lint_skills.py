"""``manage.py lint_skills``: the static BP checks of every skill as a matrix in the terminal."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import CommandError, CommandParser

from heatmap import selectors
from heatmap.management.commands._pipes import QuietBrokenPipe, raw_stream
from skillcheck.catalog import CatalogError
from skillcheck.linter import SkillLint, lint_columns
from skillcheck.vocabulary import Result

MARKS = {Result.PASS: "✓ ok", Result.FAIL: "✗ FAIL"}
FAILED_HEADER = "failed checks"


def _failed(lint: SkillLint, columns: tuple[str, ...]) -> int:
    """How many of the columns' checks the skill fails (a count of checks, not of findings)."""
    return sum(lint.result(c) == Result.FAIL for c in columns)


class Command(QuietBrokenPipe):
    help = "Run the static best-practice (BP) checks and frontmatter validation on every skill."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--catalog", type=Path, help="catalog folder (default: settings.SKILLCHECK_CATALOG)"
        )
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
        parser.add_argument("--details", action="store_true", help="list every finding")

    def handle(self, *args, **options) -> None:
        try:
            catalog = selectors.catalog_load(path=options["catalog"])
        except CatalogError as exc:
            raise CommandError(f"catalog unusable: {exc}", returncode=2) from None
        lints = selectors.lint_matrix(catalog=catalog)
        columns = lint_columns(catalog.taxonomy)
        if options["json"]:
            payload = {
                "catalog": str(catalog.root),
                "columns": list(columns),
                "skills": [lint.to_dict() for lint in lints.values()],
                "warnings": catalog.warnings,
            }
            self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        if self.stdout.isatty():
            self.print_rich(lints, columns)
        else:
            self.print_plain(lints, columns)
        total = sum(len(lint.findings) for lint in lints.values())
        self.stdout.write(f"\n{len(lints)} skills, {total} findings")
        # Not a finding of any skill: scenarios the catalog skipped (their skill is missing).
        for warning in catalog.warnings:
            self.stderr.write(f"warning: {warning}", self.style.WARNING)
        if options["details"]:
            self.stdout.write("")
            width = max((len(name) for name in lints), default=0)
            for name, lint in lints.items():
                for f in lint.findings:
                    where = f"{f.file}:{f.line}"
                    self.stdout.write(f"{name:<{width}}  {f.check_id:<5} {where}  {f.detail}")

    def print_plain(self, lints: dict[str, SkillLint], columns: tuple[str, ...]) -> None:
        width = max([len("skill"), *(len(name) for name in lints)])
        cell = max(len(mark) for mark in MARKS.values())
        header = " ".join(f"{c:<{cell}}" for c in columns)
        self.stdout.write(f"{'skill':<{width}}  {header} {FAILED_HEADER}")
        for name, lint in lints.items():
            marks = " ".join(f"{MARKS[lint.result(c)]:<{cell}}" for c in columns)
            self.stdout.write(
                f"{name:<{width}}  {marks} {_failed(lint, columns):>{len(FAILED_HEADER)}}"
            )

    def print_rich(self, lints: dict[str, SkillLint], columns: tuple[str, ...]) -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="Static best-practice checks")
        table.add_column("skill", no_wrap=True)
        for column in columns:
            table.add_column(column, justify="center")
        table.add_column(FAILED_HEADER, justify="right")
        for name, lint in lints.items():
            cells = [
                f"[green]{MARKS[Result.PASS]}[/]"
                if lint.result(c) == Result.PASS
                else f"[red]{MARKS[Result.FAIL]}[/]"
                for c in columns
            ]
            table.add_row(name, *cells, str(_failed(lint, columns)))
        console = Console(file=raw_stream(self.stdout))
        longest = max((len(name) for name in lints), default=5)
        console.width = max(console.width, longest + 4 + len(columns) * 9 + len(FAILED_HEADER) + 3)
        console.print(table)
