"""A cell's repeated samples: every sample of the run that holds a cell's newest result.

The newest-task ranking picks one task per (scenario, skill, model); a run with several
samples (``Run.epochs``) holds the others beside it. A cell's verdict is their majority
(``skillcheck.stats.sampled_verdict``). Its flaky mark is decided per check and model over
every such cell of the catalog (``stats.mark_flaky``): a domain's matrix reads the catalog's
pools (``flaky_pools``, kept per data version), so a cell is marked alike on every page.
Runs of one sample cost no query here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.core.cache import cache

from heatmap.models import CheckResult
from heatmap.selectors.filters import HeatmapFilter
from heatmap.selectors.newest import OVERVIEW_CACHE_S, newest_tasks, results_version
from skillcheck.stats import Dissent, SampledVerdict, mark_flaky, pool_dissent, sampled_verdict

CellKey = tuple[str, str, str]  # scenario, skill, model
SampleKey = tuple[str, str, str, str]  # scenario, skill, model, check
PoolKey = tuple[str, str]  # check, model


def check_and_model(key: SampleKey) -> PoolKey:
    """The flaky test's pool of a cell: its check on its model."""
    return (key[3], key[2])


def cell_samples(
    *,
    newest_runs: Mapping[CellKey, int],
    check_ids: Iterable[str] | None = None,
    pools: Mapping[PoolKey, Dissent] | None = None,
) -> dict[SampleKey, SampledVerdict]:
    """(scenario, skill, model, check) → the verdict of its samples, for the cells whose newest
    result comes from a run of several samples; ``newest_runs`` maps a cell to that run's pk.

    Flaky marks are decided per check and model over ``pools`` (the catalog's,
    ``flaky_pools``), or over these cells when none are given. Samples that errored are left
    out (a failed call's "unclear" is no verdict).
    """
    return cell_sample_results(newest_runs=newest_runs, check_ids=check_ids, pools=pools)[0]


def cell_sample_results(
    *,
    newest_runs: Mapping[CellKey, int],
    check_ids: Iterable[str] | None = None,
    pools: Mapping[PoolKey, Dissent] | None = None,
) -> tuple[dict[SampleKey, SampledVerdict], dict[SampleKey, dict[int, str]]]:
    """``cell_samples``, and every sample's verdict by its epoch (what a pass % counts)."""
    by_epoch = _sample_results(newest_runs, check_ids)
    verdicts = {key: sampled_verdict(found.values()) for key, found in by_epoch.items()}
    marked = mark_flaky(verdicts, check_and_model, pools) if verdicts else {}
    return marked, by_epoch


def _sampled_verdicts(
    newest_runs: Mapping[CellKey, int], check_ids: Iterable[str] | None
) -> dict[SampleKey, SampledVerdict]:
    """Each cell's majority of its samples, flaky not decided yet. One query."""
    found = _sample_results(newest_runs, check_ids)
    return {key: sampled_verdict(results.values()) for key, results in found.items()}


def _sample_results(
    newest_runs: Mapping[CellKey, int], check_ids: Iterable[str] | None
) -> dict[SampleKey, dict[int, str]]:
    """Each cell's samples' verdicts by epoch. One query."""
    if not newest_runs:
        return {}
    rows = CheckResult.objects.filter(
        task__run_id__in=set(newest_runs.values()),
        task__scenario_id__in={key[0] for key in newest_runs},
        task__errored=False,
    )
    if check_ids is not None:
        rows = rows.filter(check_id__in=list(check_ids))
    results: dict[SampleKey, dict[int, str]] = defaultdict(dict)
    for run_pk, scenario_id, skill, model, check_id, result, epoch in rows.values_list(
        *("task__run_id", "task__scenario_id", "task__skill", "task__model", "check_id"),
        *("result", "task__epoch"),
    ).order_by():
        if newest_runs.get((scenario_id, skill, model)) == run_pk:
            results[(scenario_id, skill, model, check_id)][epoch] = result
    return dict(results)


def sampled_newest_runs(*, filters: HeatmapFilter) -> dict[CellKey, int]:
    """The cells whose newest task (of ``filters``' scope) comes from a run of several
    samples, each with that run's pk. One query."""
    tasks = newest_tasks(**filters.task_filters()).values_list(
        "scenario_id", "skill", "model", "run_id", "run__epochs", "errored"
    )
    return {
        (scenario_id, skill, model): run_pk
        for scenario_id, skill, model, run_pk, epochs, errored in tasks
        if epochs > 1 and not errored
    }


def flaky_pools(
    *, filters: HeatmapFilter, version: tuple[int, int] | None = None
) -> dict[PoolKey, Dissent]:
    """Per check and model, the dissent of every cell of several samples among the newest
    results of ``filters``' catalog (or pinned run): what a cell's flaky mark is judged
    against. Kept per data version; two queries when not kept."""
    filters = filters.scoped()
    catalog_id = filters.scoped_catalog_id
    count, last = version or results_version(catalog_id=catalog_id)
    run_key = filters.run.pk if filters.run is not None else "*"
    key = f"heatmap:flaky-pools:v1:{catalog_id}:{run_key}:{count}-{last}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    verdicts = _sampled_verdicts(sampled_newest_runs(filters=filters), None)
    pools = pool_dissent(verdicts, check_and_model)
    cache.set(key, pools, OVERVIEW_CACHE_S)
    return pools
