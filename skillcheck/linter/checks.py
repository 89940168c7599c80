"""The linter: every FM and BP check on one skill, and the catalog's skills linted in turn."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import yaml

from skillcheck.catalog.files import safe_yaml_load
from skillcheck.catalog.model import Catalog, Skill, Taxonomy
from skillcheck.linter.documents import (
    HEADING,
    LIST_ITEM,
    Doc,
    decode,
    link_targets,
    paragraphs,
    plain,
    relative_path,
    sections,
    significant_lines,
)
from skillcheck.linter.findings import FM, Finding, SkillLint, lint_columns
from skillcheck.linter.wording import (
    PROPER_NAME_BEFORE,
    TERM_GROUPS,
    code_constants,
    describe_problems,
    is_guidance,
    prose_constants,
)

MAX_SKILL_LINES = 500
LONG_SKILL_LINES = 300
LONG_SECTION_LINES = 50
MAX_NAME_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 1024
MIN_TERM_USES = 2
MIN_TERM_VARIANTS = 3
MIN_SHARED_LINES = 3
IGNORED_DOC_NAMES = frozenset({"readme.md", "license.md", "changelog.md"})


def lint_skill(skill: Skill, taxonomy: Taxonomy | None = None) -> SkillLint:
    columns = lint_columns(taxonomy)
    findings = _Linter(skill).run()
    kept = [f for f in findings if f.check_id in columns]
    kept.sort(key=lambda f: (columns.index(f.check_id), f.file != "SKILL.md", f.file, f.line))
    return SkillLint(skill=skill.name, findings=kept, check_ids=columns)


def lint_catalog(catalog: Catalog) -> dict[str, SkillLint]:
    """Lint every skill of the catalog, keyed by skill name in manifest order."""
    return {name: lint_skill(skill, catalog.taxonomy) for name, skill in catalog.skills.items()}


class _Linter:
    def __init__(self, skill: Skill):
        self.skill = skill
        self.root = skill.root
        self.findings: list[Finding] = []
        self.meta: dict[str, object] = {}
        self.meta_lines: dict[str, int] = {}
        self._docs: dict[Path, Doc | None] = {}

    def add(self, check_id: str, file: str, line: int, detail: str) -> None:
        self.findings.append(Finding(check_id, file, max(int(line), 1), detail))

    def run(self) -> list[Finding]:
        text, problem = decode(self.skill.path)
        if problem:
            self.add(FM, "SKILL.md", 1, f"SKILL.md {problem}")
        self.main = Doc(self.skill.path, "SKILL.md", text)
        self._docs[self.skill.path.resolve()] = self.main
        self.check_frontmatter()
        self.depths, self.missing = self.link_graph()
        self.references = self.reference_docs()
        for check in self.checks:
            check()
        return self.findings

    @property
    def checks(self) -> list[Callable[[], None]]:
        return [
            self.check_length,
            self.check_description,
            self.check_nesting,
            self.check_terminology,
            self.check_disclosure,
            self.check_constants,
            self.check_duplication,
            self.check_guidance,
        ]

    def doc(self, path: Path) -> Doc | None:
        """The document at ``path``, read once; unreadable files become a BP-8 finding."""
        key = path.resolve()
        if key not in self._docs:
            text, problem = decode(path)
            rel = relative_path(path, self.root)
            if problem:
                self.add("BP-8", rel, 1, f"reference {rel} {problem}")
            self._docs[key] = Doc(path, rel, text) if text or not problem else None
        return self._docs[key]

    # FM ------------------------------------------------------------------------------------

    def check_frontmatter(self) -> None:
        lines = self.main.lines
        if not lines or lines[0].strip() != "---":
            self.add(FM, "SKILL.md", 1, "no YAML frontmatter (SKILL.md must start with ---)")
            return
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
        if end is None:
            self.add(FM, "SKILL.md", 1, "frontmatter is not closed by a --- line")
            return
        self.main.body_start = end + 1
        for index in range(1, end):
            key = re.match(r"^([A-Za-z_][\w-]*)\s*:", lines[index])
            if key:
                self.meta_lines.setdefault(key.group(1), index + 1)
        try:
            data = safe_yaml_load("\n".join(lines[1:end]))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 2 if mark else 1
            problem = getattr(exc, "problem", None) or "cannot be parsed"
            self.add(FM, "SKILL.md", line, f"frontmatter is not valid YAML: {problem}")
            return
        if not isinstance(data, dict):
            self.add(FM, "SKILL.md", 1, "frontmatter must be a YAML mapping of keys to values")
            return
        self.meta = data
        self.check_name()
        self.check_description_field()

    def check_name(self) -> None:
        name = self.meta.get("name")
        line = self.meta_lines.get("name", 1)
        if name in (None, ""):
            self.add(FM, "SKILL.md", 1, "frontmatter has no 'name'")
            return
        if not isinstance(name, str):
            self.add(FM, "SKILL.md", line, f"'name' must be a string, not {name!r}")
            return
        if not re.fullmatch(r"[a-z0-9-]+", name):
            self.add(FM, "SKILL.md", line, f"name {name!r} may only use a-z, 0-9 and hyphens")
        elif name.startswith("-") or name.endswith("-") or "--" in name:
            self.add(
                FM, "SKILL.md", line, f"name {name!r} has a leading, trailing or double hyphen"
            )
        if len(name) > MAX_NAME_LENGTH:
            self.add(
                FM, "SKILL.md", line, f"name is {len(name)} characters (max {MAX_NAME_LENGTH})"
            )
        if name != self.root.name:
            self.add(
                FM, "SKILL.md", line, f"name {name!r} differs from its folder {self.root.name!r}"
            )

    def check_description_field(self) -> None:
        description = self.meta.get("description")
        line = self.meta_lines.get("description", 1)
        if description is None or (isinstance(description, str) and not description.strip()):
            self.add(FM, "SKILL.md", 1, "frontmatter has no 'description'")
        elif not isinstance(description, str):
            self.add(FM, "SKILL.md", line, "'description' must be a string")
        elif len(description) > MAX_DESCRIPTION_LENGTH:
            self.add(
                FM,
                "SKILL.md",
                line,
                f"description is {len(description)} characters (max {MAX_DESCRIPTION_LENGTH})",
            )

    # BP-1 ----------------------------------------------------------------------------------

    def check_length(self) -> None:
        count = len(self.main.lines)
        if count > MAX_SKILL_LINES:
            self.add(
                "BP-1",
                "SKILL.md",
                MAX_SKILL_LINES + 1,
                f"SKILL.md has {count} lines (keep it under {MAX_SKILL_LINES})",
            )

    # BP-2 ----------------------------------------------------------------------------------

    def check_description(self) -> None:
        if not self.main.body_start:
            self.add("BP-2", "SKILL.md", 1, "no description (SKILL.md has no frontmatter)")
            return
        description = self.meta.get("description")
        line = self.meta_lines.get("description", 1)
        if not isinstance(description, str) or not description.strip():
            self.add("BP-2", "SKILL.md", line, "description is missing")
            return
        for problem in describe_problems(description):
            self.add("BP-2", "SKILL.md", line, problem)

    # BP-3 ----------------------------------------------------------------------------------

    def resolve(self, source: Doc, target: str) -> Path | None:
        for base in (source.path.parent, self.root):
            candidate = (base / target).resolve()
            if candidate.is_file():
                return candidate
        return None

    def link_graph(
        self,
    ) -> tuple[dict[Path, tuple[int, list[str], int]], list[tuple[Doc, int, str]]]:
        """Breadth-first from SKILL.md: each linked file's depth, chain and linking line."""
        main = self.skill.path.resolve()
        depths: dict[Path, tuple[int, list[str], int]] = {main: (0, ["SKILL.md"], 0)}
        missing: list[tuple[Doc, int, str]] = []
        queue = [main]
        while queue:
            current = queue.pop(0)
            depth, chain, _ = depths[current]
            source = self.doc(current)
            if source is None:
                continue
            for line, target in link_targets(source):
                resolved = self.resolve(source, target)
                if resolved is None:
                    missing.append((source, line, target))
                    continue
                if resolved in depths:
                    continue
                depths[resolved] = (depth + 1, [*chain, relative_path(resolved, self.root)], line)
                inside = resolved.is_relative_to(self.root.resolve())
                if resolved.suffix.lower() == ".md" and inside:
                    queue.append(resolved)
        return depths, missing

    def check_nesting(self) -> None:
        for _path, (depth, chain, line) in self.depths.items():
            if depth >= 2:
                self.add(
                    "BP-3",
                    chain[-2],
                    line,
                    f"{chain[-1]} is nested {depth} levels deep ({' → '.join(chain)}); "
                    "link it directly from SKILL.md",
                )
        for source, line, target in self.missing:
            if source is not self.main:
                self.add("BP-3", source.rel, line, f"linked file not found: {target}")

    def reference_docs(self) -> list[Doc]:
        """Every other Markdown file in the skill's folder (linked files elsewhere belong to
        other skills and are only followed for BP-3)."""
        main = self.main.path.resolve()
        paths, _ = self.skill.document_paths()  # links out of the folder are skipped
        docs = [self.doc(p) for p in paths if p.resolve() != main]
        return [d for d in docs if d is not None]

    # BP-4 ----------------------------------------------------------------------------------

    def check_terminology(self) -> None:
        for concept, pattern in TERM_GROUPS.items():
            seen: dict[str, list[tuple[str, int]]] = {}
            for doc in [self.main, *self.references]:
                for number, line in doc.prose():
                    if HEADING.match(line):
                        continue
                    text = plain(line)
                    for match in pattern.finditer(text):
                        if (
                            PROPER_NAME_BEFORE.search(text[: match.start()])
                            and match[1][0].isupper()
                        ):
                            continue  # part of a product name such as "Website Content Crawler"
                        term = re.sub(r"\s+", " ", match.group(1).lower())
                        seen.setdefault(term, []).append((doc.rel, number))
            used = {term: places for term, places in seen.items() if len(places) >= MIN_TERM_USES}
            if len(used) < MIN_TERM_VARIANTS:
                continue
            ordered = sorted(used.items(), key=lambda item: _order(item[1][0]))
            file, line_no = ordered[MIN_TERM_VARIANTS - 1][1][0]
            parts = [f"'{t}' ×{len(p)} (first {p[0][0]}:{p[0][1]})" for t, p in ordered]
            self.add("BP-4", file, line_no, f"{len(used)} terms for {concept}: {', '.join(parts)}")

    # BP-5 ----------------------------------------------------------------------------------

    def check_disclosure(self) -> None:
        count = len(self.main.lines)
        if not self.references:
            if count > LONG_SKILL_LINES:
                self.add(
                    "BP-5",
                    "SKILL.md",
                    LONG_SKILL_LINES + 1,
                    f"SKILL.md has {count} lines and no reference files; move detail out",
                )
            return
        for start, title, size in sections(self.main):
            if size > LONG_SECTION_LINES:
                self.add(
                    "BP-5",
                    "SKILL.md",
                    start,
                    f"section '{title}' inlines {size} lines although reference files exist",
                )

    # BP-6 ----------------------------------------------------------------------------------

    def check_constants(self) -> None:
        for doc in [self.main, *self.references]:
            for number, numbers in code_constants(doc) + prose_constants(doc):
                shown = ", ".join(numbers)
                self.add("BP-6", doc.rel, number, f"unexplained number(s) {shown}: say why")

    # BP-7 ----------------------------------------------------------------------------------

    def check_duplication(self) -> None:
        main_lines = significant_lines(self.main)
        main_runs = {
            tuple(n for n, _ in main_lines[i : i + MIN_SHARED_LINES]): main_lines[i][1]
            for i in range(len(main_lines) - MIN_SHARED_LINES + 1)
        }
        main_paragraphs = {text: line for line, text in paragraphs(self.main)}
        for doc in self.references:
            reported: set[int] = set()
            lines = significant_lines(doc)
            index = 0
            while index <= len(lines) - MIN_SHARED_LINES:
                key = tuple(n for n, _ in lines[index : index + MIN_SHARED_LINES])
                if key in main_runs:
                    end = index + MIN_SHARED_LINES
                    while end < len(lines) and any(lines[end][0] == n for n, _ in main_lines):
                        end += 1
                    line = lines[index][1]
                    reported.update(range(line, lines[end - 1][1] + 1))
                    self.add(
                        "BP-7",
                        doc.rel,
                        line,
                        f"{end - index} lines repeat SKILL.md:{main_runs[key]}",
                    )
                    index = end
                else:
                    index += 1
            for line, text in paragraphs(doc):
                if text in main_paragraphs and line not in reported:
                    self.add(
                        "BP-7", doc.rel, line, f"paragraph repeats SKILL.md:{main_paragraphs[text]}"
                    )

    # BP-8 ----------------------------------------------------------------------------------

    def guidance_context(self, number: int) -> str:
        """The line, the one before it and, for a list item, the line introducing the list."""
        lines = self.main.lines
        context = lines[max(number - 2, 0) : number]
        if LIST_ITEM.match(lines[number - 1]):
            index = number - 2
            while index >= 0 and (LIST_ITEM.match(lines[index]) or lines[index].startswith(" ")):
                index -= 1
            while index >= 0 and not lines[index].strip():
                index -= 1
            if index >= 0 and lines[index].strip():
                context.append(lines[index])
        return " ".join(context)

    def check_guidance(self) -> None:
        for source, line, target in self.missing:
            if source is self.main:
                self.add("BP-8", "SKILL.md", line, f"linked file not found: {target}")
        mentions: dict[Path, list[int]] = {}
        for line, target in link_targets(self.main):
            resolved = self.resolve(self.main, target)
            if resolved is not None and resolved != self.main.path.resolve():
                mentions.setdefault(resolved, []).append(line)
        for path, numbers in mentions.items():
            guided = any(is_guidance(plain(self.guidance_context(n)), path.stem) for n in numbers)
            if not guided:
                rel = relative_path(path, self.root)
                self.add(
                    "BP-8",
                    "SKILL.md",
                    numbers[0],
                    f"{rel} is linked without saying when to read it (e.g. 'Read … when …')",
                )
        for doc in self.references:
            key = doc.path.resolve()
            inside = key.is_relative_to(self.root.resolve())
            if inside and key not in self.depths and doc.path.name.lower() not in IGNORED_DOC_NAMES:
                self.add("BP-8", doc.rel, 1, f"{doc.rel} is never referenced from SKILL.md")


def _order(place: tuple[str, int]) -> tuple[bool, str, int]:
    return (place[0] != "SKILL.md", place[0], place[1])
