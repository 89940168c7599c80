"""A skill's files as a run saw them, and what changed between two runs.

The text comes from ``SkillSnapshot`` (kept per version since runs store them), or from the
files on disk when they still have that version's fingerprint. A version whose text is in
neither (a run from before snapshots, files edited since) is named by its hash only.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from heatmap.models import SkillSnapshot
from skillcheck.catalog import Catalog, CatalogError
from skillcheck.catalog.model import files_fingerprint

# Lines of context around a change, and the most diff lines a skill shows (the rest counted).
DIFF_CONTEXT = 2
DIFF_LIMIT = 400

Files = dict[str, tuple[str, str]]  # path -> (sha256, text)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # hunk | add | del | same
    text: str
    old: int | None = None
    new: int | None = None


@dataclass
class FileChange:
    path: str
    status: str  # added | removed | edited | same
    before_sha: str = ""
    after_sha: str = ""
    diff: list[DiffLine] = field(default_factory=list)


@dataclass
class SkillVersions:
    """Two versions of a skill's files (fingerprints ``before`` and ``after``)."""

    before: str
    after: str
    files: list[FileChange] = field(default_factory=list)
    missing: tuple[str, ...] = ()  # "before", "after": a side whose text is not kept
    cut: int = 0  # diff lines left out past DIFF_LIMIT
    on_disk: bool = False  # the files on disk are the ``after`` version: lines link to them

    @property
    def changed(self) -> list[FileChange]:
        return [f for f in self.files if f.status != "same"]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _disk(catalog: Catalog, skill: str) -> tuple[str, Files]:
    """The skill's current fingerprint and files; ("", {}) when it is gone or unreadable."""
    found = catalog.skills.get(skill)
    if found is None:
        return "", {}
    try:
        files = found.files()
    except (CatalogError, OSError):
        return "", {}
    return files_fingerprint(files), {path: (_sha(text), text) for path, text in files}


def skill_snapshot_files(*, fingerprints: Iterable[str]) -> dict[str, Files]:
    """The kept files of each of these versions (fingerprint -> path -> (sha256, text))."""
    rows = SkillSnapshot.objects.filter(fingerprint__in={f for f in fingerprints if f})
    return {
        row.fingerprint: {f["path"]: (f["sha256"], f["text"]) for f in row.files}
        for row in rows.only("fingerprint", "files")
    }


def _diff(before: str, after: str) -> list[DiffLine]:
    """A unified diff of two texts as lines with their numbers on each side."""
    a, b = before.splitlines(), after.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for group in matcher.get_grouped_opcodes(DIFF_CONTEXT):
        first, last = group[0], group[-1]
        lines.append(
            DiffLine(
                "hunk",
                f"@@ -{first[1] + 1},{last[2] - first[1]} +{first[3] + 1},{last[4] - first[3]} @@",
            )
        )
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [
                    DiffLine("same", a[i1 + k], i1 + k + 1, j1 + k + 1) for k in range(i2 - i1)
                ]
                continue
            lines += [DiffLine("del", a[i], old=i + 1) for i in range(i1, i2)]
            lines += [DiffLine("add", b[j], new=j + 1) for j in range(j1, j2)]
    return lines


def skill_versions(
    *, catalog: Catalog, skill: str, before: str, after: str, kept: dict[str, Files]
) -> SkillVersions:
    """What changed in ``skill``'s files from version ``before`` to ``after``: per file, added,
    removed, edited (with its diff) or the same; ``kept`` as ``skill_snapshot_files`` gives."""
    versions = SkillVersions(before, after)
    current, disk = _disk(catalog, skill)
    versions.on_disk = bool(current) and current == after
    sides = [kept.get(before) or (disk if current == before else None),
             kept.get(after) or (disk if versions.on_disk else None)]  # fmt: skip
    versions.missing = tuple(
        n for n, s in zip(("before", "after"), sides, strict=True) if s is None
    )
    old, new = sides
    if old is None or new is None:
        known = old or new or {}
        versions.files = [
            FileChange(p, "unknown", *((sha, "") if old else ("", sha)))
            for p, (sha, _) in known.items()
        ]
        return versions
    budget = DIFF_LIMIT
    for path in list(old) + [p for p in new if p not in old]:
        if path not in new:
            versions.files.append(FileChange(path, "removed", before_sha=old[path][0]))
            continue
        if path not in old:
            change = FileChange(path, "added", after_sha=new[path][0])
            diff = _diff("", new[path][1])
        elif old[path][0] == new[path][0]:
            versions.files.append(FileChange(path, "same", old[path][0], new[path][0]))
            continue
        else:
            change = FileChange(path, "edited", old[path][0], new[path][0])
            diff = _diff(old[path][1], new[path][1])
        change.diff = diff[: max(budget, 0)]
        versions.cut += len(diff) - len(change.diff)
        budget -= len(change.diff)
        versions.files.append(change)
    return versions
