"""Where evidence cites a skill's file: ``SKILL.md:31``, ``references/api.md:L12-L20``.

Evidence is untrusted text (a model's answer, or the heuristic's quotes); this only finds the
spans that look like a citation of a Markdown file and a line, so a page can turn them into
links to that line. Paths that climb (``..``) or start at the root are not citations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A relative path of a Markdown file, then ``:LINE`` or ``:L1-L2`` (the ``L`` optional).
_CITATION_RX = re.compile(
    r"(?<![\w./-])"
    r"(?P<file>(?:[A-Za-z0-9_][\w.-]{0,99}/){0,8}[A-Za-z0-9_][\w.-]{0,99}\.md)"
    r":L?(?P<line>[1-9]\d{0,5})(?:[-–]L?(?P<end>[1-9]\d{0,5}))?"
    r"(?!\d)"
)


@dataclass(frozen=True)
class Citation:
    """One cited span of the text: ``text[start:end]`` names ``file`` at ``line``(-``end_line``)."""

    start: int
    end: int
    file: str
    line: int
    end_line: int

    @property
    def anchor(self) -> str:
        return f"L{self.line}"


def find_citations(text: str) -> list[Citation]:
    """Every ``FILE:LINE`` / ``FILE:L1-L2`` citation of a Markdown file in ``text``, in order."""
    found = []
    for match in _CITATION_RX.finditer(text or ""):
        path = match["file"]
        if any(part in ("", ".", "..") for part in path.split("/")):
            continue
        line = int(match["line"])
        end_line = int(match["end"]) if match["end"] else line
        found.append(Citation(match.start(), match.end(), path, line, max(line, end_line)))
    return found
