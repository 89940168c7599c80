"""The routing page: one routing run of the shown catalog, for one model at a time: the
per-skill table, the confusion matrix, the cases, and which descriptions changed since."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from heatmap.models import RoutingRun
from heatmap.selectors.catalogs import CatalogScope
from heatmap.selectors.routing import routing_report
from skillcheck.catalog import NO_SKILL
from skillcheck.routing.cases import catalog_descriptions, description_fingerprints
from skillcheck.routing.metrics import mean_f1
from skillcheck.routing.report import CaseRow

OUTCOMES = ("right", "wrong", "errored")
SORTS = ("skill", "f1", "-f1", "f1_low", "-f1_low")
CONFUSION_LEVELS = 6  # colour steps of a confusion cell, by its share of the row


@dataclass(frozen=True)
class SkillRow:
    skill: str
    cases: int
    tp: int
    fp: int
    fn: int
    precision: float | None
    recall: float | None
    f1: float | None
    f1_low: float | None
    f1_high: float | None
    description_chars: int
    findings: list[dict[str, Any]]
    stolen_by: list[tuple[str, list[str]]]


@dataclass(frozen=True)
class ConfusionCell:
    picked: str
    count: int
    share: float  # of the row's cases
    level: int  # 0 (none) .. CONFUSION_LEVELS - 1
    diagonal: bool


@dataclass(frozen=True)
class ConfusionRow:
    expected: str
    total: int
    cells: list[ConfusionCell]


@dataclass(frozen=True)
class ModelPick:
    model: str
    picks: list[str | None]
    pick: str | None
    right: bool
    description: str  # of the skill it picked ("" for none or an errored case)


@dataclass(frozen=True)
class CaseView:
    case_id: str
    prompt: str
    expected: str
    tags: list[str]
    picks: list[ModelPick]
    outcome: str  # for the page's model: right, wrong or errored


@dataclass
class RoutingFilters:
    model: str = ""
    skill: str = ""
    tag: str = ""
    outcome: str = ""
    sort: str = "skill"

    def query(self, **changes: str) -> dict[str, str]:
        values = {**self.__dict__, **changes}
        return {k: v for k, v in values.items() if v and not (k == "sort" and v == "skill")}


@dataclass
class RoutingPage:
    run: RoutingRun | None
    runs: list[RoutingRun]
    filters: RoutingFilters
    models: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    mean_f1: float | None = None
    skills: list[SkillRow] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # the confusion matrix's columns
    confusion: list[ConfusionRow] = field(default_factory=list)
    cases: list[CaseView] = field(default_factory=list)
    case_total: int = 0
    tags: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    progress: tuple[int, int] = (0, 0)
    # The shown model's spend: what its calls cost, the run's estimate of it before any call,
    # and the cases its pick cache answered (free).
    cost_usd: float = 0.0
    estimate_usd: float | None = None
    cached_cases: int = 0


def _outcome(row: CaseRow) -> str:
    if row.pick is None:
        return "errored"
    return "right" if row.pick == row.expected else "wrong"


def _skill_rows(
    metrics: dict[str, Any], descriptions: dict[str, dict[str, Any]], sort: str
) -> list[SkillRow]:
    rows = []
    for skill, s in metrics["skills"].items():
        ci = s["ci"]["f1"] or [None, None]
        info = descriptions.get(skill, {})
        rows.append(
            SkillRow(
                skill=skill,
                cases=s["tp"] + s["fn"],
                tp=s["tp"],
                fp=s["fp"],
                fn=s["fn"],
                precision=s["precision"],
                recall=s["recall"],
                f1=s["f1"],
                f1_low=ci[0],
                f1_high=ci[1],
                description_chars=int(info.get("chars") or 0),
                findings=list(info.get("findings") or []),
                stolen_by=list(s["stolen_by"].items()),
            )
        )
    key = sort.lstrip("-")
    if key in ("f1", "f1_low"):
        missing = [r for r in rows if getattr(r, key) is None]
        ranked = sorted(
            (r for r in rows if getattr(r, key) is not None),
            key=lambda r: getattr(r, key),
            reverse=sort.startswith("-"),
        )
        rows = ranked + missing
    return rows


def _confusion(metrics: dict[str, Any], skills: list[str]) -> tuple[list[str], list[ConfusionRow]]:
    """Rows: every skill, then ``none`` when a case expected it; columns: skills and ``none``."""
    labels = [*skills, NO_SKILL]
    matrix = metrics["confusion"]
    rows = []
    for expected in [*skills, *([NO_SKILL] if NO_SKILL in matrix else [])]:
        counts = matrix.get(expected, {})
        total = sum(counts.values())
        cells = []
        for picked in labels:
            count = counts.get(picked, 0)
            share = count / total if total else 0.0
            level = 0 if not count else 1 + min(int(share * (CONFUSION_LEVELS - 1)), 4)
            cells.append(ConfusionCell(picked, count, share, level, picked == expected))
        rows.append(ConfusionRow(expected, total, cells))
    return labels, rows


def routing_stale(run: RoutingRun, scope: CatalogScope) -> list[str]:
    """Skills whose description changed (or that came or went) since ``run`` was planned:
    any of them makes every pick of the run stale."""
    try:
        now = description_fingerprints(catalog_descriptions(scope.load()))
    except Exception:  # the catalog's files are not here or unusable: nothing to compare
        return []
    then = {name: str(info.get("fingerprint")) for name, info in run.descriptions.items()}
    return [name for name in dict.fromkeys([*then, *now]) if then.get(name) != now.get(name)]


def routing_page(
    *, scope: CatalogScope, run_id: str = "", filters: RoutingFilters | None = None
) -> RoutingPage:
    filters = filters or RoutingFilters()
    runs = list(
        RoutingRun.objects.filter(catalog=scope.record).order_by("-created_at")[:50]
        if scope.record is not None
        else []
    )
    run = next((r for r in runs if r.run_id == run_id), None) if run_id else None
    if run is None and run_id:
        run = RoutingRun.objects.filter(run_id=run_id, catalog=scope.record).first()
    run = run or (runs[0] if runs else None)
    page = RoutingPage(run=run, runs=runs, filters=filters)
    if run is None:
        return page
    report = routing_report(run)
    page.models = list(report.models)
    if filters.model not in page.models:
        filters.model = page.models[0] if page.models else ""
    metrics = report.recount()
    summary = metrics.get(filters.model) or {}
    page.summary = summary
    page.mean_f1 = mean_f1(summary) if summary else None
    if filters.sort not in SORTS:
        filters.sort = "skill"
    page.skills = _skill_rows(summary, report.descriptions, filters.sort) if summary else []
    page.labels, page.confusion = _confusion(summary, report.skills) if summary else ([], [])
    page.stale = routing_stale(run, scope)
    page.progress = (sum(len(r.picks) for r in report.cases), len(report.cases) * report.runs)
    model_rows = [r for r in report.cases if r.model == filters.model]
    page.cost_usd = sum(r.cost_usd for r in model_rows)
    page.cached_cases = sum(1 for r in model_rows if r.cached_from)
    estimated = (run.estimate or {}).get(filters.model) or {}
    page.estimate_usd = estimated.get("usd")
    texts = {name: str(info.get("text") or "") for name, info in report.descriptions.items()}
    by_case: dict[str, list[CaseRow]] = {}
    for row in report.cases:
        by_case.setdefault(row.case_id, []).append(row)
    page.tags = sorted({t for row in report.cases for t in row.tags})
    views = []
    for case_id, rows in by_case.items():
        first = rows[0]
        mine = next((r for r in rows if r.model == filters.model), first)
        views.append(
            CaseView(
                case_id=case_id,
                prompt=first.prompt,
                expected=first.expected,
                tags=list(first.tags),
                picks=[
                    ModelPick(
                        r.model, r.picks, r.pick, r.pick == r.expected, texts.get(r.pick or "", "")
                    )
                    for r in rows
                ],
                outcome=_outcome(mine),
            )
        )
    page.case_total = len(views)
    page.cases = [
        v
        for v in views
        if (not filters.skill or filters.skill in (v.expected, *(p.pick for p in v.picks)))
        and (not filters.tag or filters.tag in v.tags)
        and (not filters.outcome or v.outcome == filters.outcome)
    ]
    return page


def routing_csv_rows(page: RoutingPage) -> list[list[str]]:
    """The case list as shown (its filters applied), one line per case and model."""
    rows = [["case_id", "prompt", "expected", "tags", "model", "picks", "pick", "right"]]
    for case in page.cases:
        for pick in case.picks:
            rows.append(
                [
                    case.case_id,
                    case.prompt,
                    case.expected,
                    " ".join(case.tags),
                    pick.model,
                    " ".join("errored" if p is None else p for p in pick.picks),
                    pick.pick or "",
                    "yes" if pick.right else "no",
                ]
            )
    return rows
