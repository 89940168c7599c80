"""Short Markdown reports for a pull request comment or ``$GITHUB_STEP_SUMMARY``.

A run: its totals per skill and per model and its most failed checks. A comparison: the
counts, then per skill the regressions and improvements, then the regressions themselves.
Names come from catalogs and reports (outside text), so every table cell is escaped: a pipe
or a newline cannot break the table, and Markdown or HTML in a name is shown as text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Protocol

from skillcheck.compare import Comparison
from skillcheck.spreadsheet import spreadsheet_text

MAX_FLIPS_LISTED = 50
TOP_PER_GROUP = 3
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


class Totals(Protocol):
    """One row of a run's table (``heatmap.selectors.GroupTotals`` is one)."""

    name: str
    tasks: int
    errors: int
    failed_checks: int
    top_failing: list[tuple[str, int]]

    @property
    def pass_pct(self) -> float | None: ...


def cell(value: object) -> str:
    """Text safe in a table cell: Markdown escaped, newlines folded, not a formula."""
    text = " ".join(str(value).split())
    return spreadsheet_text(_MARKDOWN_SPECIAL.sub(r"\\\1", text))


def _code(value: object) -> str:
    """Text for a code span: no backticks or newlines (escapes do not work inside one)."""
    return " ".join(str(value).replace("`", "'").split())


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def run_markdown(
    *,
    run_id: str,
    status: str,
    skills: Sequence[Totals],
    models: Sequence[Totals],
    check_names: Mapping[str, str] | None = None,
    top: int = 10,
) -> str:
    """The run's summary: status line, per-skill and per-model tables, top failing checks.

    The most failed checks are summed over the skills' ``top_failing``: pass every failing
    check there (the tables show the first three) for exact counts.
    """
    names = check_names or {}
    tasks = sum(s.tasks for s in skills)
    errors = sum(s.errors for s in skills)
    failed = sum(s.failed_checks for s in skills)
    lines = [
        f"## skillcheck run `{_code(run_id)}`",
        "",
        f"**{cell(status)}**: {tasks} tasks, {failed} failed checks, {errors} failed tasks.",
        "",
        "### Per skill",
        "",
    ]
    group_header = ["pass %", "tasks", "failed checks", "failed tasks", "top failing"]

    def rows(groups: Sequence[Totals]) -> list[list[object]]:
        return [
            [
                g.name,
                _pct(g.pass_pct),
                g.tasks,
                g.failed_checks,
                g.errors,
                ", ".join(f"{c} ({n})" for c, n in g.top_failing[:TOP_PER_GROUP]) or "—",
            ]
            for g in groups
        ]

    lines += _table(["skill", *group_header], rows(skills))
    lines += ["", "### Per model", ""]
    lines += _table(["model", *group_header], rows(models))
    failing: Counter[str] = Counter()
    for group in skills:
        failing.update(dict(group.top_failing))
    if failing:
        lines += ["", "### Most failed checks", ""]
        lines += _table(
            ["check", "name", "fails"],
            [[c, names.get(c, ""), n] for c, n in failing.most_common(top)],
        )
    return "\n".join(lines) + "\n"


def comparison_markdown(comparison: Comparison) -> str:
    """The comparison: counts, per-skill changes, then the regressions (most severe first)."""
    lines = [
        f"## skillcheck: `{_code(comparison.base)}` → `{_code(comparison.new)}`",
        "",
        f"{comparison.compared} tasks compared: **{len(comparison.regressions)} regressions**, "
        f"{len(comparison.improvements)} improvements, {len(comparison.changes)} other changes; "
        f"{len(comparison.added)} added, {len(comparison.removed)} removed, "
        f"{len(comparison.errored)} not compared (a task failed).",
    ]
    per_skill: dict[str, Counter[str]] = {}
    for flip in comparison.flips:
        per_skill.setdefault(flip.skill, Counter())[flip.kind] += 1
    if per_skill:
        lines += ["", "### Per skill", ""]
        lines += _table(
            ["skill", "regressions", "improvements", "other changes"],
            [
                [skill, c["regression"], c["improvement"], c["change"]]
                for skill, c in sorted(per_skill.items())
            ],
        )
    regressions = comparison.regressions
    if regressions:
        lines += ["", "### Regressions", ""]
        lines += _table(
            ["skill", "model", "scenario", "check", "severity", "before → after"],
            [
                [f.skill, f.model, f.scenario_id, f.check_id, f.severity, f"{f.before} → {f.after}"]
                for f in regressions[:MAX_FLIPS_LISTED]
            ],
        )
        if len(regressions) > MAX_FLIPS_LISTED:
            lines += ["", f"…and {len(regressions) - MAX_FLIPS_LISTED} more."]
    return "\n".join(lines) + "\n"
