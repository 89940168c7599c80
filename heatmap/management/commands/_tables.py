"""``run_scored``'s printed tables: the closing tables per skill and per model, and ``--list``."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from heatmap.selectors import GroupTotals


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def result_tables(tables: dict[str, list[GroupTotals]]) -> list[Table]:
    """The run's tables per skill and per model; one unit per column, named in the header:
    a percentage, then counts of checks, tasks."""
    skills = Table(
        "skill", "tasks", "pass %", "failed checks", "failed tasks", "top failing checks"
    )
    for s in tables["skills"]:
        top = ", ".join(f"{c} ({n})" for c, n in s.top_failing)
        skills.add_row(
            s.name, str(s.tasks), _pct(s.pass_pct), str(s.failed_checks), str(s.errors), top
        )
    models = Table(
        "model", "tasks", "pass %", "failed checks", "failed tasks", "tokens in/out", "cost"
    )
    for s in tables["models"]:
        models.add_row(
            s.name,
            str(s.tasks),
            _pct(s.pass_pct),
            str(s.failed_checks),
            str(s.errors),
            f"{s.input_tokens:,}/{s.output_tokens:,}",
            s.cost_text,
        )
    return [skills, models]


def catalog_listing(catalog: Any) -> dict[str, Any]:
    """The original CLI's ``--list`` as data: domains, their scenarios and target skills."""
    return {
        "domains": [
            {
                "id": d.id,
                "kind": d.kind,
                "scenarios": [
                    {"id": s.id, "name": s.name, "skills": list(s.target_skills)}
                    for s in d.scenarios
                ],
            }
            for d in catalog.domains.values()
        ]
    }


def catalog_lines(listing: dict[str, Any]) -> list[str]:
    """``--list`` for a terminal (rich markup), from :func:`catalog_listing`."""
    lines = []
    for domain in listing["domains"]:
        lines.append(f"[bold]{domain['id']}[/] ({len(domain['scenarios'])} scenarios)")
        for scenario in domain["scenarios"]:
            skills = ", ".join(scenario["skills"])
            lines.append(f"  {scenario['id']:<28} {skills}  [dim]{scenario['name']}[/]")
    return lines
