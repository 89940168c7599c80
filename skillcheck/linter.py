"""Static best-practice (BP) checks and frontmatter validation for Agent Skills.

These checks need no model: they read a skill's SKILL.md and reference Markdown files and
report findings with a file (relative to the skill folder), a line and a short reason. The
heuristics lean towards few false positives, since a finding is shown to skill authors as a
failed check. Odd input (no frontmatter, broken YAML, non-UTF-8 files, dangling links) turns
into findings, never into exceptions.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from skillcheck.catalog import Catalog, Skill, Taxonomy, load_taxonomy, safe_yaml_load
from skillcheck.vocabulary import Result

FM = "FM"

MAX_SKILL_LINES = 500
LONG_SKILL_LINES = 300
LONG_SECTION_LINES = 50
MAX_NAME_LENGTH = 64
MAX_DESCRIPTION_LENGTH = 1024
MIN_DESCRIPTION_WORDS = 8
MIN_TERM_USES = 2
MIN_TERM_VARIANTS = 3
MIN_SHARED_LINES = 3
MIN_PARAGRAPH_WORDS = 8
MIN_MAGIC_NUMBER = 10
IGNORED_DOC_NAMES = frozenset({"readme.md", "license.md", "changelog.md"})


@dataclass(frozen=True)
class Finding:
    check_id: str
    file: str
    line: int
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {
            "check_id": self.check_id,
            "file": self.file,
            "line": self.line,
            "detail": self.detail,
        }


@dataclass
class SkillLint:
    """The findings for one skill and the pass/fail result of every reported check."""

    skill: str
    findings: list[Finding] = field(default_factory=list)
    check_ids: tuple[str, ...] = field(default_factory=lambda: lint_columns())

    def result(self, check_id: str) -> Result:
        failed = any(f.check_id == check_id for f in self.findings)
        return Result.FAIL if failed else Result.PASS

    @property
    def results(self) -> dict[str, Result]:
        return {check_id: self.result(check_id) for check_id in self.check_ids}

    def findings_for(self, check_id: str) -> list[Finding]:
        return [f for f in self.findings if f.check_id == check_id]

    def to_dict(self) -> dict[str, object]:
        return {
            "skill": self.skill,
            "results": self.results,
            "findings": [f.to_dict() for f in self.findings],
        }


def lint_columns(taxonomy: Taxonomy | None = None) -> tuple[str, ...]:
    """The columns of the BP matrix: the taxonomy's static checks in its order, then FM."""
    taxonomy = taxonomy or load_taxonomy()
    return (*(c.id for c in taxonomy.static_checks), FM)


def lint_skill(skill: Skill, taxonomy: Taxonomy | None = None) -> SkillLint:
    columns = lint_columns(taxonomy)
    findings = _Linter(skill).run()
    kept = [f for f in findings if f.check_id in columns]
    kept.sort(key=lambda f: (columns.index(f.check_id), f.file != "SKILL.md", f.file, f.line))
    return SkillLint(skill=skill.name, findings=kept, check_ids=columns)


def lint_catalog(catalog: Catalog) -> dict[str, SkillLint]:
    """Lint every skill of the catalog, keyed by skill name in manifest order."""
    return {name: lint_skill(skill, catalog.taxonomy) for name, skill in catalog.skills.items()}


# --- Documents ------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_INLINE_CODE = re.compile(r"`[^`]*`")
_URL = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+|\S+@\S+\.\w+")
_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_BARE_REF = re.compile(
    r"(?<![\w/.\-\]\(])((?:\.{1,2}/)*(?:[\w.-]+/)*references?/[\w./-]*?[\w-]+\.md)\b"
)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass
class _Doc:
    """One Markdown file split into lines, with which of them are prose."""

    path: Path
    rel: str
    text: str
    body_start: int = 0  # index of the first line after the frontmatter

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def in_code(self) -> list[bool]:
        flags, inside = [], False
        for index, line in enumerate(self.lines):
            if index < self.body_start:
                flags.append(True)
                continue
            if _FENCE.match(line):
                flags.append(True)
                inside = not inside
                continue
            flags.append(inside)
        return flags

    def body(self) -> list[tuple[int, str, bool]]:
        """(1-based line number, text, inside a code block) for every line after frontmatter."""
        return [
            (i + 1, line, self.in_code[i])
            for i, line in enumerate(self.lines)
            if i >= self.body_start and not _FENCE.match(line)
        ]

    def prose(self) -> list[tuple[int, str]]:
        return [(n, line) for n, line, code in self.body() if not code]


def _rel(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def _decode(path: Path) -> tuple[str, str | None]:
    """The file's text and, if it is not UTF-8 or cannot be read, why."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return "", f"cannot be read ({exc.strerror or exc})"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return raw.decode("utf-8", errors="replace"), f"not valid UTF-8 (byte {exc.start})"


def _link_targets(doc: _Doc) -> list[tuple[int, str]]:
    """(line, target) for relative Markdown links and bare ``references/x.md`` mentions."""
    found: list[tuple[int, str]] = []
    for number, line, _code in doc.body():
        spans: list[tuple[int, int]] = []
        for match in _LINK.finditer(line):
            target = match.group(2).split("#", 1)[0].split("?", 1)[0]
            spans.append(match.span())
            if target and not _SCHEME.match(target) and not target.startswith(("/", "#")):
                found.append((number, target))
        for match in _BARE_REF.finditer(line):
            if not any(start <= match.start() < end for start, end in spans):
                found.append((number, match.group(1)))
    return found


# --- The checks -----------------------------------------------------------------------------


class _Linter:
    def __init__(self, skill: Skill):
        self.skill = skill
        self.root = skill.root
        self.findings: list[Finding] = []
        self.meta: dict[str, object] = {}
        self.meta_lines: dict[str, int] = {}
        self._docs: dict[Path, _Doc | None] = {}

    def add(self, check_id: str, file: str, line: int, detail: str) -> None:
        self.findings.append(Finding(check_id, file, max(int(line), 1), detail))

    def run(self) -> list[Finding]:
        text, problem = _decode(self.skill.path)
        if problem:
            self.add(FM, "SKILL.md", 1, f"SKILL.md {problem}")
        self.main = _Doc(self.skill.path, "SKILL.md", text)
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

    def doc(self, path: Path) -> _Doc | None:
        """The document at ``path``, read once; unreadable files become a BP-8 finding."""
        key = path.resolve()
        if key not in self._docs:
            text, problem = _decode(path)
            rel = _rel(path, self.root)
            if problem:
                self.add("BP-8", rel, 1, f"reference {rel} {problem}")
            self._docs[key] = _Doc(path, rel, text) if text or not problem else None
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

    def resolve(self, source: _Doc, target: str) -> Path | None:
        for base in (source.path.parent, self.root):
            candidate = (base / target).resolve()
            if candidate.is_file():
                return candidate
        return None

    def link_graph(
        self,
    ) -> tuple[dict[Path, tuple[int, list[str], int]], list[tuple[_Doc, int, str]]]:
        """Breadth-first from SKILL.md: each linked file's depth, chain and linking line."""
        main = self.skill.path.resolve()
        depths: dict[Path, tuple[int, list[str], int]] = {main: (0, ["SKILL.md"], 0)}
        missing: list[tuple[_Doc, int, str]] = []
        queue = [main]
        while queue:
            current = queue.pop(0)
            depth, chain, _ = depths[current]
            source = self.doc(current)
            if source is None:
                continue
            for line, target in _link_targets(source):
                resolved = self.resolve(source, target)
                if resolved is None:
                    missing.append((source, line, target))
                    continue
                if resolved in depths:
                    continue
                depths[resolved] = (depth + 1, [*chain, _rel(resolved, self.root)], line)
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

    def reference_docs(self) -> list[_Doc]:
        """Every other Markdown file in the skill's folder (linked files elsewhere belong to
        other skills and are only followed for BP-3)."""
        main = self.main.path.resolve()
        paths, _ = self.skill.document_paths()  # links out of the folder are skipped
        docs = [self.doc(p) for p in paths if p.resolve() != main]
        return [d for d in docs if d is not None]

    # BP-4 ----------------------------------------------------------------------------------

    def check_terminology(self) -> None:
        for concept, pattern in _TERM_GROUPS.items():
            seen: dict[str, list[tuple[str, int]]] = {}
            for doc in [self.main, *self.references]:
                for number, line in doc.prose():
                    if _HEADING.match(line):
                        continue
                    text = _plain(line)
                    for match in pattern.finditer(text):
                        if (
                            _PROPER_NAME_BEFORE.search(text[: match.start()])
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
        for start, title, size in _sections(self.main):
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
            for number, numbers in _code_constants(doc) + _prose_constants(doc):
                shown = ", ".join(numbers)
                self.add("BP-6", doc.rel, number, f"unexplained number(s) {shown}: say why")

    # BP-7 ----------------------------------------------------------------------------------

    def check_duplication(self) -> None:
        main_lines = _significant_lines(self.main)
        main_runs = {
            tuple(n for n, _ in main_lines[i : i + MIN_SHARED_LINES]): main_lines[i][1]
            for i in range(len(main_lines) - MIN_SHARED_LINES + 1)
        }
        main_paragraphs = {text: line for line, text in _paragraphs(self.main)}
        for doc in self.references:
            reported: set[int] = set()
            lines = _significant_lines(doc)
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
            for line, text in _paragraphs(doc):
                if text in main_paragraphs and line not in reported:
                    self.add(
                        "BP-7", doc.rel, line, f"paragraph repeats SKILL.md:{main_paragraphs[text]}"
                    )

    # BP-8 ----------------------------------------------------------------------------------

    def guidance_context(self, number: int) -> str:
        """The line, the one before it and, for a list item, the line introducing the list."""
        lines = self.main.lines
        context = lines[max(number - 2, 0) : number]
        if _LIST_ITEM.match(lines[number - 1]):
            index = number - 2
            while index >= 0 and (_LIST_ITEM.match(lines[index]) or lines[index].startswith(" ")):
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
        for line, target in _link_targets(self.main):
            resolved = self.resolve(self.main, target)
            if resolved is not None and resolved != self.main.path.resolve():
                mentions.setdefault(resolved, []).append(line)
        for path, numbers in mentions.items():
            guided = any(is_guidance(_plain(self.guidance_context(n)), path.stem) for n in numbers)
            if not guided:
                rel = _rel(path, self.root)
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


# --- Helpers --------------------------------------------------------------------------------


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_GENERIC_WORDS = _wordset(
    """a an the and or of for to with in on at by from into about as is are be this that it its
    skill skills helps help helper helpful tool tools utility utilities various things stuff
    useful general generic tasks task work works working data files file process processing
    handle handles handling manage manages management do does stuff thing etc assist assists
    assistant support supports anything everything something other many lots some any all"""
)
_TRIGGER = re.compile(
    r"\b(?:use|used|invoke|invoked|trigger|triggered|apply|activate|load)\b[^.]{0,40}?"
    r"\b(?:when|whenever|if|for|to)\b"
    r"|\bwhen(?:ever)?\s+(?:the\s+|a\s+|an\s+)?(?:user|users|someone|asked|requested|working|"
    r"needed|you)\b|\bif\s+the\s+user\b",
    re.IGNORECASE,
)
_FIRST_PERSON_START = re.compile(r"^\s*(?:I|You|We)\b(?!-)", re.IGNORECASE)
_PERSONAL_SUBJECT = re.compile(
    r"(?:\bI|\b[Ww]e|\b[Yy]ou)\s+(?:can|could|will|would|should|must|may|might|help|am|are|'ll)\b"
    r"|\bI'(?:m|ll|ve)\b"
)


def describe_problems(description: str) -> list[str]:
    """What is wrong with a skill description for BP-2 (empty when it is fine)."""
    problems: list[str] = []
    words = re.findall(r"[A-Za-z][\w'/-]*", description)
    meaningful = [w for w in words if w.lower() not in _GENERIC_WORDS]
    if len(words) < MIN_DESCRIPTION_WORDS:
        problems.append(f"description is too short ({len(words)} words) to say what and when")
    elif len(meaningful) < 3:
        problems.append("description is vague: only generic words")
    if not _TRIGGER.search(description):
        problems.append("description has no trigger conditions (e.g. 'Use when the user asks …')")
    if _FIRST_PERSON_START.match(description) or _PERSONAL_SUBJECT.search(description):
        problems.append("description is not in the third person (uses I/we/you as subject)")
    return problems


def _term_pattern(*variants: str) -> re.Pattern[str]:
    ordered = sorted(variants, key=len, reverse=True)
    body = "|".join(v.replace(" ", r"\s+") for v in ordered)
    return re.compile(rf"(?<![\w-])({body})s?(?![\w-])", re.IGNORECASE)


_PROPER_NAME_BEFORE = re.compile(r"\b[A-Z][\w.-]*\s+$")


_TERM_GROUPS = {
    "the automation program": _term_pattern("actor", "scraper", "bot", "crawler", "spider"),
    "the results store": _term_pattern(
        "dataset", "results table", "output table", "result set", "data table"
    ),
    "the credential": _term_pattern(
        "api token", "api key", "secret key", "access token", "auth token"
    ),
    "a folder": _term_pattern("folder", "directory", "dir"),
}


def _plain(line: str) -> str:
    """A line without inline code, URLs and link targets, keeping link text."""
    line = _LINK.sub(lambda m: m.group(1), line)
    line = _INLINE_CODE.sub(" ", line)
    return _URL.sub(" ", line)


def _order(place: tuple[str, int]) -> tuple[bool, str, int]:
    return (place[0] != "SKILL.md", place[0], place[1])


def _sections(doc: _Doc) -> list[tuple[int, str, int]]:
    """(heading line, title, non-blank lines) for each heading-delimited part of the body."""
    sections: list[tuple[int, str, int]] = []
    start, title, size = doc.body_start + 1, "(top)", 0
    for number, line, code in doc.body():
        if not code and _HEADING.match(line):
            sections.append((start, title, size))
            start, title, size = number, line.strip("# ").strip(), 0
        elif line.strip():
            size += 1
    sections.append((start, title, size))
    return sections


_DATE_OR_TIME = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?\b|\b\d{1,2}:\d{2}\b"
)
_SENTENCE = re.compile(r".+?(?:[.!?](?=\s)|$)")
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”')
_VERSION_AFTER = re.compile(r"\s*(?:or\s+(?:newer|later|higher|above)|\+)", re.IGNORECASE)
_CALENDAR_AFTER = re.compile(r"\s*(?:months?|years?)\b", re.IGNORECASE)
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
_UNITS = _wordset(
    "ms s sec secs second seconds m min mins minute minutes h hr hrs hour hours d day days k kb mb "
    "gb tb kib mib gib px"
)
_ORDINAL_WORDS = re.compile(
    r"(?:step|phase|part|section|chapter|version|page|line|workflow|option|rule|item|level|"
    r"v|no|node|python|java|php|ruby|ios|android|windows|http|es|ecmascript|utf|iso|rfc|"
    r"top|per)\s*$",
    re.IGNORECASE,
)
_LIST_NUMBER = re.compile(r"^\s*(?:[-*+]\s+)?\d+[.)]\s")
_HTTP_STATUS = re.compile(r"http|status|error|code|response|writehead", re.IGNORECASE)
_SETTING = re.compile(
    r"\b(?:timeout|delay|retr(?:y|ies)|concurren|memory|interval|wait|sleep|batch|size|depth|ttl|"
    r"expir|backoff|throttle|rate|per.?page|threads|workers|pool)",
    re.IGNORECASE,
)
_EXPLAINED = re.compile(
    r"\b(?:because|since|so\s+that|so\s+the|so\s+it|to\s+avoid|to\s+prevent|to\s+keep|to\s+stay|"
    r"to\s+(?:check|test|verify|see|confirm|validate|cover|allow|match|fit|catch|reduce|save|"
    r"absorb|account|compensate|make\s+sure|ensure)|avoid|otherwise|whether|"
    r"limit|limits|limited|default|defaults|max|maximum|min|minimum|"
    r"cap|capped|at\s+most|at\s+least|up\s+to|no\s+more\s+than|recommended|typical|typically|"
    r"usually|why|ensures?|e\.g|for\s+example|example|such\s+as|about|around|approx|"
    r"approximately|roughly|budget|quota|rate|threshold|enough|required|requires|must|"
    r"test|tests|testing|sample|trial|cost|costs|price|pricing|credits|expensive|cheap|"
    r"retry|fails?|failed|failure)"
    r"|~\s*\d|\d%?\s*\(\s*[a-z]",
    re.IGNORECASE,
)


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _mask(line: str, *, inline_code: bool = False) -> str:
    """The line with link targets, URLs, dates, quotes (and optionally inline code) blanked,
    keeping every other character at its position."""
    line = _LINK.sub(lambda m: m.group(1).ljust(len(m.group())), line)
    for pattern in (_URL, _DATE_OR_TIME, _QUOTED, *([_INLINE_CODE] if inline_code else [])):
        line = pattern.sub(_blank, line)
    return line


def magic_numbers(line: str) -> list[str]:
    """Numbers ≥ 10 on a line that look like settings (not years, versions, list numbers,
    identifiers, dates, quoted text, URLs or ports), whether explained or not."""
    return [token for token, _ in _magic_spans(_mask(line))]


def _magic_spans(text: str) -> list[tuple[str, int]]:
    list_number = _LIST_NUMBER.match(text)
    found: list[tuple[str, int]] = []
    for match in _NUMBER.finditer(text):
        token, start, end = match.group(), match.start(), match.end()
        if list_number and start < list_number.end():
            continue
        before = text[start - 1] if start else " "
        before2 = text[start - 2] if start > 1 else " "
        after = text[end:]
        if before.isalnum() or before in "_./:#@$€£=\\^~<" or (before == "-" and before2.isalpha()):
            continue
        if "." in token or after[:1] in ("+", "/", ":", "°") or after[:2] == ".x":
            continue
        if after[:1].isalpha() or after[:1] == "_":
            letters = re.match(r"[^\W\d_]+", after)
            suffix = letters.group() if letters else ""
            if suffix.lower() not in _UNITS or (after[len(suffix) : len(suffix) + 1].isalnum()):
                continue
        if after[:1] == "-" and after[1:2].isalpha():
            continue
        if _VERSION_AFTER.match(after) or _CALENDAR_AFTER.match(after):
            continue
        value = int(token.replace(",", ""))
        if value < MIN_MAGIC_NUMBER:
            continue
        if len(token) == 4 and 1900 <= value <= 2100:
            continue
        if _ORDINAL_WORDS.search(text[:start]):
            continue
        if 100 <= value <= 599 and _HTTP_STATUS.search(text):
            continue
        found.append((token, start))
    return found


def _code_constants(doc: _Doc) -> list[tuple[int, list[str]]]:
    """Setting-like numbers in code blocks with no explaining comment on or above the line."""
    found: list[tuple[int, list[str]]] = []
    previous = ""
    for number, line, code in doc.body():
        if code:
            numbers = [t for t, _ in _magic_spans(_mask(line))]
            context = line + (" " + previous if _is_comment(previous) else "")
            if numbers and _SETTING.search(_words(line)) and not _EXPLAINED.search(context):
                found.append((number, numbers))
        previous = line
    return found


def _prose_units(doc: _Doc) -> list[list[tuple[int, str]]]:
    """Paragraphs, list items and table rows of the prose, skipping headings and sections
    whose heading says they are examples (their numbers come from the example request)."""
    units: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    in_example = False
    for number, line, code in doc.body():
        row = line.lstrip().startswith("|")
        if code or not line.strip() or _HEADING.match(line) or _LIST_ITEM.match(line) or row:
            if current:
                units.append(current)
            current = []
        if not code and _HEADING.match(line):
            in_example = "example" in line.lower()
        elif not code and line.strip() and not in_example:
            current.append((number, line))
            if row:
                units.append(current)
                current = []
    if current:
        units.append(current)
    return units


def _prose_constants(doc: _Doc) -> list[tuple[int, list[str]]]:
    """Numbers in prose whose sentence (or the next one) gives no reason for them."""
    found: dict[int, list[str]] = {}
    for unit in _prose_units(doc):
        numbers_text = " ".join(_mask(line) for _, line in unit)
        context_text = " ".join(_mask(line, inline_code=True) for _, line in unit)
        starts, offset = [], 0
        for number, line in unit:
            starts.append((offset, number))
            offset += len(line) + 1
        sentences = [m.span() for m in _SENTENCE.finditer(context_text)]
        for token, position in _magic_spans(numbers_text):
            index = next((i for i, (a, b) in enumerate(sentences) if a <= position < b), 0)
            context = " ".join(context_text[a:b] for a, b in sentences[index : index + 2])
            if _EXPLAINED.search(context):
                continue
            line_no = max(n for start, n in starts if start <= position)
            found.setdefault(line_no, []).append(token)
    return sorted(found.items())


def _words(line: str) -> str:
    """Split camelCase and snake_case names into words, so keys match word patterns."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", line).replace("_", " ")


def _is_comment(line: str) -> bool:
    return line.strip().startswith(("#", "//", "/*", "*", "--", "<!--"))


_GUIDANCE_VERB = re.compile(
    r"\b(?:read|reads|see|consult|refer\s+to|check|open|load|review|follow|use)\b", re.IGNORECASE
)
_GUIDANCE_WHEN = re.compile(
    r"\b(?:when|whenever|if|before|for|while|during|after|once|based\s+on|depending\s+on)\b",
    re.IGNORECASE,
)
_GUIDANCE_FILLER = _wordset(
    "the a an more on about details detail info information further additional extra reading "
    "this that it these those them all everything rest other topic topics example examples "
    "reference references file files doc docs documentation md see read here there"
)


def is_guidance(text: str, stem: str = "") -> bool:
    """Whether ``text`` says when to read a reference: a verb such as read/see/consult and a
    condition (when/if/before/for …) that says more than "for more" or the file's own name."""
    if not _GUIDANCE_VERB.search(text):
        return False
    own = {w.rstrip("s") for w in re.findall(r"[a-z]+", stem.lower())}
    for match in _GUIDANCE_WHEN.finditer(text):
        clause = re.split(r"[.;:!?]", text[match.end() :], maxsplit=1)[0]
        words = re.findall(r"[a-z]+", clause.lower())
        if any(w not in _GUIDANCE_FILLER and w.rstrip("s") not in own for w in words):
            return True
    return False


_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_NORMALIZE = re.compile(r"[^a-z0-9]+")


def _normal(text: str) -> str:
    return _NORMALIZE.sub(" ", text.lower()).strip()


def _significant_lines(doc: _Doc) -> list[tuple[str, int]]:
    """(normalized text, line) of the lines long enough that sharing them means copying."""
    result = []
    for number, line, _code in doc.body():
        normal = _normal(line)
        if len(normal) >= 20 and len(normal.split()) >= 3:
            result.append((normal, number))
    return result


def _paragraphs(doc: _Doc) -> list[tuple[int, str]]:
    """(first line, normalized text) of each blank-line separated block of enough words."""
    blocks: list[tuple[int, list[str]]] = []
    previous = -1
    for number, line, _code in doc.body():
        if not line.strip():
            previous = -1
            continue
        if previous == number - 1 and blocks:
            blocks[-1][1].append(line)
        else:
            blocks.append((number, [line]))
        previous = number
    result = []
    for start, lines in blocks:
        text = _normal(" ".join(lines))
        if len(text.split()) >= MIN_PARAGRAPH_WORDS:
            result.append((start, text))
    return result
