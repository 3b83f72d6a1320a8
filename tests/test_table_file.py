"""The export's writer (rendering/table_file.py): what it writes is what a spreadsheet
program reads back, whatever the text holds; a sheet past Excel's row limit goes on in
another; text never becomes a formula."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from rendering import table_file
from rendering.table_file import TableWriter

AWKWARD = ["<b>&amp;</b> & <", "  spaces around ", "tab\tand\nnewline", "bell\x07",
           "_x0041_", "=HYPERLINK(\"http://x\")", "-1", "Rp 1.250,5 – ≥5 ✓", ""]


def test_text_numbers_and_booleans_read_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with TableWriter(path, "xlsx") as out:
        out.table("One: [first]?", ["text", "int", "float", "bool", "none"])
        out.rows([[text, 7, 2.5, True, None] for text in AWKWARD])
        out.table("One: [first]?", ["again"])
        out.rows([[1], [2]])
    book = load_workbook(path, read_only=True)
    first, second = book.worksheets
    assert (first.title, second.title) == ("One   first", "One   first (2)")
    rows = list(first.iter_rows(values_only=True))
    assert rows[0] == ("text", "int", "float", "bool", "none")
    # A control character as Excel's _xHHHH_ escape (and a literal one escaped in turn), as
    # XlsxWriter writes it: Excel reads both back as they were; openpyxl shows the escapes.
    assert [row[0] for row in rows[1:]] == [
        "<b>&amp;</b> & <", "  spaces around ", "tab\tand\nnewline", "bell_x0007_",
        "_x005F_x0041_",
        "=HYPERLINK(\"http://x\")", "-1", "Rp 1.250,5 – ≥5 ✓", None]
    assert rows[1][1:] == (7, 2.5, True, None)
    assert list(second.iter_rows(values_only=True)) == [("again",), (1,), (2,)]
    book.close()


def test_a_sheet_past_the_row_limit_goes_on_in_another(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table_file, "MAX_ROWS", 4)
    path = tmp_path / "t.xlsx"
    with TableWriter(path, "xlsx") as out:
        out.table("Long", ["n"])
        out.rows([[n] for n in range(5)])
        out.rows([[5]])
    book = load_workbook(path, read_only=True)
    assert [[row[0] for row in sheet.iter_rows(values_only=True)]
            for sheet in book.worksheets] == [["n", 0, 1, 2], ["n", 3, 4, 5]]
    book.close()


def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    with TableWriter(tmp_path / "out", "csv") as out:
        out.table("Things", ["text"])
        out.rows([[text] for text in AWKWARD])
    with (tmp_path / "out" / "Things.csv").open(encoding="utf-8-sig", newline="") as file:
        cells = [row[0] for row in csv.reader(file)][1:]
    assert cells[5] == "'=HYPERLINK(\"http://x\")" and cells[6] == "'-1"
    assert cells[0] == "<b>&amp;</b> & <"
