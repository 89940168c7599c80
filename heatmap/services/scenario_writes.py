"""What every scenario editor action shares: one writer at a time per catalog, the previous
version kept as ``FILE.bak``, atomic replacement, and a ``ScenarioEdit`` row naming the user.

The actions themselves are ``scenario_save`` (an existing file), ``scenario_create`` and
``scenario_delete``, one a module.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from heatmap import selectors
from heatmap.models import ScenarioEdit
from heatmap.selectors.scenario_files import BACKUP_SUFFIX, ChangeCheck
from heatmap.selectors.scenario_files import scenario_file_version as file_version
from heatmap.services.catalogs import catalog_for_path
from skillcheck.catalog import read_text
from skillcheck.reports import atomic_write_bytes


class ScenarioRefused(Exception):
    """A change the editor does not make, with the HTTP status that says why: 400 the text
    or name is invalid (``check`` says where), 404 no such file, 409 the catalog cannot be
    edited, the file exists already, or it changed since the editor read it."""

    def __init__(self, message: str, status: int = 400, check: ChangeCheck | None = None):
        super().__init__(message)
        self.status = status
        self.check = check


@dataclass(frozen=True)
class ScenarioChange:
    """A change made: the file, its new version ("" once deleted), and the catalog after it."""

    domain: str
    file: str
    action: str
    version: str
    check: ChangeCheck
    backup: str = ""  # the .bak's name, when one was written
    edit: ScenarioEdit | None = None


def scenario_root(scope: selectors.CatalogScope) -> Path:
    """The catalog folder, if its scenarios may be edited here; else ``ScenarioRefused``."""
    refusal = selectors.scenario_edit_refusal(scope)
    if refusal:
        raise ScenarioRefused(f"cannot edit: {refusal}", status=409)
    return scope.root.resolve()


@contextmanager
def scenario_lock(root: Path) -> Iterator[None]:
    """One editor change at a time per catalog, across processes (``flock`` on the scenarios
    folder): the check, the backup and the write see the same files."""
    fd = os.open(root / "scenarios", os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def current_text(path: Path) -> str:
    return read_text(path, settings.SKILLCHECK_MAX_DOCUMENT_BYTES)


def require_version(path: Path, text: str, version: str | None) -> None:
    """``ScenarioRefused`` (409) when the editor changed another version than the one on disk:
    someone saved meanwhile, and writing over it would lose their change."""
    if version and version != file_version(text):
        raise ScenarioRefused(
            f"scenarios/{path.name} changed since it was opened (someone saved it meanwhile); "
            "reload it, and make the change again",
            status=409,
        )


def require_valid(check: ChangeCheck) -> None:
    """``ScenarioRefused`` (400) carrying the loader's ``CatalogError`` (its file, line and
    column) when the change is refused."""
    if check.refusal is not None:
        raise ScenarioRefused(str(check.refusal), status=400, check=check)


def fsync_folder(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (the file's own fsync does not)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def keep_backup(path: Path, data: bytes) -> Path:
    """``FILE.bak`` holds ``data`` (the version being replaced or deleted), written atomically."""
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    atomic_write_bytes(backup, data)
    return backup


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (temp file, fsync, ``os.replace``), keeping
    the old file's permissions, and make the rename durable."""
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    atomic_write_bytes(path, text.encode("utf-8"))
    if mode is not None:
        os.chmod(path, mode)
    fsync_folder(path.parent)


def existing_file(scope: selectors.CatalogScope, domain: str) -> tuple[Path, Path]:
    """(the catalog folder, the file of ``domain``) for a change to a file that exists;
    ``ScenarioRefused``: 409 not editable here, 400 not a name, 404 no such file."""
    root = scenario_root(scope)
    try:
        return root, selectors.scenario_path(root=root, domain=domain)
    except selectors.ScenarioNameError as exc:
        raise ScenarioRefused(str(exc), status=400) from None
    except selectors.ScenarioFileMissing as exc:
        raise ScenarioRefused(str(exc), status=404) from None


def read_for_change(path: Path, version: str | None) -> tuple[bytes, str]:
    """The file's bytes (for its ``.bak``) and text, refused (409) if it is not ``version``."""
    data = path.read_bytes()
    text = current_text(path)
    require_version(path, text, version)
    return data, text


def record_change(
    *,
    root: Path,
    path: Path,
    domain: str,
    action: str,
    user: Any,
    before: str,
    after: str | None,
    check: ChangeCheck,
    backup: Path | None = None,
) -> ScenarioChange:
    """The ``ScenarioEdit`` row of a change made (the catalog registered if this is its
    first), and the change as the caller answers it."""
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    catalog = check.catalog
    edit = ScenarioEdit.objects.create(
        catalog=catalog_for_path(root=root, loaded=False),
        file=path.name,
        action=action,
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        sha256_before=file_version(before) if before else "",
        sha256_after=file_version(after) if after is not None else "",
        pairs=sum(len(s.target_skills) for s in catalog.scenarios) if catalog else None,
    )
    return ScenarioChange(
        domain=domain,
        file=path.name,
        action=action,
        version=file_version(after) if after is not None else "",
        check=check,
        backup=backup.name if backup else "",
        edit=edit,
    )


__all__ = [
    "ScenarioChange",
    "ScenarioRefused",
    "existing_file",
    "fsync_folder",
    "keep_backup",
    "read_for_change",
    "record_change",
    "require_valid",
    "scenario_lock",
    "scenario_root",
    "write_text",
]
