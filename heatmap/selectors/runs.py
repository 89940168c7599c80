"""Runs: the active one, the list, one run's progress, cache savings and result tables."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Sum

from heatmap.models import Run, failed_check_ids
from skillcheck.results import cost_text, pass_percent
from skillcheck.runids import is_valid_run_id


def run_active() -> Run | None:
    """The newest unfinished run whose worker is alive, if any. One query."""
    for run in Run.objects.filter(status__in=Run.UNFINISHED).select_related("catalog")[:5]:
        if run.is_active:
            return run
    return None


def run_list(*, limit: int = 200, catalog_id: int | None = None) -> list[Run]:
    """The newest runs with their catalogs (of one catalog with ``catalog_id``). One query."""
    runs = Run.objects.select_related("catalog", "started_by")
    if catalog_id is not None:
        runs = runs.filter(catalog_id=catalog_id)
    return list(runs[:limit])


def run_get(*, run_id: str) -> Run | None:
    """The run, or None; an id no run can have (a NUL, which PostgreSQL refuses) finds none."""
    if not is_valid_run_id(run_id):
        return None
    return Run.objects.filter(run_id=run_id).select_related("catalog").first()


NOT_YOUR_RUN = "only the user who started this run, or staff, may change it"


def run_may_change(*, run: Run, user: Any) -> bool:
    """Whether ``user`` may cancel, resume, retry or delete ``run``.

    Local mode: anyone (there are no accounts). Team mode: everyone signed in sees every run,
    but only the user who started it, or staff, may change it; a run started from the
    command line (no user) only staff.
    """
    if not settings.SKILLCHECK_REQUIRE_LOGIN:
        return True
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_staff) or (run.started_by_id is not None and run.started_by_id == user.pk)


def run_progress(*, run: Run) -> dict[str, Any]:
    """A run's status and counts, for the API and the progress fragment."""
    done = run.completed  # counts every finished task, failed ones included
    duration = run.duration
    elapsed = duration.total_seconds() if duration else 0.0
    # The pace is that of the called tasks: the cached ones are saved at once, at the start, and
    # counting them as work made a run that reused most results look nearly done.
    called = done - run.cached
    eta = None
    if run.is_active and called > 0 and run.total > done:
        eta = elapsed / called * (run.total - done)
    return {
        "run_id": run.run_id,
        "catalog": run.catalog.name,
        "status": run.display_status,
        "active": run.is_active,
        "models": list(run.models),
        "domains": list(run.domains),
        "total": run.total,
        "completed": run.completed,
        "failed": run.failed,
        "cached": run.cached,
        "done": done,
        "cancel_requested": run.cancel_requested,
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "cost_usd": round(run.cost_usd, 6),
        "batch": run.batch,
        **run_cache_totals(run),
        "elapsed_s": round(elapsed, 1),
        "eta_s": round(eta, 1) if eta is not None else None,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
    }


def run_cache_totals(run: Run) -> dict[str, Any]:
    """Prompt caching in a run: tokens written and read, the hit rate (share of input tokens
    read from the cache) and what it saved against sending them uncached, priced per model."""
    from skillcheck.auditors.pricing import cache_savings_usd

    saved = 0.0
    if run.cache_write_tokens or run.cache_read_tokens:
        rows = (
            run.tasks.values("model", "batch")
            .annotate(write=Sum("cache_write_tokens"), read=Sum("cache_read_tokens"))
            .order_by()
        )
        model_ids = dict(settings.SKILLCHECK_MODELS)
        for row in rows:
            model_id = model_ids.get(row["model"], row["model"])
            saved += cache_savings_usd(
                model_id, row["write"] or 0, row["read"] or 0, batch=row["batch"]
            )
    hit_rate = run.cache_read_tokens / run.input_tokens if run.input_tokens else None
    return {
        "cache_write_tokens": run.cache_write_tokens,
        "cache_read_tokens": run.cache_read_tokens,
        "cache_hit_rate": round(hit_rate, 4) if hit_rate is not None else None,
        "cache_saved_usd": round(saved, 6),
    }


def run_tasks_to_do(*, run: Run) -> int:
    """How many of ``run``'s tasks its next execution runs: the failed ones for a retry of
    errors, else every task without a successful result. One query."""
    if run.errors_only:
        return run.tasks.filter(errored=True).count()
    return run.total - run.tasks.filter(errored=False).count()


@dataclass
class GroupTotals:
    name: str
    tasks: int = 0
    errors: int = 0
    passed: int = 0
    failed_checks: int = 0
    unclear: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    duration_s: float = 0.0
    top_failing: list[tuple[str, int]] = field(default_factory=list)

    @property
    def pass_pct(self) -> float | None:
        pct = pass_percent(self.passed, self.failed_checks, self.unclear)
        return None if pct is None else round(pct, 1)

    @property
    def cost_text(self) -> str:
        """The cost for people ("not recorded" for tokens without a price)."""
        return cost_text(self.cost_usd, self.input_tokens)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tasks": self.tasks,
            "errors": self.errors,
            "pass_pct": self.pass_pct,
            "fails": self.failed_checks,
            "unclear": self.unclear,
            "top_failing": [{"check_id": c, "fails": n} for c, n in self.top_failing],
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "avg_duration_s": round(self.duration_s / self.tasks, 3) if self.tasks else None,
        }


def run_result_tables(*, run: Run, top: int = 3) -> dict[str, list[GroupTotals]]:
    """Per skill and per model: tasks, errors, pass % (n/a excluded), fails, top failures.

    Reads each task's stored tally (counts and failing check ids), not its check rows.
    """
    groups: dict[str, dict[str, GroupTotals]] = {"skill": {}, "model": {}}
    fails: dict[str, dict[str, Counter]] = {
        "skill": defaultdict(Counter),
        "model": defaultdict(Counter),
    }
    rows = run.tasks.values_list(
        "skill", "model", "error", "input_tokens", "output_tokens", "cost_usd", "duration_s",
        "pass_count", "fail_count", "unclear_count", "failed_checks",
    )  # fmt: skip
    for skill, model, error, tokens_in, tokens_out, cost, duration, *counts, failed in rows:
        passed, failed_count, unclear = counts
        for kind, name in (("skill", skill), ("model", model)):
            group = groups[kind].setdefault(name, GroupTotals(name))
            group.tasks += 1
            group.errors += bool(error)
            group.input_tokens += tokens_in
            group.output_tokens += tokens_out
            group.cost_usd += cost
            group.duration_s += duration
            group.passed += passed
            group.failed_checks += failed_count
            group.unclear += unclear
            fails[kind][name].update(failed_check_ids(failed))
    for kind in ("skill", "model"):
        for name, group in groups[kind].items():
            group.top_failing = fails[kind][name].most_common(top)
    return {
        "skills": sorted(groups["skill"].values(), key=lambda s: s.name),
        "models": [groups["model"][m] for m in run.models if m in groups["model"]]
        + [s for m, s in groups["model"].items() if m not in run.models],
    }


@dataclass(frozen=True)
class RunSummary:
    """How a run ended: its result tables and prompt-cache savings, for ``run_scored``'s
    closing tables and line, and its ``--json``."""

    run: Run
    tables: dict[str, list[GroupTotals]]
    caching: dict[str, Any]

    @property
    def cost_text(self) -> str:
        return cost_text(self.run.cost_usd, self.run.input_tokens)

    @property
    def resume_command(self) -> str:
        """As the user typed the command: the installed ``skillcheck`` or the clone's."""
        command = "skillcheck run" if settings.MANAGE_COMMAND == "run" else None
        return f"{command or 'python manage.py run_scored'} --resume {self.run.run_id}"

    def as_dict(self, *, warnings: list[str]) -> dict[str, Any]:
        """The summary for ``--json``; ``warnings``: what the catalog skipped."""
        run = self.run
        return {
            "run_id": run.run_id,
            "status": run.status,
            "total": run.total,
            "completed": run.completed,
            "failed": run.failed,
            "report": run.report_path,
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "cost_usd": round(run.cost_usd, 6),
            "cached": run.cached,
            "batch": run.batch,
            "epochs": run.epochs,
            **self.caching,
            "duration_s": round(run.duration.total_seconds(), 3) if run.duration else None,
            "skills": [s.as_dict() for s in self.tables["skills"]],
            "models": [s.as_dict() for s in self.tables["models"]],
            "error": run.error or None,
            "resume_command": (None if run.status == Run.Status.COMPLETED else self.resume_command),
            "warnings": warnings,
        }


def run_summary(*, run: Run) -> RunSummary:
    """``run``'s result tables (``run_result_tables``) and cache savings, together."""
    return RunSummary(run=run, tables=run_result_tables(run=run), caching=run_cache_totals(run))
