"""The scenario editor's reads: a catalog's ``scenarios/`` files, whether they may be edited
here, templates for new ones, and what the catalog would be after a change (checked with the
catalog loader's own rules, nothing written).

A file is named by its *domain name*: the file's name without ``.yaml``, as the original
skill-checker's editor named files (``ecommerce``, ``wf_scenarios``).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from heatmap.models import ScenarioEdit
from heatmap.selectors.catalog import catalog_load
from heatmap.selectors.catalogs import CatalogScope
from skillcheck.bundled import EXAMPLE_CATALOG_DIR
from skillcheck.catalog import (
    Catalog,
    CatalogError,
    Domain,
    load_catalog,
    load_scenario_file,
    read_text,
    scenario_file_paths,
)
from skillcheck.catalog.files import is_inside

# The original's rule for a scenario file name (``^[a-z0-9_-]+\.yaml$``), bounded in length:
# a name goes in URLs and on disk, and needs no quoting in either.
DOMAIN_NAME = re.compile(r"[a-z0-9_-]{1,100}")
# Names that are pages or API routes of their own (/scenarios/new/, /api/scenarios/templates).
RESERVED_NAMES = frozenset({"new", "templates"})
SUFFIXES = (".yaml", ".yml")
BACKUP_SUFFIX = ".bak"


class ScenarioNameError(ValueError):
    """A domain name the editor refuses (not a file name it would write)."""


class ScenarioFileMissing(LookupError):
    """No scenario file of that name in the catalog."""


def scenario_domain_check(domain: str) -> str:
    """``domain`` if it can name a scenario file, else ``ScenarioNameError`` saying why."""
    if not DOMAIN_NAME.fullmatch(domain or ""):
        raise ScenarioNameError(
            f"{domain[:100]!r} cannot name a scenario file: use 1 to 100 lowercase letters, "
            "digits, '-' or '_' (the file is NAME.yaml in the catalog's scenarios folder)"
        )
    if domain in RESERVED_NAMES:
        raise ScenarioNameError(
            f"{domain!r} is reserved (it names a page or an API route); choose another name"
        )
    return domain


def scenario_may_edit(*, user: Any) -> bool:
    """Local mode: anyone; team mode: staff users only."""
    if not settings.SKILLCHECK_REQUIRE_LOGIN:
        return True
    return bool(getattr(user, "is_staff", False))


def scenario_edit_list(*, root: Path, limit: int = 10) -> list[ScenarioEdit]:
    """The catalog's newest editor changes, newest first. One query."""
    return list(
        ScenarioEdit.objects.filter(catalog__root_path=str(root)).select_related("user")[:limit]
    )


def scenario_folder(root: Path) -> Path:
    return root / "scenarios"


def scenario_path(*, root: Path, domain: str, existing: bool = True) -> Path:
    """The file of ``domain`` in the catalog's scenarios folder: ``NAME.yaml`` (or an existing
    ``NAME.yml``). ``existing``: ``ScenarioFileMissing`` when there is none. A name that is
    not a plain file inside the catalog (a link out of it, a folder) is missing too."""
    scenario_domain_check(domain)
    folder = scenario_folder(root)
    candidates = [folder / f"{domain}{suffix}" for suffix in SUFFIXES]
    found = next((p for p in candidates if p.is_file() and is_inside(p, root)), None)
    if found is not None:
        return found
    if existing or any(p.exists() or p.is_symlink() for p in candidates):
        raise ScenarioFileMissing(f"no scenario file {domain!r} in catalog {root.name}")
    return candidates[0]


def scenario_edit_refusal(scope: CatalogScope) -> str:
    """Why this catalog's scenario files cannot be edited here ("" when they can): a
    catalog without its folder, the bundled example, a folder this server cannot write."""
    if scope.stand_in:
        return scope.cannot_run.replace("a run needs", "editing needs")
    root = scope.root.resolve()
    if root == EXAMPLE_CATALOG_DIR.resolve():
        return (
            "this is the bundled example catalog, which is not edited here (an upgrade would "
            "replace it): copy its folder and serve the copy (skillcheck serve --catalog DIR, "
            "or SKILLCHECK_CATALOG=DIR)"
        )
    folder = scenario_folder(root)
    if not folder.is_dir() or not is_inside(folder, root):
        return f"catalog {scope.name} has no scenarios folder inside it"
    # Its mode too: a superuser may write where the mode says nobody should.
    if not os.access(folder, os.W_OK | os.X_OK) or not folder.stat().st_mode & 0o222:
        return f"catalog {scope.name}'s scenarios folder is read-only on this server"
    return ""


def scenario_file_version(text: str) -> str:
    """What an editor sends back to say which version it changed: the SHA-256 of the text
    as read (``read_text``), which for a valid file is its bytes'."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class ScenarioFile:
    """A file of the scenarios folder, as the list shows it."""

    domain: str
    file: str
    size: int
    loaded: Domain | None = None
    """What the catalog made of it (``None``: not loaded, or every scenario skipped)."""
    has_backup: bool = False


def scenario_file_list(*, root: Path, catalog: Catalog | None) -> list[ScenarioFile]:
    """The catalog's scenario files in load order, with what the catalog loaded of each (the
    catalog may be ``None``: unusable, and the files are listed all the same)."""
    by_source = {d.source.name: d for d in catalog.domains.values()} if catalog else {}
    rows = []
    for path in scenario_file_paths(root):
        domain = path.name.rsplit(".", 1)[0]
        if not DOMAIN_NAME.fullmatch(domain) or not is_inside(path, root) or not path.is_file():
            continue  # not a name the editor writes, or a link out of the catalog
        rows.append(
            ScenarioFile(
                domain=domain,
                file=path.name,
                size=path.stat().st_size,
                loaded=by_source.get(path.name),
                has_backup=path.with_name(path.name + BACKUP_SUFFIX).is_file(),
            )
        )
    return rows


@dataclass(frozen=True)
class ScenarioText:
    domain: str
    file: str
    text: str
    version: str


def scenario_file_read(*, root: Path, domain: str) -> ScenarioText:
    """A scenario file's text as it is on disk (``ScenarioFileMissing``, ``CatalogError`` for
    one over the size limit or not UTF-8)."""
    path = scenario_path(root=root, domain=domain)
    text = read_text(path, settings.SKILLCHECK_MAX_DOCUMENT_BYTES)
    return ScenarioText(
        domain=domain, file=path.name, text=text, version=scenario_file_version(text)
    )


# --- Templates ------------------------------------------------------------------------------


def scenario_templates(*, catalog: Catalog | None, domain: str = "my-domain") -> dict[str, str]:
    """A new file's text, one per kind, as the original's templates: a domain file (one
    specialist skill) and a category file (scenarios across skills). Filled from the catalog
    (a specialist of its manifest, a check group no file uses yet) so that each loads as is."""
    skills = list(catalog.skills.values()) if catalog else []
    specialist = next((s.name for s in skills if not s.generalist), "my-skill")
    groups = [g.lower() for g in catalog.taxonomy.groups] if catalog else ["wf"]
    used = set(catalog.domains) if catalog else set()
    group = next((g for g in groups if g not in used), groups[0] if groups else "wf")
    return {
        "domain": (
            f"domain: {domain}\n"
            f"target_skill: {specialist}\n"
            "\n"
            "scenarios:\n"
            f"  - id: {domain}-1\n"
            '    name: "New scenario"\n'
            '    prompt: "Describe the task here, as a user would ask it"\n'
        ),
        "category": (
            f"category: {group.upper()}\n"
            "\n"
            "scenarios:\n"
            f"  - id: {domain}-1\n"
            '    name: "New scenario"\n'
            f"    target_skill: {specialist}\n"
            '    prompt: "Describe the task here, as a user would ask it"\n'
        ),
    }


# --- Checking a change ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeCheck:
    """What the catalog would be after writing (or deleting) one scenario file."""

    file: str
    refusal: CatalogError | None = None
    """Why the change is refused: a problem in this file, or one it makes elsewhere."""
    catalog: Catalog | None = None
    """The catalog after the change (``None`` when it would not load)."""
    still_broken: CatalogError | None = None
    """Accepted, but the catalog stays unusable for a problem it had before, elsewhere."""
    warnings: list[str] = field(default_factory=list)
    """The catalog's warnings about this file (a scenario skipped: its skill is unknown)."""

    @property
    def ok(self) -> bool:
        return self.refusal is None


def _load(root: Path, texts: dict[str, str | None] | None = None) -> Catalog:
    return load_catalog(
        root,
        max_document_bytes=settings.SKILLCHECK_MAX_DOCUMENT_BYTES,
        max_skill_bytes=settings.SKILLCHECK_MAX_SKILL_BYTES,
        scenario_texts=texts,
    )


def _error_before(root: Path) -> CatalogError | None:
    try:
        catalog_load(path=root)
    except CatalogError as exc:
        return exc
    return None


def scenario_change_check(*, root: Path, file: str, text: str | None) -> ChangeCheck:
    """Whether ``scenarios/FILE`` may hold ``text`` (``None``: be deleted), by the loader's
    rules: the catalog must load after the change. A catalog already unusable for another
    file's sake does not block the change: then this file is checked on its own, and the
    answer says the catalog is still unusable."""
    root = root.resolve()
    try:
        after = _load(root, {file: text})
    except CatalogError as exc:
        after_error = exc
    else:
        mine = [w for w in after.warnings if f"/scenarios/{file}:" in w]
        return ChangeCheck(file=file, catalog=after, warnings=mine)
    if after_error.path.name == file and after_error.path.parent.name == "scenarios":
        return ChangeCheck(file=file, refusal=after_error)
    before = _error_before(root)
    if before is None:  # this change breaks a catalog that loads
        return ChangeCheck(file=file, refusal=after_error)
    if text is not None:
        try:
            load_scenario_file(
                root, file, text, max_document_bytes=settings.SKILLCHECK_MAX_DOCUMENT_BYTES
            )
        except CatalogError as exc:  # in this file, or the manifest it is checked against
            return ChangeCheck(file=file, refusal=exc)
    return ChangeCheck(file=file, still_broken=after_error)
