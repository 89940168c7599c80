"""The response cache over the database: reuse a stored result whose fingerprint matches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from heatmap.models import TaskResult
from heatmap.selectors.results import scored_from_task
from skillcheck.results import ScoredRun, TaskKey

CACHE_LOOKUP_CHUNK = 500
CACHE_LOOKUP_FIELDS = (
    "pk",
    "scenario_id",
    "skill",
    "model",
    "epoch",
    "fingerprint",
    "finished_at",
    "run__run_id",
)


class StoredResultCache:
    """The response cache over the database: the newest successful task per fingerprint.

    A task matches when its key (scenario, skill, model, epoch) and its fingerprint are the
    same, so a run of K samples reuses K stored samples; rows with an error never match, nor
    rows of a run that is no cache source (an import not marked trusted: ``Run.cache_source``).
    Two queries per 500 fingerprints, plus the checks.
    """

    def _newest(self, wanted: Mapping[TaskKey, str]) -> dict[TaskKey, tuple[int, str]]:
        found: dict[tuple, tuple[Any, int, str]] = {}
        prints = sorted(set(wanted.values()))
        for start in range(0, len(prints), CACHE_LOOKUP_CHUNK):
            rows = (
                TaskResult.objects.filter(
                    fingerprint__in=prints[start : start + CACHE_LOOKUP_CHUNK],
                    error="",
                    run__cache_source=True,
                )
                .values_list(*CACHE_LOOKUP_FIELDS)
                .order_by()
            )
            for pk, scenario_id, skill, model, epoch, fingerprint, finished_at, run_id in rows:
                key = (scenario_id, skill, model, epoch)
                if wanted.get(key) != fingerprint:
                    continue
                held = found.get(key)
                if held is None or (finished_at, pk) > (held[0], held[1]):
                    found[key] = (finished_at, pk, run_id)
        return {key: (pk, run_id) for key, (_, pk, run_id) in found.items()}

    def hits(self, wanted: Mapping[TaskKey, str]) -> set[TaskKey]:
        return set(self._newest(wanted))

    def lookup(self, wanted: Mapping[TaskKey, str]) -> dict[TaskKey, tuple[ScoredRun, str]]:
        newest = self._newest(wanted)
        pks = [pk for pk, _ in newest.values()]
        tasks: dict[int, TaskResult] = {}
        for start in range(0, len(pks), CACHE_LOOKUP_CHUNK):
            chunk = TaskResult.objects.filter(pk__in=pks[start : start + CACHE_LOOKUP_CHUNK])
            tasks.update((t.pk, t) for t in chunk.prefetch_related("checks"))
        return {key: (scored_from_task(tasks[pk]), run_id) for key, (pk, run_id) in newest.items()}
