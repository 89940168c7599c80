"""What ``lint PATH…`` lints: skills named by their SKILL.md, their folder, or a folder of them.

A skill repository need not be a catalog (no manifest, no scenarios) for its skills to be
linted, and pre-commit passes just the changed SKILL.md files. Each skill is keyed by its
folder relative to ``base`` (two skills may share a folder name in different places).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from skillcheck.catalog.files import CatalogError
from skillcheck.catalog.model import Skill

SKILL_FILE = "SKILL.md"
# Folders never searched for skills: version control, environments, caches, build output.
SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "site-packages", "dist", "build"})


def _found_in(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob(SKILL_FILE)):
        parts = path.relative_to(folder).parts[:-1]
        if any(p.startswith(".") or p in SKIPPED_FOLDERS for p in parts):
            continue
        found.append(path)
    return found


def skills_at(paths: Iterable[Path | str], base: Path | None = None) -> dict[str, Skill]:
    """The skills at ``paths``; a path that is neither a SKILL.md nor holds one is an error."""
    base = (base or Path.cwd()).resolve()
    skills: dict[str, Skill] = {}
    for given in paths:
        path = Path(given)
        if path.is_file() and path.name == SKILL_FILE:
            files = [path]
        elif path.is_dir():
            files = _found_in(path)
            if not files:
                raise CatalogError(path, f"no {SKILL_FILE} in this folder or below")
        elif path.exists():
            raise CatalogError(path, f"not a {SKILL_FILE} file or a folder of skills")
        else:
            raise CatalogError(path, "no such file or folder")
        for skill_file in files:
            resolved = skill_file.resolve()
            try:
                key = resolved.parent.relative_to(base).as_posix()
            except ValueError:
                key = resolved.parent.as_posix()
            skills[key] = Skill(name=key if key != "." else resolved.parent.name, path=resolved)
    return skills
