"""What a heatmap view shows: the filters kept in the query string, and the model order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings

from heatmap.models import Run
from heatmap.selectors.catalogs import configured_catalog_id
from skillcheck.catalog import Catalog, Check
from skillcheck.vocabulary import Severity

SORTS = ("pass", "fails", "surely")
SEVERITIES = tuple(reversed(Severity))  # most severe first, as the filter lists them


@dataclass(frozen=True)
class HeatmapFilter:
    """The filters of the overview and the matrices, kept in the query string.

    ``models`` empty means every model; ``severity`` is a minimum (``HIGH`` keeps CRITICAL and
    HIGH); ``run`` pins the view to one run instead of the newest result across runs.

    ``catalog_id``: the catalog shown (``CatalogScope.catalog_id``); ``None``, the configured
    one (``scoped`` looks it up). ``include_removed``: also the skills the catalog no longer
    has (``?include=removed``), which are left out otherwise.
    """

    models: tuple[str, ...] = ()
    group: str = ""
    severity: str = ""
    failures: bool = False
    query: str = ""
    run: Run | None = None
    # The overview's order: "" by skill, "pass" lowest pass % first, "surely" lowest lower bound
    # of the pass %'s 95 % interval first (surely worst first), "fails"
    sort: str = ""
    catalog_id: int | None = None
    include_removed: bool = False
    check: str = ""  # one check only (the overview's failing-check chips link to it)

    @property
    def narrows_checks(self) -> bool:
        return bool(self.group or self.severity or self.check)

    @property
    def active(self) -> bool:
        return bool(self.models or self.narrows_checks or self.failures or self.query)

    def checks(self, catalog: Catalog) -> list[Check]:
        """The model checks this filter keeps, in the taxonomy's order."""
        floor = Severity.rank_of(self.severity) if self.severity else -1
        return [
            c
            for c in catalog.taxonomy.model_checks
            if (not self.group or c.group == self.group)
            and (not self.check or c.id == self.check)
            and Severity.rank_of(c.severity) >= floor
        ]

    def scoped(self) -> HeatmapFilter:
        """This filter with its catalog named: the configured one when none is."""
        if self.catalog_id is not None:
            return self
        return replace(self, catalog_id=configured_catalog_id())

    @property
    def scoped_catalog_id(self) -> int:
        """The catalog of a ``scoped`` filter."""
        assert self.catalog_id is not None, "scope the filter first (HeatmapFilter.scoped)"
        return self.catalog_id

    def task_filters(self) -> dict[str, Any]:
        """The task rows this filter reads (of a ``scoped`` filter: one catalog's)."""
        assert self.catalog_id is not None, "scope the filter first (HeatmapFilter.scoped)"
        found: dict[str, Any] = {"catalog_id": self.catalog_id}
        if self.run is not None:
            found["run"] = self.run
        return found

    def keeps_model(self, model: str) -> bool:
        return not self.models or model in self.models


def model_order(models: Iterable[str]) -> list[str]:
    """Models in the configured order (``heuristic``, then ``SKILLCHECK_MODELS``), others after."""
    rank = {m: i for i, m in enumerate(["heuristic", *settings.SKILLCHECK_MODELS])}
    return sorted(set(models), key=lambda m: (rank.get(m, len(rank)), m))
