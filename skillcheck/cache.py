"""The response cache: a task whose fingerprint matches a stored successful result is not sent.

The engine asks a ``ResultCache`` once, before it sends any task, for the results it may
reuse; the web app's cache reads the database, ``MemoryCache`` holds results in memory (from
reports, or in tests). Reuse copies the result into the new run, marked with the run it came
from, at no cost. Failed results are never reused: a cache never returns one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Protocol

from skillcheck.fingerprints import Fingerprint
from skillcheck.results import ScoredRun, TaskKey, utc_now_iso


class ResultCache(Protocol):
    def lookup(self, wanted: Mapping[TaskKey, str]) -> dict[TaskKey, tuple[ScoredRun, str]]:
        """For task keys with their fingerprint key: a stored successful result, and its run."""
        ...

    def hits(self, wanted: Mapping[TaskKey, str]) -> set[TaskKey]:
        """The task keys ``lookup`` would answer, without loading their results (plans)."""
        ...


def reused(result: ScoredRun, *, source_run: str, fingerprint: Fingerprint) -> ScoredRun:
    """A copy of ``result`` for a new run: cached from ``source_run``, free, finished now.

    A result that was itself reused keeps pointing at the run that paid for it.
    """
    return dataclasses.replace(
        result,
        checks=[dataclasses.replace(c) for c in result.checks],
        input_tokens=0,
        output_tokens=0,
        cost_usd=0.0,
        duration_s=0.0,
        finished_at=utc_now_iso(),
        fingerprint=fingerprint,
        cached_from=result.cached_from or source_run,
    )


class MemoryCache:
    """Reusable results held in memory, newest first per fingerprint."""

    def __init__(self, results: Iterable[tuple[ScoredRun, str]] = ()):
        self._held: dict[tuple[TaskKey, str], tuple[ScoredRun, str]] = {}
        for result, run_id in results:
            self.add(result, run_id)

    def add(self, result: ScoredRun, run_id: str) -> None:
        key = result.fingerprint.key if result.fingerprint else ""
        if not key or result.error:
            return
        held = self._held.get((result.key, key))
        if held is None or (result.finished_at or "") >= (held[0].finished_at or ""):
            self._held[(result.key, key)] = (result, run_id)

    def hits(self, wanted: Mapping[TaskKey, str]) -> set[TaskKey]:
        return set(self.lookup(wanted))

    def lookup(self, wanted: Mapping[TaskKey, str]) -> dict[TaskKey, tuple[ScoredRun, str]]:
        found = {}
        for task_key, fingerprint in wanted.items():
            held = self._held.get((task_key, fingerprint))
            if held is not None:
                found[task_key] = held
        return found
