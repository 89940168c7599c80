"""Catalog records: which catalogs the app knows, and which one a page shows.

Every heatmap page shows one catalog: ``?catalog=NAME``, else the pinned run's, else the
configured one (``SKILLCHECK_CATALOG``). A catalog is read from its own folder; one known only
from imported reports, or whose folder is gone, is read from the configured catalog's files
instead (a stand-in: its checks and domains), with every skill it has results for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Count

from heatmap.models import Catalog as CatalogRecord
from heatmap.models import Run
from heatmap.selectors.catalog import catalog_current
from skillcheck.catalog import Catalog

NO_CATALOG = 0
"""The catalog id of a scope with no record yet (the configured catalog before its first
run): no task has it, so the scope shows no results."""


class UnknownCatalog(LookupError):
    """``?catalog=NAME`` names no catalog: its message lists the known ones."""


@dataclass(frozen=True)
class CatalogScope:
    """The catalog a page shows, and every catalog the header's switcher offers."""

    name: str
    record: CatalogRecord | None
    catalogs: tuple[CatalogRecord, ...]
    root: Path
    """The folder its skills, scenarios and checks are read from."""
    stand_in: bool = False
    """Read from the configured catalog's files: its own folder is not here."""
    configured: bool = False
    run: Run | None = None
    """The run the catalog was taken from (a page pinned to it), if any."""

    @property
    def catalog_id(self) -> int:
        return self.record.pk if self.record is not None else NO_CATALOG

    @property
    def names(self) -> list[str]:
        """The switcher's entries: every catalog, the configured one even before its run."""
        names = [c.name for c in self.catalogs]
        return names if self.name in names else [self.name, *names]

    @property
    def switchable(self) -> bool:
        return len(self.names) > 1

    @property
    def cannot_run(self) -> str:
        """Why no run can audit this catalog here ("" when one can): its files are not here."""
        if not self.stand_in:
            return ""
        return (
            f"catalog {self.name} has no folder here (it is known from imported reports): "
            "a run needs the catalog's files"
        )

    def load(self) -> Catalog:
        """The catalog's files, read afresh only when one changed (``catalog_current``)."""
        return catalog_current(self.root)


def catalog_list() -> list[CatalogRecord]:
    """Every catalog, by name. One query."""
    return list(CatalogRecord.objects.all())


def catalog_list_with_counts() -> list[tuple[CatalogRecord, int]]:
    """Every catalog, by name, with its number of runs. One query."""
    return [(c, c.run_count) for c in CatalogRecord.objects.annotate(run_count=Count("runs"))]


def _configured_root() -> Path:
    return Path(settings.SKILLCHECK_CATALOG).resolve()


def _usable_root(record: CatalogRecord) -> Path | None:
    return Path(record.root_path) if record.has_folder else None


def catalog_scope(*, name: str = "", run: Run | None = None) -> CatalogScope:
    """The catalog a request shows: ``name``, else ``run``'s, else the configured one.

    One query (the list of catalogs). ``UnknownCatalog`` when ``name`` names none.
    """
    catalogs = tuple(catalog_list())
    configured = _configured_root()
    record: CatalogRecord | None
    if run is not None:
        record = next((c for c in catalogs if c.pk == run.catalog_id), None)
    elif name:
        record = next((c for c in catalogs if c.name == name), None)
        if record is None:
            known = ", ".join(c.name for c in catalogs) or "none yet"
            raise UnknownCatalog(f"no catalog {name!r}; known: {known}")
    else:
        record = next((c for c in catalogs if c.root_path == str(configured)), None)
        if record is None:
            return CatalogScope(configured.name, None, catalogs, configured, configured=True)
    assert record is not None  # a run's catalog is in the list it was read with
    root = _usable_root(record)
    return CatalogScope(
        record.name,
        record,
        catalogs,
        root or configured,
        stand_in=root is None,
        configured=root == configured,
        run=run,
    )


def configured_catalog_id() -> int:
    """The id of the configured catalog's record (``NO_CATALOG`` before its first run): the
    scope of a read that names none. One query."""
    pk = (
        CatalogRecord.objects.filter(root_path=str(_configured_root()))
        .values_list("pk", flat=True)
        .first()
    )
    return pk if pk is not None else NO_CATALOG
