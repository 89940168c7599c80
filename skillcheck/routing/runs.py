"""Executing a routing run: K samples per case per model, every answer saved at once.

Each answered call goes into its case row and the whole report is rewritten atomically
(``report.save_routing_report``), so a crash loses at most the calls in flight; ``resume``
asks only the samples a row still lacks. Before any call, picks are reused from earlier
reports whose fingerprint matches: the fingerprint covers every description of the catalog,
the prompt and the model, so editing any one description makes every earlier pick stale.
API calls share the account's adaptive concurrency limit and retry policy with audits.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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
from skillcheck.routing.prompt import select_skill_tool
from skillcheck.routing.report import (
    CaseRow,
    RoutingReport,
    load_routing_reports,
    routing_report_path,
    save_routing_report,
)
from skillcheck.routing.routers import RouteAnswer, Router

DEFAULT_RUNS = 3
# Routers answer a one-word tool call: the output side of a call, for the estimate.
ESTIMATED_OUTPUT_TOKENS = 40


def new_routing_run_id() -> str:
    return "routing-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def answer_fingerprint(catalog_print: str, prompt: str, model_id: str) -> str:
    """What a pick answers: the whole catalog's descriptions, the prompt and the model."""
    return sha256(f"{catalog_print}\0{model_id}\0{prompt}".encode()).hexdigest()[:24]


def description_info(catalog: Catalog, descriptions: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per skill: the description's fingerprint and length, and the linter's findings on it
    (BP-2, and frontmatter findings that name the description)."""
    prints = description_fingerprints(descriptions)
    info = {}
    for name, skill in catalog.skills.items():
        findings = [
            f.to_dict()
            for f in lint_skill(skill, catalog.taxonomy).findings
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
    prompts: Iterable[str],
    model_ids: dict[str, str],
    runs: int,
    names: list[str],
    *,
    caching: bool = True,
) -> dict[str, dict[str, float | int]]:
    """Per model alias: calls, input tokens and USD with and without prompt caching (the
    system prompt with the catalog is written once and read by every later call, when it
    reaches the model's minimum cacheable length)."""
    prompts = list(prompts)
    fixed = estimate_tokens(system, json.dumps(select_skill_tool(names)))
    estimate: dict[str, dict[str, float | int]] = {}
    for alias, model_id in model_ids.items():
        calls = len(prompts) * runs
        prompt_tokens = sum(estimate_tokens(p) for p in prompts) * runs
        output = calls * ESTIMATED_OUTPUT_TOKENS
        uncached = cost_usd(model_id, fixed * calls + prompt_tokens, output)
        cacheable = caching and calls > 1 and fixed >= min_cacheable_tokens(model_id)
        cached = (
            cost_usd(model_id, prompt_tokens, output, fixed, fixed * (calls - 1))
            if cacheable
            else uncached
        )
        estimate[alias] = {
            "calls": calls,
            "input_tokens": fixed * calls + prompt_tokens,
            "catalog_tokens": fixed,
            "cacheable": cacheable,
            "usd": round(cached, 6),
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

    def new_report(self, run_id: str, routers: dict[str, Router], runs: int) -> RoutingReport:
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
            descriptions=description_info(self.catalog, self.descriptions),
            cases=rows,
        )


@dataclass
class RoutingProgress:
    done: int
    total: int
    row: CaseRow | None = None


@dataclass
class RoutingRunner:
    """Asks every missing sample of ``report`` and saves after each answer."""

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
    calls_made: int = 0

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

    def _pending(self) -> list[tuple[CaseRow, int]]:
        """(row, how many samples to ask) for every row short of K picks."""
        pending = []
        for row in self.report.cases:
            missing = self.report.runs - len(row.picks)
            if missing <= 0:
                continue
            deterministic = self.routers[row.model].deterministic
            pending.append((row, 1 if deterministic else missing))
        return pending

    def _record(self, row: CaseRow, answer: RouteAnswer) -> None:
        router = self.routers[row.model]
        copies = self.report.runs - len(row.picks) if router.deterministic else 1
        row.picks.extend([answer.pick] * copies)
        if answer.error:
            row.errors.append(answer.error)
        row.input_tokens += answer.input_tokens
        row.output_tokens += answer.output_tokens
        row.cache_write_tokens += answer.cache_write_tokens
        row.cache_read_tokens += answer.cache_read_tokens
        row.cost_usd += answer.cost_usd
        self.calls_made += 1

    def run(self) -> RoutingReport:
        self._reuse_cached()
        for router in self.routers.values():
            prepare = getattr(router, "prepare", None)
            if prepare is not None:  # API routers: the client, the adaptive limit's ceiling
                prepare(concurrency=self.concurrency)
        self.report.status = "running"
        save_routing_report(self.report, self.path)
        work = [(row, n) for row, n in self._pending() for _ in range(n)]
        total = len(work)
        done = 0
        lock = threading.Lock()
        with ThreadPoolExecutor(max_workers=max(self.concurrency, 1)) as pool:
            queue = list(reversed(work))
            running: dict[Future[RouteAnswer], CaseRow] = {}
            while queue or running:
                while queue and len(running) < self.concurrency and not self.cancel_event.is_set():
                    row, _ = queue.pop()
                    running[pool.submit(self.routers[row.model].route, row.prompt)] = row
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    row = running.pop(future)
                    with lock:
                        self._record(row, future.result())
                        if self.on_record:
                            self.on_record(row)
                        save_routing_report(self.report, self.path)
                    done += 1
                    if self.on_progress:
                        self.on_progress(RoutingProgress(done, total, row))
        complete = all(len(row.picks) >= self.report.runs for row in self.report.cases)
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
