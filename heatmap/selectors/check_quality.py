"""The Checks page: which checks of the taxonomy tell an author something.

Per check, over the newest results of one catalog: on which models it is flaky (its pooled
dissent over its cells of several samples is more than a stable check's, ``stats.Dissent``)
and how many of its cells are marked flaky on the matrix, how far the models agree on it
(Fleiss' kappa across models, the raw agreement beside it), and whether it discriminates at
all (one verdict everywhere says nothing about a skill). A taxonomy maintainer reads it before
trusting or rewording a check.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from heatmap.models import CheckResult
from heatmap.selectors.filters import HeatmapFilter, model_order
from heatmap.selectors.newest import newest_task_ids
from heatmap.selectors.samples import cell_samples, check_and_model
from skillcheck.catalog import Catalog, Check
from skillcheck.stats import flaky_checks, fleiss_agreement, pool_dissent


@dataclass
class CheckQuality:
    check: Check
    cells: int  # scenario × skill × model cells with a verdict
    sampled: int  # of which from runs of several samples
    flaky: int  # of which flaky
    flaky_models: dict[str, float]  # model -> Holm-adjusted pooled p, where it is flaky
    kappa: float | None  # Fleiss' kappa across models (None: undefined)
    raw_agreement: float | None  # mean pairwise agreement across models
    subjects: int  # scenario × skill pairs that every model scored
    verdicts: dict[str, int]  # verdict -> cells

    @property
    def flaky_share(self) -> float | None:
        return self.flaky / self.sampled if self.sampled else None

    @property
    def flaky_on(self) -> list[str]:
        """The models the check is flaky on, in the configured order."""
        return model_order(self.flaky_models)

    @property
    def discriminates(self) -> bool | None:
        """False when every cell has the same verdict; None with fewer than two cells."""
        if self.cells < 2:
            return None
        return len(self.verdicts) > 1

    @property
    def only_verdict(self) -> str:
        """The verdict of every cell when the check does not discriminate, else ""."""
        return next(iter(self.verdicts)) if len(self.verdicts) == 1 else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check.id,
            "name": self.check.name,
            "group": self.check.group,
            "severity": self.check.severity,
            "cells": self.cells,
            "sampled_cells": self.sampled,
            "flaky_cells": self.flaky,
            "flaky_share": None if self.flaky_share is None else round(self.flaky_share, 3),
            "flaky_models": self.flaky_on,
            "kappa": None if self.kappa is None else round(self.kappa, 3),
            "raw_agreement": None if self.raw_agreement is None else round(self.raw_agreement, 3),
            "model_subjects": self.subjects,
            "verdicts": self.verdicts,
            "discriminates": self.discriminates,
        }


def _rank(row: CheckQuality) -> tuple:
    """Least telling first: most often flaky, then least agreed, then never discriminating."""
    return (
        -(row.flaky_share or 0.0),
        row.kappa if row.kappa is not None else 2.0,
        row.discriminates is not False,
        row.check.id,
    )


def heatmap_check_quality(*, catalog: Catalog, filters: HeatmapFilter) -> list[CheckQuality]:
    """Every model check of the catalog, least telling first. Two queries (three with samples)."""
    check_ids = [c.id for c in catalog.taxonomy.model_checks]
    rows = (
        CheckResult.objects.filter(
            task__in=newest_task_ids(**filters.task_filters()),
            task__errored=False,
            check_id__in=check_ids,
        )
        .values_list(
            *("task__scenario_id", "task__skill", "task__model", "check_id", "result"),
            *("task__run_id", "task__run__epochs"),
        )
        .order_by()
    )
    found: dict[tuple[str, str, str, str], str] = {}
    sampled_runs: dict[tuple[str, str, str], int] = {}
    for scenario_id, skill, model, check_id, result, run_pk, epochs in rows:
        found[(scenario_id, skill, model, check_id)] = result
        if epochs > 1:
            sampled_runs[(scenario_id, skill, model)] = run_pk
    samples = cell_samples(newest_runs=sampled_runs)  # flaky pools: these, the catalog's
    flaky_models: dict[str, dict[str, float]] = defaultdict(dict)
    for (check_id, model), p in flaky_checks(pool_dissent(samples, check_and_model)).items():
        flaky_models[check_id][model] = p
    verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    by_subject: dict[str, dict[tuple[str, str], dict[str, str]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    sampled: Counter[str] = Counter()
    flaky: Counter[str] = Counter()
    for key, result in found.items():
        scenario_id, skill, model, check_id = key
        majority = samples.get(key)
        if majority is not None:
            result = majority.verdict
            sampled[check_id] += majority.samples > 1
            flaky[check_id] += majority.flaky
        verdicts[check_id][result] += 1
        by_subject[check_id][(scenario_id, skill)][model] = result
    quality = []
    for check in catalog.taxonomy.model_checks:
        subjects = by_subject.get(check.id, {})
        models = sorted({m for ratings in subjects.values() for m in ratings})
        agreement = fleiss_agreement(
            [ratings[m] for m in models] for ratings in subjects.values() if len(ratings) > 1
        )
        quality.append(
            CheckQuality(
                check=check,
                cells=sum(verdicts[check.id].values()),
                sampled=sampled[check.id],
                flaky=flaky[check.id],
                flaky_models=flaky_models.get(check.id, {}),
                kappa=agreement.kappa,
                raw_agreement=agreement.raw,
                subjects=agreement.subjects,
                verdicts=dict(verdicts[check.id]),
            )
        )
    return sorted(quality, key=_rank)
