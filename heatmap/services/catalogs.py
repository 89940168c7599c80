"""Catalog records: registered on first use, renamed on request.

A run belongs to the catalog it audits. The first run of a folder registers it, named after
the folder (``catalog``, ``apify-skills``) unless a name is given; later runs find it by its
resolved folder and refresh its fingerprint and load time. A report imported without its
catalog's folder goes to an "imported" catalog named after the report's folder.
"""

from __future__ import annotations

from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone

from heatmap.models import Catalog
from heatmap.services.plans import RunRequestError
from skillcheck.catalog import Catalog as LoadedCatalog

NAME_MAX: int = Catalog._meta.get_field("name").max_length or 100
IMPORTED_SUFFIX = "-imported"


def catalog_name_check(name: str) -> str:
    """``name`` stripped, or ``RunRequestError`` saying why it cannot name a catalog.

    A name goes in URLs (``?catalog=NAME``) and the header's switcher: short, one line.
    """
    name = (name or "").strip()
    if not name:
        raise RunRequestError("a catalog name cannot be empty")
    if len(name) > NAME_MAX:
        raise RunRequestError(f"a catalog name has at most {NAME_MAX} characters")
    if any(ch in name for ch in "\r\n\t\0/"):
        raise RunRequestError("a catalog name is one line without '/'")
    return name


def _free_name(wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``… when another catalog holds it already."""
    base = "".join(" " if ch in "\r\n\t\0/" else ch for ch in wanted).strip()
    base = (base or "catalog")[: NAME_MAX - 10]
    taken = set(Catalog.objects.filter(name__startswith=base).values_list("name", flat=True))
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def catalog_rename(*, catalog: Catalog, name: str) -> Catalog:
    """Give ``catalog`` another name; ``RunRequestError`` when another catalog has it."""
    name = catalog_name_check(name)
    if name == catalog.name:
        return catalog
    if Catalog.objects.filter(name=name).exclude(pk=catalog.pk).exists():
        raise RunRequestError(f"another catalog is named {name!r} already")
    catalog.name = name
    try:
        with transaction.atomic():
            catalog.save(update_fields=["name"])
    except IntegrityError:  # taken meanwhile
        raise RunRequestError(f"another catalog is named {name!r} already") from None
    return catalog


def catalog_for_path(
    *, root: Path | str, fingerprint: str = "", name: str | None = None, loaded: bool = True
) -> Catalog:
    """The record of the catalog folder ``root``, created on first use.

    ``fingerprint``: the catalog's content as just loaded (kept as its current one, with the
    load time, when ``loaded``). ``name`` renames an existing record, or names a new one
    (default: the folder's name, made unique with ``-2``, ``-3``…).
    """
    root_path = str(root)
    wanted = catalog_name_check(name) if name is not None else None
    for _attempt in range(3):
        record = Catalog.objects.filter(root_path=root_path).first()
        if record is None:
            if wanted and Catalog.objects.filter(name=wanted).exists():
                raise RunRequestError(f"another catalog is named {wanted!r} already")
            try:
                with transaction.atomic():
                    record = Catalog.objects.create(
                        name=wanted or _free_name(Path(root_path).name),
                        root_path=root_path,
                        fingerprint=fingerprint,
                        loaded_at=timezone.now() if loaded else None,
                    )
            except IntegrityError:  # another process registered it (or took the name)
                continue
            return record
        if wanted:
            record = catalog_rename(catalog=record, name=wanted)
        if loaded and fingerprint:
            record.fingerprint, record.loaded_at = fingerprint, timezone.now()
            Catalog.objects.filter(pk=record.pk).update(
                fingerprint=record.fingerprint, loaded_at=record.loaded_at
            )
        return record
    raise RunRequestError(f"could not register the catalog at {root_path}; retry")


def catalog_register(*, catalog: LoadedCatalog, name: str | None = None) -> Catalog:
    """The record of a loaded catalog, created on its first run, with its fingerprint now."""
    assert catalog.root is not None  # a loaded catalog knows its folder
    return catalog_for_path(root=catalog.root, fingerprint=catalog.fingerprint(), name=name)


def _imported_names(base: str):
    yield base
    yield f"{base}{IMPORTED_SUFFIX}"
    n = 2
    while True:
        yield f"{base}{IMPORTED_SUFFIX}-{n}"
        n += 1


def catalog_imported(*, folder_name: str) -> Catalog:
    """The "imported" catalog of reports found in ``folder_name`` that do not say their catalog.

    Named after that folder; when a registered catalog has that name, ``NAME-imported``.
    """
    base = (folder_name or "imported")[: NAME_MAX - 20]
    names = _imported_names(base)
    name = next(names)
    while True:
        found = Catalog.objects.filter(name=name).first()
        if found is not None and found.imported:
            return found
        if found is None:
            try:
                with transaction.atomic():
                    return Catalog.objects.create(
                        name=name, imported=True, loaded_at=timezone.now()
                    )
            except IntegrityError:  # created meanwhile: look at the same name again
                continue
        name = next(names)
