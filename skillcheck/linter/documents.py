"""A skill's Markdown files as the checks read them: lines, code blocks, prose, sections,
paragraphs and the links between files. Unreadable or non-UTF-8 files are read as well as
they can be, with the reason, never raised."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

MIN_PARAGRAPH_WORDS = 8

_FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
INLINE_CODE = re.compile(r"`[^`]*`")
URL = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+|\S+@\S+\.\w+")
LINK = re.compile(r"!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_BARE_REF = re.compile(
    r"(?<![\w/.\-\]\(])((?:\.{1,2}/)*(?:[\w.-]+/)*references?/[\w./-]*?[\w-]+\.md)\b"
)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass
class Doc:
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


def relative_path(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def decode(path: Path) -> tuple[str, str | None]:
    """The file's text and, if it is not UTF-8 or cannot be read, why."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return "", f"cannot be read ({exc.strerror or exc})"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return raw.decode("utf-8", errors="replace"), f"not valid UTF-8 (byte {exc.start})"


def link_targets(doc: Doc) -> list[tuple[int, str]]:
    """(line, target) for relative Markdown links and bare ``references/x.md`` mentions."""
    found: list[tuple[int, str]] = []
    for number, line, _code in doc.body():
        spans: list[tuple[int, int]] = []
        for match in LINK.finditer(line):
            target = match.group(2).split("#", 1)[0].split("?", 1)[0]
            spans.append(match.span())
            if target and not _SCHEME.match(target) and not target.startswith(("/", "#")):
                found.append((number, target))
        for match in _BARE_REF.finditer(line):
            if not any(start <= match.start() < end for start, end in spans):
                found.append((number, match.group(1)))
    return found


def plain(line: str) -> str:
    """A line without inline code, URLs and link targets, keeping link text."""
    line = LINK.sub(lambda m: m.group(1), line)
    line = INLINE_CODE.sub(" ", line)
    return URL.sub(" ", line)


def sections(doc: Doc) -> list[tuple[int, str, int]]:
    """(heading line, title, non-blank lines) for each heading-delimited part of the body."""
    sections: list[tuple[int, str, int]] = []
    start, title, size = doc.body_start + 1, "(top)", 0
    for number, line, code in doc.body():
        if not code and HEADING.match(line):
            sections.append((start, title, size))
            start, title, size = number, line.strip("# ").strip(), 0
        elif line.strip():
            size += 1
    sections.append((start, title, size))
    return sections


def prose_units(doc: Doc) -> list[list[tuple[int, str]]]:
    """Paragraphs, list items and table rows of the prose, skipping headings and sections
    whose heading says they are examples (their numbers come from the example request)."""
    units: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    in_example = False
    for number, line, code in doc.body():
        row = line.lstrip().startswith("|")
        if code or not line.strip() or HEADING.match(line) or LIST_ITEM.match(line) or row:
            if current:
                units.append(current)
            current = []
        if not code and HEADING.match(line):
            in_example = "example" in line.lower()
        elif not code and line.strip() and not in_example:
            current.append((number, line))
            if row:
                units.append(current)
                current = []
    if current:
        units.append(current)
    return units


LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_NORMALIZE = re.compile(r"[^a-z0-9]+")


def _normal(text: str) -> str:
    return _NORMALIZE.sub(" ", text.lower()).strip()


def significant_lines(doc: Doc) -> list[tuple[str, int]]:
    """(normalized text, line) of the lines long enough that sharing them means copying."""
    result = []
    for number, line, _code in doc.body():
        normal = _normal(line)
        if len(normal) >= 20 and len(normal.split()) >= 3:
            result.append((normal, number))
    return result


def paragraphs(doc: Doc) -> list[tuple[int, str]]:
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
