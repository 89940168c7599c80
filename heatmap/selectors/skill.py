"""One skill's page: its pass % per model over the runs, its newest checks, its lint."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from django.db.models import Count

from heatmap.models import CheckResult, Run, TaskResult
from heatmap.selectors.catalogs import configured_catalog_id
from heatmap.selectors.counts import NOT_RUN, percent_interval
from heatmap.selectors.lint import lint_matrix
from heatmap.selectors.newest import newest_task_ids
from skillcheck.catalog import Catalog, Check
from skillcheck.results import pass_percent

# Chart geometry (px): the text is drawn at its real size whatever the width (the SVG has no
# viewBox; x positions are percentages of its width), so it stays readable on a phone.
CHART_H, CHART_TOP, CHART_AXIS = 200, 30, 160  # total height, plot top, x axis (plot bottom)
CHART_X0, CHART_X1 = 10.0, 97.0  # the first and last run's x, in % of the width (labels left)
CHART_COLORS = ("#1f6feb", "#d1242f", "#1a7f37", "#8250df", "#bf8700", "#57606a")


@dataclass
class SkillRunPoint:
    run_id: str
    created_at: Any
    model: str
    pass_pct: float | None
    tasks: int
    pass_ci: tuple[float, float] | None = None  # 95 %, as the overview's (``percent_interval``)

    @property
    def ci_text(self) -> str:
        """ "; 95 % interval 41.2–58.8 %", as the overview's hover says it ("" without one)."""
        if self.pass_ci is None:
            return ""
        return f"; 95 % interval {self.pass_ci[0]}–{self.pass_ci[1]} %"


@dataclass
class SkillHistory:
    skill: str
    points: list[SkillRunPoint]
    runs: list[Run]
    models: list[str]
    matrix_columns: list[tuple[str, str]]  # (scenario id, model)
    matrix_rows: list[tuple[Check, list[str]]]
    lint: Any = None
    fingerprints: dict[str, str] = field(default_factory=dict)  # run id -> skill fingerprint

    def edits(self) -> list[tuple[Run, Run]]:
        """Each pair of consecutive runs (oldest first) between which the skill's files
        changed: the fingerprint they recorded differs (unknown for either: no mark)."""
        ordered = list(reversed(self.runs))
        return [
            (a, b)
            for a, b in pairwise(ordered)
            if self.fingerprints.get(a.run_id)
            and self.fingerprints.get(b.run_id)
            and self.fingerprints[a.run_id] != self.fingerprints[b.run_id]
        ]

    def chart(self) -> dict[str, Any]:
        """Pass % per model over the runs, as SVG coordinates (rendered by the template): x in
        % of the width, y in px; a mark between two runs where the skill's files changed."""
        runs = list(reversed(self.runs))  # oldest first, left to right
        index = {r.run_id: i for i, r in enumerate(runs)}
        span = max(len(runs) - 1, 1)
        plot_h = CHART_AXIS - CHART_TOP

        def x_of(i: float) -> float:
            if len(runs) < 2:
                return 50.0
            return round(CHART_X0 + (CHART_X1 - CHART_X0) * i / span, 2)

        def y_of(pct: float) -> float:
            return round(CHART_TOP + plot_h * (1 - pct / 100), 1)

        series = []
        for n, model in enumerate(self.models):
            dots = [
                (x_of(index[p.run_id]), y_of(p.pass_pct), p.pass_pct,
                 f"{model} · {p.run_id}: {p.pass_pct:.0f}% pass{p.ci_text}")
                for p in sorted(self.points, key=lambda p: index[p.run_id])
                if p.model == model and p.pass_pct is not None
            ]  # fmt: skip
            series.append(
                {
                    "model": model,
                    "color": CHART_COLORS[n % len(CHART_COLORS)],
                    # The line lives in a 100 × 100 box stretched over the plot.
                    "points": " ".join(f"{x},{round(100 - pct, 2)}" for x, _, pct, _ in dots),
                    "dots": [(x, y, label) for x, y, _, label in dots],
                }
            )
        marks = []
        for a, b in self.edits():
            x = (x_of(index[a.run_id]) + x_of(index[b.run_id])) / 2
            marks.append(
                {
                    "x": round(x, 2),
                    "anchor": "start" if x < 15 else "end" if x > 85 else "middle",
                    "title": f"the skill's files changed between runs {a.run_id} and "
                    f"{b.run_id} (fingerprint {self.fingerprints[a.run_id]} → "
                    f"{self.fingerprints[b.run_id]})",
                }
            )
        return {
            "height": CHART_H,
            "top": CHART_TOP,
            "axis": CHART_AXIS,
            "plot_h": plot_h,
            "series": series,
            "grid": [
                {"y": y_of(pct), "label_y": y_of(pct) - 4, "label": f"{pct}%"}
                for pct in (0, 25, 50, 75, 100)
            ],
            "tick_end": CHART_AXIS + 5,
            "date_y": CHART_AXIS + 19,
            "mark_y": 12,
            "ticks": [x_of(i) for i in range(len(runs))],
            "first": runs[0] if runs else None,
            "last": runs[-1] if len(runs) > 1 else None,
            "marks": marks,
            "runs": len(runs),
        }


def skill_history(*, catalog: Catalog, skill: str, catalog_id: int | None = None) -> SkillHistory:
    """A skill's pass % per model and run, its newest checks × scenarios × models, its runs,
    in the catalog ``catalog_id`` (default: the configured one), whose files are ``catalog``.

    Four queries: the tasks' summaries, the runs, the skill's fingerprint per run, the newest
    check rows. A run's pass % and its 95 % interval count every task and sample of it (the
    samples as clusters stratified by scenario, or the scenarios as clusters with one sample
    each).
    """
    if catalog_id is None:
        catalog_id = configured_catalog_id()
    tasks = TaskResult.objects.filter(catalog_id=catalog_id, skill=skill).values_list(
        "run_id", "model", "scenario_id", "pass_count", "fail_count", "unclear_count"
    )
    sums: dict[tuple[int, str], list[int]] = {}
    samples: dict[tuple[int, str], dict[str, list[tuple[int, int]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for run_pk, model, scenario_id, passed, failed, unclear in tasks.order_by():
        row = sums.setdefault((run_pk, model), [0, 0, 0, 0])
        row[0] += passed
        row[1] += failed
        row[2] += unclear
        row[3] += 1
        samples[(run_pk, model)][scenario_id].append((passed, passed + failed + unclear))
    runs = list(Run.objects.filter(pk__in={run_pk for run_pk, _ in sums}))
    by_pk = {r.pk: r for r in runs}
    fingerprints = _run_fingerprints(catalog_id=catalog_id, skill=skill, runs=runs)
    points = [
        SkillRunPoint(
            run_id=by_pk[run_pk].run_id,
            created_at=by_pk[run_pk].created_at,
            model=model,
            pass_pct=pass_percent(passed, failed, unclear),
            tasks=count,
            pass_ci=percent_interval(list(samples[(run_pk, model)].values())),
        )
        for (run_pk, model), (passed, failed, unclear, count) in sums.items()
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
    return SkillHistory(skill, points, runs, models, columns, rows, lint, fingerprints)


def _run_fingerprints(*, catalog_id: int, skill: str, runs: list[Run]) -> dict[str, str]:
    """The skill's fingerprint in each run: the one most of its results recorded (a resume
    may have seen an edit), else the one the run's start recorded for the catalog."""
    found = {
        r.run_id: fp
        for r in runs
        if (fp := (r.catalog_fingerprints or {}).get("skills", {}).get(skill, ""))
    }
    by_pk = {r.pk: r.run_id for r in runs}
    counts: dict[str, tuple[int, str]] = {}
    rows = (
        TaskResult.objects.filter(catalog_id=catalog_id, skill=skill)
        .exclude(skill_fingerprint="")
        .values_list("run_id", "skill_fingerprint")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for run_pk, fingerprint, n in rows:
        run_id = by_pk.get(run_pk)
        if run_id is not None and n > counts.get(run_id, (0, ""))[0]:
            counts[run_id] = (n, fingerprint)
    found.update({run_id: fp for run_id, (_, fp) in counts.items()})
    return found
