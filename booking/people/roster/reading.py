"""Reading a roster file: CSV (UTF-8 with or without a BOM, or GB18030/GBK as Chinese Excel
saves it) or Excel .xlsx, told apart by their bytes, not by the file's name.

A file is read into rows numbered as the operator sees them in Excel, each cell as text, with
the problems of a cell that reading alone finds (a formula, a phone Excel wrote as 1.38E+10,
a cell far too long). What is wrong with the whole file (not a roster, too big, no 姓名 or
手机号 column) raises :class:`RosterFileError`, whose ``reason`` says which, before any row
is checked.

An .xlsx is a zip of XML: a few hundred kilobytes can unpack to gigabytes. Its members' sizes
are checked before openpyxl opens it (Python's zip reader stops at the size a member
declares), the sheet is read in openpyxl's streaming mode, and reading stops at the row limit.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from booking.core.errors import InvalidInput
from booking.people.roster.columns import COLUMNS, Column, column_for

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_ROWS = 20_000  # a centre serves about 12,000 residents
MAX_SHEET_ROWS = MAX_ROWS + 5_000  # with blank rows between them
MAX_COLUMNS = 40
MAX_CELL_CHARS = 200  # the longest detail is 60; more is a pasted paragraph, not a name
HEADER_SEARCH_ROWS = 10  # a title row or two ("永盛社区居民花名册") may come first

XLSX_MAGIC = b"PK\x03\x04"
OLD_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls and other OLE2 files
UTF8_BOM = b"\xef\xbb\xbf"
# Excel writes a long number in a CSV as it shows it: 13800000001 becomes 1.38E+10 and its
# digits are gone. Said plainly, since the fix is in Excel (format the column as text).
SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
# What our own export puts before a cell Excel would run as a formula (kiosk's csv_export).
FORMULA_STARTS = ("=", "+", "-", "@")

# Why a file cannot be read (RosterFileError.details["reason"]).
EMPTY, TOO_BIG, NOT_A_ROSTER, OLD_EXCEL, BAD_XLSX, BAD_CSV, ENCODING = (
    "empty", "too_big", "not_a_roster", "old_excel", "bad_xlsx", "bad_csv", "encoding",
)  # fmt: skip
TOO_MANY_ROWS, TOO_MANY_COLUMNS, NO_HEADER, DUPLICATE_COLUMN = (
    "too_many_rows", "too_many_columns", "no_header", "duplicate_column",
)  # fmt: skip

# Problems of one cell that reading finds (RowProblem.code; the rest come from checking).
FORMULA, SCIENTIFIC_NUMBER, CELL_TOO_LONG = "formula", "scientific", "too_long"


class RosterFileError(InvalidInput):
    """The file cannot be read as a roster; ``details["reason"]`` is one of the reasons
    above, with ``column``, ``limit`` or ``row`` where they help."""

    code = "roster_file"


@dataclass(frozen=True)
class RowProblem:
    """Why a row would be rejected: ``code`` about ``field`` (a column key, or "" for the
    whole row); ``other_row`` is the row it clashes with, ``resident_id`` the resident."""

    field: str
    code: str
    other_row: int | None = None
    resident_id: int | None = None


@dataclass
class RosterRow:
    number: int  # as Excel numbers it: the header is row 1 (or lower, after a title)
    values: dict[str, str]
    problems: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True)
class RosterSheet:
    kind: str  # "csv" or "xlsx"
    encoding: str | None  # of a CSV
    columns: tuple[Column, ...]  # found, in the file's order
    ignored_headers: tuple[str, ...]
    header_row: int
    rows: list[RosterRow]


def read_roster(data: bytes) -> RosterSheet:
    """The rows of a roster file, or :class:`RosterFileError`."""
    if not data.strip():
        raise RosterFileError("the file is empty", reason=EMPTY)
    if len(data) > MAX_FILE_BYTES:
        raise RosterFileError("the file is too big", reason=TOO_BIG, limit=MAX_FILE_BYTES)
    if data.startswith(OLD_EXCEL_MAGIC):
        raise RosterFileError("an old .xls file: save it as .xlsx", reason=OLD_EXCEL)
    if data.startswith(XLSX_MAGIC):
        return _sheet("xlsx", None, _xlsx_rows(data))
    text, encoding = _decode(data)
    return _sheet("csv", encoding, _csv_rows(text))


# --- the two formats ---------------------------------------------------------------------------

Cells = Sequence["Cell"]


@dataclass(frozen=True)
class Cell:
    text: str
    problem: str | None = None


def _decode(data: bytes) -> tuple[str, str]:
    if b"\x00" in data[:4096]:
        # UTF-16 ("Unicode text" from Excel) or a binary file: neither is a CSV we read.
        raise RosterFileError("not a CSV or .xlsx file", reason=NOT_A_ROSTER)
    if data.startswith(UTF8_BOM):
        try:
            return data[len(UTF8_BOM) :].decode("utf-8"), "utf-8"
        except UnicodeDecodeError as error:
            raise RosterFileError("not valid UTF-8", reason=ENCODING) from error
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # What Chinese Excel saves as "CSV (逗号分隔)": GBK, of which GB18030 is the superset.
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as error:
        raise RosterFileError("neither UTF-8 nor GBK text", reason=ENCODING) from error


def _csv_rows(text: str) -> Iterator[list[Cell]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for record in reader:
            yield [_text_cell(value) for value in record[: MAX_COLUMNS + 1]]
    except csv.Error as error:
        raise RosterFileError(
            "the CSV cannot be read", reason=BAD_CSV, row=reader.line_num
        ) from error


def _xlsx_rows(data: bytes) -> Iterator[list[Cell]]:
    # openpyxl is imported here: it takes a moment, and only .xlsx files need it.
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise RosterFileError("the .xlsx file is damaged", reason=BAD_XLSX) from error
    if "xl/workbook.xml" not in names:
        raise RosterFileError("a zip file, but not an .xlsx workbook", reason=NOT_A_ROSTER)
    if unpacked > MAX_UNPACKED_BYTES:
        raise RosterFileError("the .xlsx file unpacks too big", reason=TOO_BIG,
                              limit=MAX_UNPACKED_BYTES)  # fmt: skip
    try:
        # Not data_only: a formula is reported as one, rather than read as whatever value the
        # program that saved the file cached (or did not).
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a broken workbook
        raise RosterFileError("the .xlsx file is damaged", reason=BAD_XLSX) from error
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise RosterFileError("the workbook has no sheet", reason=NOT_A_ROSTER)
        rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS + 1)
        for number, row in enumerate(_guarded(rows), start=1):
            if number > MAX_SHEET_ROWS:
                raise RosterFileError("too many rows", reason=TOO_MANY_ROWS, limit=MAX_ROWS)
            yield [_xlsx_cell(cell) for cell in row]
    finally:
        workbook.close()


def _guarded(rows: Iterable[Sequence[object]]) -> Iterator[Sequence[object]]:
    """openpyxl's rows, its errors on a malformed sheet turned into a clear one."""
    iterator = iter(rows)
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except RosterFileError:
            raise
        except Exception as error:  # a damaged sheet's XML, bad shared strings…
            raise RosterFileError("the .xlsx file is damaged", reason=BAD_XLSX) from error
        yield row


def _xlsx_cell(cell: object) -> Cell:
    value = getattr(cell, "value", None)
    kind = getattr(cell, "data_type", "n")
    if kind in ("f", "e"):
        return Cell(str(value or ""), FORMULA)
    if value is None:
        return Cell("")
    if isinstance(value, bool):
        return Cell("是" if value else "否")
    if isinstance(value, float):
        return Cell(str(int(value)) if value.is_integer() else repr(value))
    if isinstance(value, datetime | date):
        return Cell(value.strftime("%Y-%m-%d"))
    if isinstance(value, time):
        return Cell(value.isoformat())
    return _text_cell(str(value))


def _text_cell(raw: str) -> Cell:
    text = raw.strip().replace("\u3000", " ").strip()
    if text.startswith("'") and text[1:2] in FORMULA_STARTS:
        text = text[1:]  # undo the export's guard against formulas, so a roster round-trips
    if len(text) > MAX_CELL_CHARS:
        return Cell(text[:MAX_CELL_CHARS], CELL_TOO_LONG)
    if SCIENTIFIC.match(text):
        return Cell(text, SCIENTIFIC_NUMBER)
    return Cell(text)


# --- the header and the rows -------------------------------------------------------------------


def _sheet(kind: str, encoding: str | None, rows: Iterator[list[Cell]]) -> RosterSheet:
    header: list[Column | None] | None = None
    header_row = 0
    ignored: tuple[str, ...] = ()
    found: list[RosterRow] = []
    for number, cells in enumerate(rows, start=1):
        if header is None:
            if number > HEADER_SEARCH_ROWS:
                break
            header, ignored = _header(cells)
            header_row = number if header is not None else 0
            continue
        if not any(cell.text for cell in cells):
            continue  # blank rows between blocks of a sheet are not residents
        if len(found) >= MAX_ROWS:
            raise RosterFileError("too many rows", reason=TOO_MANY_ROWS, limit=MAX_ROWS)
        found.append(_row(number, header, cells))
    if header is None:
        raise RosterFileError(
            "no header row with the name and phone columns", reason=NO_HEADER,
            column="/".join(c.header for c in COLUMNS if c.required),
        )  # fmt: skip
    columns = tuple(column for column in header if column is not None)
    return RosterSheet(kind, encoding, columns, ignored, header_row, found)


def _header(cells: Sequence[Cell]) -> tuple[list[Column | None] | None, tuple[str, ...]]:
    """The columns a row names, if it names every required one; else None (not the header)."""
    if len(cells) > MAX_COLUMNS and any(cell.text for cell in cells[MAX_COLUMNS:]):
        raise RosterFileError("too many columns", reason=TOO_MANY_COLUMNS, limit=MAX_COLUMNS)
    columns = [column_for(cell.text) for cell in cells]
    if not all(column in columns for column in COLUMNS if column.required):
        return None, ()
    seen: set[str] = set()
    for column in columns:
        if column is not None:
            if column.key in seen:
                raise RosterFileError("two columns have the same meaning",
                                      reason=DUPLICATE_COLUMN, column=column.header)  # fmt: skip
            seen.add(column.key)
    ignored = tuple(c.text for c, col in zip(cells, columns, strict=True) if col is None and c.text)
    return columns, ignored


def _row(number: int, header: Sequence[Column | None], cells: Sequence[Cell]) -> RosterRow:
    row = RosterRow(number, {})
    for column, cell in zip(header, cells, strict=False):
        if column is None:
            continue
        row.values[column.key] = cell.text
        if cell.problem is not None:
            row.problems.append(RowProblem(column.key, cell.problem))
    return row
