"""A cell's repeated samples: every sample of the run that holds a cell's newest result.

The newest-task ranking picks one task per (scenario, skill, model); a run with several
samples (``Run.epochs``) holds the others beside it. A cell's verdict is their majority and its
flaky mark their disagreement (``skillcheck.stats.sampled_verdict``); runs of one sample cost
no query here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from heatmap.models import CheckResult
from skillcheck.stats import SampledVerdict, sampled_verdict

CellKey = tuple[str, str, str]  # scenario, skill, model


def cell_samples(
    *, newest_runs: Mapping[CellKey, int], check_ids: Iterable[str] | None = None
) -> dict[tuple[str, str, str, str], SampledVerdict]:
    """(scenario, skill, model, check) → the verdict of its samples, for the cells whose newest
    result comes from a run of several samples; ``newest_runs`` maps a cell to that run's pk.

    Samples that errored are left out (a failed call's "unclear" is no verdict).
    """
    if not newest_runs:
        return {}
    rows = CheckResult.objects.filter(
        task__run_id__in=set(newest_runs.values()),
        task__scenario_id__in={key[0] for key in newest_runs},
        task__errored=False,
    )
    if check_ids is not None:
        rows = rows.filter(check_id__in=list(check_ids))
    results: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    for run_pk, scenario_id, skill, model, check_id, result in rows.values_list(
        "task__run_id", "task__scenario_id", "task__skill", "task__model", "check_id", "result"
    ).order_by():
        if newest_runs.get((scenario_id, skill, model)) == run_pk:
            results[(scenario_id, skill, model, check_id)].append(result)
    return {key: sampled_verdict(found) for key, found in results.items()}
