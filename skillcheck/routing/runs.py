"""Executing a routing run: K samples per case per model, every answer saved at once.

Each answered call goes into its case row and the whole report is rewritten atomically
(``report.save_routing_report``), so a crash loses at most the calls in flight; ``resume``
asks only the samples a row still lacks. Before any call, picks are reused from earlier
reports whose fingerprint matches: the fingerprint covers every description of the catalog,
the prompt and the model, so editing any one description makes every earlier pick stale.
The calls go through the audits' run engine (``skillcheck.routing.engine``): the same worker
threads, cancel, timeout and batch mode; API calls share the account's adaptive concurrency
limit and retry policy with audits.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

from skillcheck.auditors.pricing import cost_usd, estimate_tokens, min_cacheable_tokens
from skillcheck.catalog import Catalog
from skillcheck.linter import lint_skill
from skillcheck.routing.cases import (
    RoutingCase,
    catalog_descriptions,
    catalog_fingerprint,
    description_fingerprints,
    routing_cases,
)
from skillcheck.routing.engine import RoutedSample, RouteTask, RoutingBatchEngine, RoutingEngine
from skillcheck.routing.prompt import select_skill_tool
from skillcheck.routing.report import (
    CaseRow,
    RoutingReport,
    load_routing_reports,
    routing_report_path,
    save_routing_report,
)
from skillcheck.routing.routers import Router
from skillcheck.runs.engine import MAX_CONCURRENCY, MIN_CONCURRENCY, Listener

DEFAULT_RUNS = 3
# Routers answer a one-word tool call: the output side of a call, for the estimate.
ESTIMATED_OUTPUT_TOKENS = 40


def new_routing_run_id() -> str:
    return "routing-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def answer_fingerprint(catalog_print: str, prompt: str, model_id: str) -> str:
    """What a pick answers: the whole catalog's descriptions, the prompt and the model."""
    return sha256(f"{catalog_print}\0{model_id}\0{prompt}".encode()).hexdigest()[:24]


def description_info(
    catalog: Catalog, descriptions: dict[str, str], *, lint: bool = True
) -> dict[str, dict[str, Any]]:
    """Per skill: the description's fingerprint and length, and the linter's findings on it
    (BP-2, and frontmatter findings that name the description; none with ``lint=False``: the
    whole linter runs for them, most of a plan's time)."""
    prints = description_fingerprints(descriptions)
    info = {}
    for name, skill in catalog.skills.items():
        findings = [
            f.to_dict()
            for f in (lint_skill(skill, catalog.taxonomy).findings if lint else [])
            if f.check_id == "BP-2" or (f.check_id == "FM" and "description" in f.detail)
        ]
        info[name] = {
            "fingerprint": prints[name],
            "chars": len(descriptions[name]),
            "text": descriptions[name],
            "findings": findings,
        }
    return info


def estimate_routing_cost(
    system: str,
    prompts: Iterable[str] | dict[str, list[str]],
    model_ids: dict[str, str],
    runs: int,
    names: list[str],
    *,
    caching: bool = True,
    batch: bool = False,
    cached: dict[str, int] | None = None,
) -> dict[str, dict[str, float | int]]:
    """Per model alias: calls, input tokens and USD with and without prompt caching (the
    system prompt with the catalog is written once and read by every later call, when it
    reaches the model's minimum cacheable length).

    ``prompts`` are the prompts to ask, the same for every model or per alias (the cases the
    pick cache does not answer; ``cached`` counts those it does, at no cost). ``batch``
    prices at the Message Batches rate, as an audit's estimate does.
    """
    if not isinstance(prompts, dict):
        shared = list(prompts)
        prompts = {alias: shared for alias in model_ids}
    fixed = estimate_tokens(system, json.dumps(select_skill_tool(names)))
    estimate: dict[str, dict[str, float | int]] = {}
    for alias, model_id in model_ids.items():
        asked = prompts.get(alias, [])
        calls = len(asked) * runs
        prompt_tokens = sum(estimate_tokens(p) for p in asked) * runs
        output = calls * ESTIMATED_OUTPUT_TOKENS
        uncached = cost_usd(model_id, fixed * calls + prompt_tokens, output, batch=batch)
        cacheable = caching and calls > 1 and fixed >= min_cacheable_tokens(model_id)
        with_cache = (
            cost_usd(model_id, prompt_tokens, output, fixed, fixed * (calls - 1), batch=batch)
            if cacheable
            else uncached
        )
        estimate[alias] = {
            "calls": calls,
            "cached_cases": (cached or {}).get(alias, 0),
            "input_tokens": fixed * calls + prompt_tokens,
            "catalog_tokens": fixed,
            "cacheable": cacheable,
            "batch": batch,
            "usd": round(with_cache, 6),
            "usd_uncached": round(uncached, 6),
        }
    return estimate


CacheEntry = tuple[str, list[str | None], str]  # (answer fingerprint, picks, run id)


class PickCache:
    """Earlier picks by answer fingerprint: a full set of K answered picks is reused instead
    of asking again (a set with an errored call never is). Entries come oldest first, so the
    newest answer wins; a reused set keeps pointing at the run that paid for it."""

    def __init__(self, entries: Iterable[CacheEntry] = ()):
        self._held: dict[str, tuple[list[str], str]] = {}
        for fingerprint, picks, run_id in entries:
            answered = [p for p in picks if p is not None]
            if fingerprint and answered and len(answered) == len(picks):
                self._held[fingerprint] = (answered, run_id)

    @classmethod
    def from_reports_dir(cls, reports_dir: Path | str, *, exclude: str = "") -> PickCache:
        return cls(
            (row.fingerprint, row.picks, row.cached_from or report.run_id)
            for report in load_routing_reports(reports_dir)
            if report.run_id != exclude
            for row in report.cases
        )

    def lookup(self, fingerprint: str, runs: int) -> tuple[list[str], str] | None:
        held = self._held.get(fingerprint)
        if held is None or len(held[0]) < runs:
            return None
        return held[0][:runs], held[1]


@dataclass
class RoutingPlan:
    """A run's rows before any call: the cases, descriptions and fingerprints."""

    catalog: Catalog
    cases: list[RoutingCase]
    descriptions: dict[str, str]
    catalog_fingerprint: str

    @classmethod
    def of(cls, catalog: Catalog) -> RoutingPlan:
        descriptions = catalog_descriptions(catalog)
        return cls(catalog, routing_cases(catalog), descriptions, catalog_fingerprint(descriptions))

    def new_report(
        self, run_id: str, routers: dict[str, Router], runs: int, *, lint: bool = True
    ) -> RoutingReport:
        rows = [
            CaseRow(
                case_id=case.id,
                prompt=case.prompt,
                expected=case.expected,
                model=alias,
                tags=list(case.tags),
                fingerprint=answer_fingerprint(
                    self.catalog_fingerprint, case.prompt, router.model_id
                ),
            )
            for alias, router in routers.items()
            for case in self.cases
        ]
        return RoutingReport(
            run_id=run_id,
            catalog=str(self.catalog.root),
            models=list(routers),
            runs=runs,
            skills=list(self.descriptions),
            catalog_fingerprint=self.catalog_fingerprint,
            descriptions=description_info(self.catalog, self.descriptions, lint=lint),
            cases=rows,
        )


@dataclass
class RoutingProgress:
    done: int
    total: int
    row: CaseRow | None = None


@dataclass
class RoutingRunner:
    """Asks every missing sample of ``report`` on the run engine and saves after each answer
    group: ``on_record`` (the database) for each changed row, then the whole JSON report.

    A sample that errored is asked again (an errored call is a ``None`` pick; its error
    stays in ``errors``), as a resumed audit sends its failed tasks again. ``batch`` sends
    the calls through Message Batches; ``batches`` are the records of a run's earlier
    batches and ``on_batches`` saves them, before any wait.
    """

    report: RoutingReport
    routers: dict[str, Router]
    path: Path
    cache: PickCache | None = None
    concurrency: int = 4
    on_progress: Callable[[RoutingProgress], None] | None = None
    # Called with each row as it changes (an answer, a reuse from the cache), before the
    # report is saved: the web app writes the row to its database here.
    on_record: Callable[[CaseRow], None] | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    abort_event: threading.Event = field(default_factory=threading.Event)
    # The engine's hooks, on the thread that calls ``run``: a cancel asked elsewhere, and a
    # tick while calls are in flight (the web app's heartbeat).
    should_cancel: Callable[[], bool] | None = None
    on_tick: Callable[[], None] | None = None
    listeners: list[Listener] = field(default_factory=list)
    task_timeout_s: float | None = None
    cancel_grace_s: float = 30.0
    batch: bool = False
    batches: list[dict[str, Any]] = field(default_factory=list)
    on_batches: Callable[[list[dict[str, Any]]], None] | None = None
    batch_options: dict[str, Any] = field(default_factory=dict)  # batch_size, poll_s
    calls_made: int = 0
    error: str | None = None  # why the run failed, when it did
    _done: int = field(default=0, init=False, repr=False)
    _total: int = field(default=0, init=False, repr=False)

    def cancel(self) -> None:
        self.cancel_event.set()

    def _reuse_cached(self) -> None:
        if self.cache is None:
            return
        for row in self.report.cases:
            if row.picks:
                continue
            found = self.cache.lookup(row.fingerprint, self.report.runs)
            if found is not None:
                row.picks, row.cached_from = list(found[0]), found[1]
                if self.on_record:
                    self.on_record(row)

    def tasks(self) -> list[RouteTask]:
        """A task per sample each row lacks (one for all of a deterministic router's)."""
        tasks = []
        for index, row in enumerate(self.report.cases):
            had = len(row.picks)
            missing = self.report.runs - had
            if missing <= 0:
                continue
            if self.routers[row.model].deterministic:
                tasks.append(RouteTask(index, row.case_id, row.model, row.prompt, had + 1, missing))
                continue
            tasks.extend(
                RouteTask(index, row.case_id, row.model, row.prompt, sample)
                for sample in range(had + 1, self.report.runs + 1)
            )
        return tasks

    def _record(self, sample: RoutedSample) -> CaseRow:
        row, answer = self.report.cases[sample.task.row], sample.answer
        row.picks.extend([answer.pick] * sample.task.copies)
        if answer.error:
            row.errors.append(answer.error)
        row.input_tokens += answer.input_tokens
        row.output_tokens += answer.output_tokens
        row.cache_write_tokens += answer.cache_write_tokens
        row.cache_read_tokens += answer.cache_read_tokens
        row.cost_usd += answer.cost_usd
        self.calls_made += 1
        return row

    def _save(self, samples: list[RoutedSample]) -> None:
        """The engine's ``on_results``: rows first (database), then the report (JSON)."""
        rows = [self._record(sample) for sample in samples]
        if self.on_record:
            for row in {id(row): row for row in rows}.values():
                self.on_record(row)
        save_routing_report(self.report, self.path)
        if self.on_progress:
            for row in rows:
                self._done += 1
                self.on_progress(RoutingProgress(self._done, self._total, row))

    def run(self) -> RoutingReport:
        for row in self.report.cases:  # errored samples are asked again
            row.picks = [pick for pick in row.picks if pick is not None]
        self._reuse_cached()
        self.report.status = "running"
        save_routing_report(self.report, self.path)
        tasks = self.tasks()
        self._done, self._total = 0, len(tasks)
        options: dict[str, Any] = {}
        if self.batch:
            options = {"batches": self.batches, "on_batches": self.on_batches}
            options.update(self.batch_options)
        engine = (RoutingBatchEngine if self.batch else RoutingEngine)(
            tasks,
            dict(self.routers),
            run_id=self.report.run_id,
            concurrency=max(MIN_CONCURRENCY, min(self.concurrency, MAX_CONCURRENCY)),
            listeners=self.listeners,
            cancel_event=self.cancel_event,
            abort_event=self.abort_event,
            should_cancel=self.should_cancel,
            on_results=self._save,
            on_tick=self.on_tick,
            task_timeout_s=self.task_timeout_s,
            cancel_grace_s=self.cancel_grace_s,
            **options,
        )
        outcome = engine.run()
        complete = all(len(row.picks) >= self.report.runs for row in self.report.cases)
        if outcome.status == "failed":
            self.report.status, self.error = "failed", outcome.error
        else:
            self.report.status = "completed" if complete else "cancelled"
        save_routing_report(self.report, self.path)
        return self.report


def start_routing_run(
    catalog: Catalog,
    routers: dict[str, Router],
    reports_dir: Path | str,
    *,
    runs: int = DEFAULT_RUNS,
    run_id: str | None = None,
    use_cache: bool = True,
    concurrency: int = 4,
    on_progress: Callable[[RoutingProgress], None] | None = None,
    extra: dict[str, Any] | None = None,
) -> RoutingRunner:
    """A runner for a new run (call ``run()``); the report exists once ``run`` starts."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    run_id = run_id or new_routing_run_id()
    report = RoutingPlan.of(catalog).new_report(run_id, routers, runs)
    report.extra.update(extra or {})
    cache = PickCache.from_reports_dir(reports_dir, exclude=run_id) if use_cache else None
    return RoutingRunner(
        report,
        routers,
        routing_report_path(run_id, reports_dir),
        cache=cache,
        concurrency=concurrency,
        on_progress=on_progress,
    )


class StaleResume(ValueError):
    """The catalog's descriptions changed since the run started: its picks answer another
    catalog, so it cannot be finished; the message names the changed descriptions."""


def resume_routing_run(
    report: RoutingReport,
    catalog: Catalog,
    routers: dict[str, Router],
    path: Path,
    *,
    concurrency: int = 4,
    on_progress: Callable[[RoutingProgress], None] | None = None,
) -> RoutingRunner:
    """A runner that asks only the samples ``report`` still lacks."""
    plan = RoutingPlan.of(catalog)
    if plan.catalog_fingerprint != report.catalog_fingerprint:
        changed = stale_descriptions(report, plan.descriptions)
        raise StaleResume(
            f"run {report.run_id}: the catalog's descriptions changed since it started "
            f"({', '.join(changed) or 'skills added or removed'}); start a new run"
        )
    missing = [m for m in report.models if m not in routers]
    if missing:
        raise ValueError(f"run {report.run_id}: no router for model(s) {', '.join(missing)}")
    return RoutingRunner(report, routers, path, concurrency=concurrency, on_progress=on_progress)


def stale_descriptions(report: RoutingReport, descriptions: dict[str, str]) -> list[str]:
    """Skills whose description differs from the one the report's picks were given for
    (added or removed skills too): any of them makes every pick of the report stale."""
    now = description_fingerprints(descriptions)
    then = {name: str(info.get("fingerprint")) for name, info in report.descriptions.items()}
    return [name for name in dict.fromkeys([*then, *now]) if then.get(name) != now.get(name)]
