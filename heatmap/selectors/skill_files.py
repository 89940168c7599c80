"""The skill viewer's reads: a skill's files (SKILL.md and the references the auditor reads),
one file's lines with the linter's findings and the failing checks' evidence pinned to them,
its frontmatter, and whether the skill changed since the run shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from heatmap.models import CheckResult, Run, TaskResult
from heatmap.selectors.lint import lint_matrix
from heatmap.selectors.newest import newest_task_ids
from skillcheck.catalog import Catalog, Skill
from skillcheck.catalog.files import read_text, safe_yaml_load
from skillcheck.citations import find_citations
from skillcheck.fingerprints import skill_fingerprint
from skillcheck.vocabulary import Result

SKILL_FILE = "SKILL.md"
# A failing check's evidence is shown on its line up to this length (the cell detail has it all).
PIN_TEXT_LIMIT = 400


class SkillFileNotFound(LookupError):
    """No such skill in the catalog, or no such file among the ones the auditor reads."""


@dataclass(frozen=True)
class Pin:
    """A note on one line: a linter finding (``kind="lint"``) or a failing check's evidence."""

    kind: str
    check_id: str
    text: str
    model: str = ""
    scenario_id: str = ""
    result: str = ""


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    pins: tuple[Pin, ...] = ()


@dataclass
class SkillFile:
    skill: str
    path: str
    """Relative to the skill's folder, with ``/``: what the URL and citations name."""
    files: list[str]
    lines: list[Line]
    frontmatter: list[tuple[str, str]] = field(default_factory=list)
    frontmatter_end: int = 0
    """The frontmatter's last line (its closing ``---``), 0 when there is none."""
    changed: bool | None = None
    """Whether the skill's files differ from the ones the run (or the newest results) saw;
    None when no result of the skill records them."""
    since_run: str = ""

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def is_markdown(self) -> bool:
        return self.path.endswith(".md")

    @property
    def pinned(self) -> int:
        return sum(len(line.pins) for line in self.lines)


def _skill(catalog: Catalog, name: str) -> Skill:
    skill = catalog.skills.get(name)
    if skill is None:
        raise SkillFileNotFound(f"no skill {name!r} in this catalog")
    return skill


def skill_file_names(*, catalog: Catalog, skill: str) -> list[str]:
    """The files the auditor reads for ``skill``, relative to its folder: SKILL.md first."""
    found = _skill(catalog, skill)
    paths, _ = found.document_paths()  # only files inside the skill's folder
    return [p.relative_to(found.root).as_posix() for p in paths]


def _frontmatter(lines: list[str]) -> tuple[list[tuple[str, str]], int]:
    """SKILL.md's frontmatter as (key, value) rows, and its closing line; ([], 0) if none or
    unreadable (the linter reports a broken frontmatter on its line)."""
    if not lines or lines[0].strip() != "---":
        return [], 0
    for index, text in enumerate(lines[1:], start=1):
        if text.strip() == "---":
            try:
                data = safe_yaml_load("\n".join(lines[1:index]))
            except Exception:  # any YAML problem: shown as source only
                return [], index + 1
            if not isinstance(data, dict):
                return [], index + 1
            return [(str(k), str(v)) for k, v in data.items()], index + 1
    return [], 0


def _task_rows(*, catalog_id: int, skill: str, run: Run | None):
    if run is not None:
        return TaskResult.objects.filter(run=run, skill=skill)
    return TaskResult.objects.filter(pk__in=newest_task_ids(catalog_id=catalog_id, skill=skill))


def _check_pins(*, catalog_id: int, skill: str, run: Run | None, path: str) -> dict[int, list[Pin]]:
    """The failing checks whose evidence cites ``path``, per cited line."""
    pins: dict[int, list[Pin]] = {}
    rows = (
        CheckResult.objects.filter(
            task__in=_task_rows(catalog_id=catalog_id, skill=skill, run=run).values("pk"),
            result=Result.FAIL,
        )
        .values_list("check_id", "evidence", "task__model", "task__scenario_id")
        .order_by("check_id", "task__model", "task__scenario_id")
    )
    for check_id, evidence, model, scenario_id in rows:
        for citation in find_citations(evidence):
            if citation.file == path:
                text = evidence[:PIN_TEXT_LIMIT] + ("…" if len(evidence) > PIN_TEXT_LIMIT else "")
                pin = Pin("check", check_id, text, model, scenario_id, Result.FAIL)
                pins.setdefault(citation.line, []).append(pin)
    return pins


def _changed_since(*, skill: Skill, catalog_id: int, run: Run | None) -> tuple[bool | None, str]:
    row = (
        _task_rows(catalog_id=catalog_id, skill=skill.name, run=run)
        .exclude(skill_fingerprint="")
        .select_related("run")
        .order_by("-finished_at", "-pk")
        .first()
    )
    if row is None:
        return None, run.run_id if run is not None else ""
    current = skill_fingerprint(skill)
    return (current != row.skill_fingerprint if current else None), row.run.run_id


def skill_file(
    *, catalog: Catalog, skill: str, path: str, catalog_id: int, run: Run | None = None
) -> SkillFile:
    """One of ``skill``'s files as lines with their pins; ``SkillFileNotFound`` for a file the
    auditor does not read (outside the folder, a link out of it, not Markdown), and
    ``CatalogError`` for one over the catalog's size limit or not UTF-8."""
    found = _skill(catalog, skill)
    names = skill_file_names(catalog=catalog, skill=skill)
    if path not in names:
        raise SkillFileNotFound(f"{skill} has no file {path!r} that the auditor reads")
    text = read_text(found.root / Path(path), found.max_document_bytes)
    raw_lines = text.splitlines()
    pins = _check_pins(catalog_id=catalog_id, skill=skill, run=run, path=path)
    skill_lint = lint_matrix(catalog=catalog).get(skill)
    for finding in skill_lint.findings if skill_lint is not None else []:
        if finding.file == path:
            line = min(max(finding.line, 1), max(len(raw_lines), 1))
            pins.setdefault(line, []).insert(0, Pin("lint", finding.check_id, finding.detail))
    lines = [
        Line(number, text, tuple(pins.get(number, ())))
        for number, text in enumerate(raw_lines or [""], start=1)
    ]
    frontmatter, frontmatter_end = _frontmatter(raw_lines) if path == SKILL_FILE else ([], 0)
    changed, since_run = _changed_since(skill=found, catalog_id=catalog_id, run=run)
    return SkillFile(
        skill=skill,
        path=path,
        files=names,
        lines=lines,
        frontmatter=frontmatter,
        frontmatter_end=frontmatter_end,
        changed=changed,
        since_run=since_run,
    )
