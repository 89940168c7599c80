"""The catalog, loaded once per content change."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from django.conf import settings

from skillcheck.catalog import Catalog, CatalogError, load_catalog

# ``CatalogError``: what ``catalog_load`` raises, for its callers to catch from here.
__all__ = ["CatalogError", "catalog_current", "catalog_digest", "catalog_load"]

_catalog_lock = threading.Lock()
_catalog_cache: dict[Path, tuple[tuple, Catalog, str]] = {}


def _catalog_signature(root: Path) -> tuple:
    """Cheap change detector: names, sizes and mtimes of every file under the catalog."""
    stats = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            stat = path.stat()
            stats.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(stats)


def catalog_load(*, path: Path | str | None = None) -> Catalog:
    """The catalog at ``path`` (the configured one by default), read afresh within the
    configured limits; ``CatalogError`` says why it is unusable. Every reader goes through
    here or ``catalog_current``."""
    return load_catalog(
        path or settings.SKILLCHECK_CATALOG,
        max_document_bytes=settings.SKILLCHECK_MAX_DOCUMENT_BYTES,
        max_skill_bytes=settings.SKILLCHECK_MAX_SKILL_BYTES,
    )


def catalog_current(path: Path | str | None = None) -> Catalog:
    """The configured catalog, re-read only when one of its files changed."""
    root = Path(path or settings.SKILLCHECK_CATALOG).resolve()
    signature = _catalog_signature(root)
    with _catalog_lock:
        cached = _catalog_cache.get(root)
        if cached and cached[0] == signature:
            return cached[1]
        catalog = catalog_load(path=root)
        digest = hashlib.sha256(repr(signature).encode()).hexdigest()[:16]
        _catalog_cache[root] = (signature, catalog, digest)
        return catalog


def catalog_digest(*, catalog: Catalog) -> str:
    """A short digest of the files ``catalog`` was read from (as ``catalog_current`` last saw
    them): the same in every process that reads the same files, so it can key shared caches."""
    with _catalog_lock:
        for _, held, digest in _catalog_cache.values():
            if held is catalog:
                return digest
    return hashlib.sha256(repr(_catalog_signature(catalog.root)).encode()).hexdigest()[:16]
