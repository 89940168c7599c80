"""Issue 21 (2): no cell of a CSV this app writes is a live formula in a spreadsheet."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from skillcheck.spreadsheet import (
    FORMULA_STARTS,
    SpreadsheetCsvWriter,
    download_filename,
    spreadsheet_cell,
)

HYPERLINK = '=HYPERLINK("http://evil.example/x","click")'


def written(rows) -> list[list[str]]:
    stream = io.StringIO()
    SpreadsheetCsvWriter(stream).writerows(rows)
    return list(csv.reader(io.StringIO(stream.getvalue())))


def test_every_formula_start_is_escaped():
    for start in FORMULA_STARTS:
        assert spreadsheet_cell(f"{start}1+1") == f"'{start}1+1"
    assert spreadsheet_cell(HYPERLINK) == "'" + HYPERLINK
    assert spreadsheet_cell("  =1+1") == "'  =1+1"
    assert spreadsheet_cell("\uff1dcmd|' /C calc'!A0") == "'\uff1dcmd|' /C calc'!A0"


def test_plain_text_and_numbers_are_left_alone():
    for value in ("price-tracking", "WF-1", "pass", "a=b", "", "2026-12-07T03:00:00+00:00"):
        assert spreadsheet_cell(value) == value
    assert spreadsheet_cell(-5) == -5 and spreadsheet_cell(0.5) == 0.5


@given(st.lists(st.text(max_size=30), min_size=1, max_size=6))
def test_no_written_cell_starts_a_formula_and_each_reads_back(cells):
    [row] = written([cells])
    for original, cell in zip(cells, row, strict=True):
        assert not cell.lstrip(" ").startswith(FORMULA_STARTS)
        assert cell in (original, "'" + original)


def test_download_names_carry_no_raw_id():
    assert download_filename("skillcheck", "price-tracking", suffix=".csv") == (
        "skillcheck-price-tracking.csv"
    )
    hostile = 'a"; filename=evil.exe\r\nX-Injected: 1/../..'
    name = download_filename("skillcheck", hostile, suffix=".csv")
    assert name == "skillcheck-a-filename-evil.exe-X-Injected-1.csv"
    assert download_filename("../../etc/passwd", suffix=".csv") == "etc-passwd.csv"
    assert download_filename("", suffix=".csv") == "download.csv"
