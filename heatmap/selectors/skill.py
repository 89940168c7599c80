"""One skill's page: its pass % per model over the runs, its newest checks, its lint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Sum

from heatmap.models import CheckResult, Run, TaskResult
from heatmap.selectors.catalogs import configured_catalog_id
from heatmap.selectors.counts import NOT_RUN
from heatmap.selectors.lint import lint_matrix
from heatmap.selectors.newest import newest_task_ids
from skillcheck.catalog import Catalog, Check
from skillcheck.results import pass_percent

CHART_W, CHART_H, CHART_PAD = 640, 220, 32
CHART_COLORS = ("#1f6feb", "#d1242f", "#1a7f37", "#8250df", "#bf8700", "#57606a")


@dataclass
class SkillRunPoint:
    run_id: str
    created_at: Any
    model: str
    pass_pct: float | None
    tasks: int


@dataclass
class SkillHistory:
    skill: str
    points: list[SkillRunPoint]
    runs: list[Run]
    models: list[str]
    matrix_columns: list[tuple[str, str]]  # (scenario id, model)
    matrix_rows: list[tuple[Check, list[str]]]
    lint: Any = None

    def chart(self) -> dict[str, Any]:
        """Pass % per model over the runs, as SVG coordinates (rendered by the template)."""
        run_ids = [r.run_id for r in reversed(self.runs)]  # oldest first, left to right
        span = max(len(run_ids) - 1, 1)
        inner_w, inner_h = CHART_W - 2 * CHART_PAD, CHART_H - 2 * CHART_PAD

        def xy(run_id: str, pct: float) -> tuple[float, float]:
            x = CHART_PAD + inner_w * (run_ids.index(run_id) / span if len(run_ids) > 1 else 0.5)
            return round(x, 1), round(CHART_PAD + inner_h * (1 - pct / 100), 1)

        series = []
        for i, model in enumerate(self.models):
            dots = [
                (*xy(p.run_id, p.pass_pct), f"{model} · {p.run_id}: {p.pass_pct:.0f}%")
                for p in sorted(self.points, key=lambda p: run_ids.index(p.run_id))
                if p.model == model and p.pass_pct is not None
            ]
            series.append(
                {
                    "model": model,
                    "color": CHART_COLORS[i % len(CHART_COLORS)],
                    "points": " ".join(f"{x},{y}" for x, y, _ in dots),
                    "dots": dots,
                }
            )
        grid = [
            {"y": round(CHART_PAD + inner_h * (1 - pct / 100), 1), "label": f"{pct}%"}
            for pct in (0, 25, 50, 75, 100)
        ]
        return {
            "width": CHART_W,
            "height": CHART_H,
            "pad": CHART_PAD,
            "right": CHART_W - CHART_PAD,
            "series": series,
            "grid": grid,
            "runs": len(run_ids),
        }


def skill_history(*, catalog: Catalog, skill: str, catalog_id: int | None = None) -> SkillHistory:
    """A skill's pass % per model and run, its newest checks × scenarios × models, its runs,
    in the catalog ``catalog_id`` (default: the configured one), whose files are ``catalog``.

    Three queries: the per-run sums, the runs, the newest check rows.
    """
    if catalog_id is None:
        catalog_id = configured_catalog_id()
    sums = (
        TaskResult.objects.filter(catalog_id=catalog_id, skill=skill)
        .values("run_id", "model")
        .annotate(
            passed=Sum("pass_count"),
            failed=Sum("fail_count"),
            unclear=Sum("unclear_count"),
            tasks=Count("pk"),
        )
        .order_by()
    )
    per_run = list(sums)
    runs = list(Run.objects.filter(pk__in={row["run_id"] for row in per_run}))
    by_pk = {r.pk: r for r in runs}
    points = [
        SkillRunPoint(
            run_id=by_pk[row["run_id"]].run_id,
            created_at=by_pk[row["run_id"]].created_at,
            model=row["model"],
            pass_pct=pass_percent(row["passed"], row["failed"], row["unclear"]),
            tasks=row["tasks"],
        )
        for row in per_run
    ]
    found: dict[tuple[str, str, str], str] = {}
    for scenario_id, model, check_id, result in (
        CheckResult.objects.filter(task__in=newest_task_ids(catalog_id=catalog_id, skill=skill))
        .values_list("task__scenario_id", "task__model", "check_id", "result")
        .order_by()
    ):
        found[(scenario_id, model, check_id)] = result
    models = sorted({p.model for p in points} | {m for _, m, _ in found})
    scenario_order = [s.id for s in catalog.scenarios if skill in s.target_skills]
    scenario_order += sorted({s for s, _, _ in found} - set(scenario_order))
    columns = [
        (s, m) for s in scenario_order for m in models if any(k[:2] == (s, m) for k in found)
    ]
    rows = [
        (check, [found.get((s, m, check.id), NOT_RUN) for s, m in columns])
        for check in catalog.taxonomy.model_checks
    ]
    lint = lint_matrix(catalog=catalog).get(skill)
    return SkillHistory(skill, points, runs, models, columns, rows, lint)
