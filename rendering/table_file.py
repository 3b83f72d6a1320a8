"""Tables written as one .xlsx workbook (a sheet each) or as CSV files (one each, in a
folder), row by row: nothing but the current row is kept in memory.

XlsxWriter in constant-memory mode writes each row to the sheet's temporary file as it
comes and keeps strings inline (no shared-strings table growing with the data); the rows'
XML is written here (`TableWriter._write_xml`), XlsxWriter the rest of the workbook. A sheet
longer than Excel's 1,048,576 rows goes on in a second sheet of the same name with "(2)".
Text is never read as a formula or a link: a name typed as "=HYPERLINK(...)" stays text
(XlsxWriter's `strings_to_formulas`/`strings_to_urls` off; in CSV such a cell starts with an
apostrophe, as spreadsheet programs expect).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

Cell = str | int | float | bool | None
Format = Literal["xlsx", "csv"]

MAX_ROWS = 1_048_576
SHEET_NAME_CHARS = 31
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
# Characters that make a spreadsheet program read a CSV cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def sheet_name(title: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\), unique in the book."""
    base = _FORBIDDEN.sub(" ", title)[:SHEET_NAME_CHARS].strip() or "Sheet"
    name, number = base, 2
    while name.lower() in taken:
        suffix = f" ({number})"
        name = base[:SHEET_NAME_CHARS - len(suffix)] + suffix
        number += 1
    taken.add(name.lower())
    return name


class TableWriter:
    """`with TableWriter(path, "xlsx") as out: out.table(title, headers); out.row(...)`.
    For CSV, `path` is a folder (made if needed) and each table a `<title>.csv` in it."""

    def __init__(self, path: Path, fmt: Format) -> None:
        self.path = path
        self.fmt = fmt
        self._names: set[str] = set()
        self._book: Any = None
        self._sheet: Worksheet | None = None
        self._bold: Any = None
        self._file: IO[str] | None = None
        self._csv: Any = None
        self._title = ""
        self._headers: Sequence[str] = ()
        self._row = 0
        self._letters: list[str] = []
        self.files: list[Path] = []

    def __enter__(self) -> TableWriter:
        if self.fmt == "xlsx":
            self._book = xlsxwriter.Workbook(str(self.path), {
                "constant_memory": True, "strings_to_formulas": False,
                "strings_to_urls": False, "strings_to_numbers": False})
            self._bold = self._book.add_format({"bold": True})
            self.files.append(self.path)
        else:
            self.path.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._close_csv()
        if self._book is not None:
            self._book.close()

    def table(self, title: str, headers: Sequence[str], widths: Sequence[int] = ()) -> None:
        """Start the next table, with its header row."""
        self._title, self._headers = title, headers
        if self.fmt == "xlsx":
            self._new_sheet(widths)
            return
        self._close_csv()
        target = self.path / f"{sheet_name(title, self._names)}.csv"
        # utf-8-sig: Excel opens it as UTF-8 (Indonesian names, "≥") only with the BOM.
        self._file = target.open("w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._file)
        self._csv.writerow(headers)
        self.files.append(target)

    def _new_sheet(self, widths: Sequence[int] = ()) -> None:
        self._sheet = self._book.add_worksheet(sheet_name(self._title, self._names))
        assert self._sheet is not None
        for column, width in enumerate(widths):
            self._sheet.set_column(column, column, width)
        self._sheet.write_row(0, 0, self._headers, self._bold)
        self._sheet.freeze_panes(1, 0)
        # The header row out to the data file now: the rows follow it there (`_write_xml`).
        self._sheet._write_single_row(1)
        self._row = 1
        self._letters = [xl_col_to_name(column) for column in range(len(self._headers))]

    def rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        if self.fmt == "csv":
            self._csv.writerows([_csv_cell(value) for value in row] for row in rows)
            return
        start = 0
        while start < len(rows):
            if self._row == MAX_ROWS:
                self._new_sheet()
            batch = rows[start:start + MAX_ROWS - self._row]
            self._write_xml(batch)
            start += len(batch)

    def _write_xml(self, rows: Sequence[Sequence[Cell]]) -> None:
        """The rows' XML straight into the sheet's data file. XlsxWriter's own cell writers
        keep each cell as an object, dispatch on its type and escape it with three regular
        expressions: two thirds of the time of a million-row export. The XML is the same as
        theirs (inline strings, as constant-memory mode writes them); text with anything to
        escape is escaped by XlsxWriter's own functions."""
        sheet = self._sheet
        assert sheet is not None
        letters, parts = self._letters, []
        number = self._row
        for row in rows:
            number += 1
            parts.append(f'<row r="{number}">')
            for column, value in enumerate(row):
                if value is None or value == "":  # an empty cell, as XlsxWriter leaves it
                    continue
                kind = type(value)
                if kind is str:
                    parts.append(f'<c r="{letters[column]}{number}" t="inlineStr"><is>'
                                 f'{_inline(sheet, value)}</is></c>')  # type: ignore[arg-type]
                elif kind is bool:
                    parts.append(f'<c r="{letters[column]}{number}" t="b">'
                                 f'<v>{int(value)}</v></c>')
                elif kind is int:
                    parts.append(f'<c r="{letters[column]}{number}"><v>{value}</v></c>')
                else:
                    parts.append(f'<c r="{letters[column]}{number}"><v>{value:.16G}</v></c>')
            parts.append("</row>")
        sheet.fh.write("".join(parts))
        self._row += len(rows)
        sheet.dim_rowmax = self._row - 1

    def _close_csv(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# What XlsxWriter would escape or mark in a string: XML's special characters, control
# characters and its own _xHHHH_ escapes, whitespace at either end.
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_|^\s|\s$")


def _inline(sheet: Worksheet, text: str) -> str:
    """An inline string's <t> element, as XlsxWriter writes it."""
    if not _SPECIAL.search(text):
        return f"<t>{text}</t>"
    preserve = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    escaped = sheet._escape_data(sheet._escape_control_characters(text))
    return f"<t{preserve}>{escaped}</t>"


def _csv_cell(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
