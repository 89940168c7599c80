"""Files a spreadsheet may open (CSV now; any JUnit or Markdown table meant for one later):
text from outside never becomes a live formula there, and file names carry no raw ids.

A skill, domain or scenario named ``=HYPERLINK("http://…","click")`` comes from a catalog or
an imported report nobody here wrote. Excel, LibreOffice and Google Sheets run a cell that
starts with ``=``, ``+``, ``-`` or ``@`` as a formula (a tab or carriage return first can
hide it, and Excel in East Asian locales also takes the full-width ``＝＋－＠``). As OWASP's
CSV-injection advice says, such a text cell is written with a leading ``'``, which the
spreadsheet shows as text; numbers the app writes itself stay numbers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def spreadsheet_text(text: str) -> str:
    """``text`` as a spreadsheet takes it as data: one that could start a formula, also
    after leading spaces, gets a leading ``'``."""
    return "'" + text if text.lstrip(" ").startswith(FORMULA_STARTS) else text


def spreadsheet_cell(value: Any) -> Any:
    """A CSV cell: a text through ``spreadsheet_text``; numbers and the rest as they are."""
    return spreadsheet_text(value) if isinstance(value, str) else value


def spreadsheet_row(row: Iterable[Any]) -> list[Any]:
    return [spreadsheet_cell(value) for value in row]


class SpreadsheetCsvWriter:
    """``csv.writer`` whose every cell goes through ``spreadsheet_cell``: the one way this
    app writes CSV."""

    def __init__(self, stream: _Writable) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow(spreadsheet_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def download_filename(*parts: str, suffix: str) -> str:
    """``skillcheck-price-tracking.csv``: the parts joined by ``-``, every run of characters
    other than ASCII letters, digits, ``.``, ``_`` and ``-`` one ``-``, at most 100
    characters, so no id from outside (quotes, ``;``, ``/``, line breaks) shapes a header
    or a path."""
    stem = _UNSAFE_NAME.sub("-", "-".join(parts)).strip(".-")[:100].rstrip(".-")
    return f"{stem or 'download'}{suffix}"
