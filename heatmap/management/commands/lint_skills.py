"""``manage.py lint_skills`` (``skillcheck lint``): the static BP checks of skills.

A matrix in the terminal, JSON, or SARIF for code scanning; ``PATH…`` lints the skills at
those paths (SKILL.md files or folders: what pre-commit passes) instead of a catalog.
``--fail-on`` is the gate: exit 1 when a finding is at least that severe (gates.ExitCode).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import CommandError, CommandParser

from heatmap import selectors
from heatmap.management.commands._pipes import QuietBrokenPipe, raw_stream
from heatmap.selectors.lint import ExitCode, LintTable, Severity

MARKS = {True: "✓ ok", False: "✗ FAIL"}  # passed?
FAILED_HEADER = "failed checks"


FAIL_ON = {"never": None, **{s.value.lower(): s for s in Severity}}


def repository_root(start: Path) -> Path:
    """The git work tree holding ``start`` (where code scanning resolves paths), else itself."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


class Command(QuietBrokenPipe):
    help = "Run the static best-practice (BP) checks and frontmatter validation on every skill."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths",
            nargs="*",
            type=Path,
            help="SKILL.md files or folders of skills to lint (default: the whole catalog)",
        )
        parser.add_argument(
            "--catalog", type=Path, help="catalog folder (default: settings.SKILLCHECK_CATALOG)"
        )
        parser.add_argument(
            "--format",
            choices=("table", "json", "sarif"),
            default="table",
            help="table (default), json, or sarif (SARIF 2.1.0, for code scanning)",
        )
        parser.add_argument("--json", action="store_true", help="the same as --format json")
        parser.add_argument("-o", "--output", type=Path, help="write to this file, not stdout")
        parser.add_argument("--details", action="store_true", help="list every finding")
        parser.add_argument(
            "--fail-on",
            choices=tuple(FAIL_ON),
            default="never",
            help="exit 1 when any finding is at least this severe (default: never)",
        )

    def handle(self, *args, **options) -> None:
        try:
            if options["paths"]:
                table = selectors.lint_paths(paths=options["paths"])
            else:
                catalog = selectors.catalog_load(path=options["catalog"])
                table = selectors.lint_table(catalog=catalog)
        except selectors.CatalogError as exc:
            raise CommandError(f"catalog unusable: {exc}", returncode=ExitCode.INVALID) from None
        output_format = "json" if options["json"] else options["format"]
        if output_format == "table" and options["paths"]:
            self.print_findings(table)
            self.stdout.write(f"{len(table.lints)} skills, {table.findings} findings")
        elif output_format == "table":
            self.print_table(table, details=options["details"])
        else:
            if output_format == "sarif":
                payload = table.as_sarif(root=repository_root(table.root))
            else:
                payload = table.as_dict()
            text = json.dumps(payload, indent=2, ensure_ascii=False)
            if options["output"]:
                options["output"].parent.mkdir(parents=True, exist_ok=True)
                options["output"].write_text(text + "\n", encoding="utf-8")
            else:
                self.stdout.write(text)
        if table.gate_failed(FAIL_ON[options["fail_on"]]):
            raise SystemExit(ExitCode.GATE_FAILED)

    def print_table(self, table: LintTable, *, details: bool) -> None:
        if self.stdout.isatty():
            self.print_rich(table)
        else:
            self.print_plain(table)
        lints = table.lints
        self.stdout.write(f"\n{len(lints)} skills, {table.findings} findings")
        # Not a finding of any skill: scenarios the catalog skipped (their skill is missing).
        for warning in table.warnings:
            self.stderr.write(f"warning: {warning}", self.style.WARNING)
        if details:
            self.stdout.write("")
            width = max((len(name) for name in lints), default=0)
            for name, lint in lints.items():
                for f in lint.findings:
                    where = f"{f.file}:{f.line}"
                    self.stdout.write(f"{name:<{width}}  {f.check_id:<5} {where}  {f.detail}")

    def print_findings(self, table: LintTable) -> None:
        """Compiler-style lines, ``path:line: ID [SEVERITY] detail``, paths from here."""
        here = Path.cwd()
        for name, lint in table.lints.items():
            for f in lint.findings:
                path = table.skills[name].root / f.file
                shown = path.relative_to(here) if path.is_relative_to(here) else path
                severity = table.severity(f)
                self.stdout.write(f"{shown}:{f.line}: {f.check_id} [{severity}] {f.detail}")

    def print_plain(self, table: LintTable) -> None:
        width = max([len("skill"), *(len(name) for name in table.lints)])
        cell = max(len(mark) for mark in MARKS.values())
        header = " ".join(f"{c:<{cell}}" for c in table.columns)
        self.stdout.write(f"{'skill':<{width}}  {header} {FAILED_HEADER}")
        for name in table.lints:
            marks = " ".join(f"{MARKS[passed]:<{cell}}" for passed in table.passed(name))
            failed = table.failed(name)
            self.stdout.write(f"{name:<{width}}  {marks} {failed:>{len(FAILED_HEADER)}}")

    def print_rich(self, lint_table: LintTable) -> None:
        from rich.console import Console
        from rich.table import Table

        columns = lint_table.columns
        table = Table(title="Static best-practice checks")
        table.add_column("skill", no_wrap=True)
        for column in columns:
            table.add_column(column, justify="center")
        table.add_column(FAILED_HEADER, justify="right")
        for name in lint_table.lints:
            cells = [
                f"[green]{MARKS[True]}[/]" if passed else f"[red]{MARKS[False]}[/]"
                for passed in lint_table.passed(name)
            ]
            table.add_row(name, *cells, str(lint_table.failed(name)))
        console = Console(file=raw_stream(self.stdout))
        longest = max((len(name) for name in lint_table.lints), default=5)
        console.width = max(console.width, longest + 4 + len(columns) * 9 + len(FAILED_HEADER) + 3)
        console.print(table)
