"""Read a domain matrix back out of its HTML, as a browser would see it: per cell (scenario,
check, model) its blocks (state, stale), its marks and its tooltip. Tests assert on this
rather than on the markup, which is kept terse on purpose (heatmap_tags.matrix_cell)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

STATES = {"p": "pass", "f": "fail", "u": "unclear", "n": "na", "x": "notrun"}


@dataclass
class Block:
    result: str
    stale: bool
    glyph: str = ""


@dataclass
class Cell:
    href: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    split: bool = False  # the ≠ mark
    flaky: bool = False  # the ~ mark

    @property
    def results(self) -> list[str]:
        return [b.result for b in self.blocks]


class _MatrixParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, ...], Cell] = {}
        self.heads: list[list[str]] = []  # the model row's heads: [model, pass %, initials]
        self.head_rows = 0
        self.head: list[str] | None = None
        self.head_part = 0
        self.in_body = False
        self.cell: Cell | None = None
        self.block: Block | None = None
        self.mark = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and not self.in_body and not self.cells:
            self.head_rows += 1
        elif tag == "th" and self.head_rows == 2 and not self.in_body and not self.cells:
            self.head, self.head_part = ["", "", ""], 0
            self.heads.append(self.head)
        elif self.head is not None and tag == "span":
            self.head_part = {"pct": 1, "ini": 2}.get(classes[0] if classes else "", self.head_part)
        elif self.in_body and tag == "a" and self.cell is None:
            query = parse_qs(urlsplit(found.get("href") or "").query)
            names = ("scenario", "skill", "check", "clicked")
            key = tuple(query[name][0] for name in names if name in query)
            self.cell = self.cells[key] = Cell(found.get("href") or "", found.get("title") or "")
        elif self.cell is not None and tag == "b":
            self.block = Block(STATES[classes[0]], "s" in classes[1:])
            self.cell.blocks.append(self.block)
        elif self.cell is not None and tag == "i":
            self.mark = classes[0]

    def handle_data(self, data: str) -> None:
        if self.head is not None:
            self.head[self.head_part] += data.strip() + (" " if self.head_part == 2 else "")
        elif self.block is not None:
            self.block.glyph += data
        elif self.cell is not None and self.mark == "d":
            self.cell.split = self.cell.split or data == "≠"
        elif self.cell is not None and self.mark == "k":
            self.cell.flaky = self.cell.flaky or data == "~"

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_body = False
        elif tag == "th":
            self.head = None
        elif tag == "a":
            self.cell = None
        elif tag == "b":
            self.block = None
        elif tag == "i":
            self.mark = ""


def matrix_cells(html: str) -> dict[tuple[str, ...], Cell]:
    """(scenario, check, model) → its cell for the model-check matrix; (skill, check) for the
    BP matrix."""
    parser = _MatrixParser()
    parser.feed(html)
    return parser.cells


def column_heads(html: str) -> list[tuple[str, str, str]]:
    """(model, pass % text, skill initials) of each model column of the matrix, in order."""
    parser = _MatrixParser()
    parser.feed(html)
    return [(model, pct, initials.strip()) for model, pct, initials in parser.heads]
