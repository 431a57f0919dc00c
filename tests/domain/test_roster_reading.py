"""Reading a roster file: CSV in the encodings offices save, .xlsx, headers in Chinese or
English, rows numbered as Excel shows them, and every file that is no roster refused plainly."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook

from booking.people.roster import reading
from booking.people.roster.reading import RosterFileError, RowProblem, read_roster

ROWS = [["王秀英", "13800000001", "1950"], ["李建国", "13800000002", ""]]


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return "\r\n".join(lines).encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (
            csv_bytes(["姓名,手机号,出生年份", "王秀英,13800000001,1950", "李建国,13800000002,"]),
            "utf-8",
        ),
        (
            b"\xef\xbb\xbf"
            + csv_bytes(["姓名,手机号,出生年份", "王秀英,13800000001,1950", "李建国,13800000002,"]),
            "utf-8",
        ),
        (
            csv_bytes(
                ["姓名,手机号,出生年份", "王秀英,13800000001,1950", "李建国,13800000002,"], "gbk"
            ),
            "gb18030",
        ),
        (
            csv_bytes(
                ["姓名\t手机号\t出生年份", "王秀英\t13800000001\t1950", "李建国\t13800000002\t"],
                "gb18030",
            ),
            "gb18030",
        ),
    ],
    ids=["utf-8", "utf-8 with BOM", "GBK from Chinese Excel", "tab-separated GB18030"],
)
def test_a_csv_is_read_in_each_encoding_offices_save(data: bytes, encoding: str) -> None:
    sheet = read_roster(data)
    assert (sheet.kind, sheet.encoding) == ("csv", encoding)
    assert [list(row.values.values()) for row in sheet.rows] == ROWS
    assert [row.number for row in sheet.rows] == [2, 3]


def test_an_xlsx_is_read_with_numbers_dates_and_a_title_row_as_excel_numbers_them() -> None:
    data = xlsx_bytes([
        ["永盛社区居民花名册"],
        ["Name", "Phone number", "Date of birth", "备注"],
        ["王秀英", 13800000001, datetime(1950, 3, 2)],
        [],
        ["李建国", 13800000002.0, None, "不导入"],
    ])  # fmt: skip
    sheet = read_roster(data)
    assert sheet.kind == "xlsx" and sheet.header_row == 2
    assert sheet.ignored_headers == ("备注",)
    assert [(row.number, row.values) for row in sheet.rows] == [
        (3, {"name": "王秀英", "phone": "13800000001", "birth_year": "1950-03-02"}),
        (5, {"name": "李建国", "phone": "13800000002", "birth_year": ""}),
    ]


def test_a_formula_an_excel_mangled_phone_and_a_long_cell_are_problems_of_their_row() -> None:
    sheet = read_roster(xlsx_bytes([["姓名", "手机号"], ["=A1&A1", "1.38E+10"], ["王" * 300, "x"]]))
    assert sheet.rows[0].problems == [RowProblem("name", reading.FORMULA),
                                      RowProblem("phone", reading.SCIENTIFIC_NUMBER)]  # fmt: skip
    assert sheet.rows[1].problems == [RowProblem("name", reading.CELL_TOO_LONG)]


def test_the_exports_guard_against_formulas_is_undone_on_reading() -> None:
    sheet = read_roster(csv_bytes(["姓名,手机号", "'=王,13800000001", "'张,13800000002"]))
    assert [row.values["name"] for row in sheet.rows] == ["=王", "'张"]


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (reading.MAX_UNPACKED_BYTES + 1))
    return out.getvalue()


def not_a_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", reading.EMPTY),
        (b" \r\n", reading.EMPTY),
        (b"x" * (reading.MAX_FILE_BYTES + 1), reading.TOO_BIG),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, reading.OLD_EXCEL),
        (b"PK\x03\x04 not really a zip", reading.BAD_XLSX),
        (not_a_workbook(), reading.NOT_A_ROSTER),
        (zip_bomb(), reading.TOO_BIG),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", reading.NOT_A_ROSTER),
        ("姓名,手机号\n王,1".encode("utf-16"), reading.NOT_A_ROSTER),
        (b"\x81\x30\x81" * 4, reading.ENCODING),
        (csv_bytes(["name,address", "王,1号楼"]), reading.NO_HEADER),
        (csv_bytes(["姓名,手机号,电话", "王,1,2"]), reading.DUPLICATE_COLUMN),
        (
            csv_bytes(["姓名,手机号," + ",".join(f"c{n}" for n in range(45))]),
            reading.TOO_MANY_COLUMNS,
        ),
        (csv_bytes(["姓名,手机号", '"' + "王" * 200_000 + '"']), reading.BAD_CSV),
        (
            csv_bytes(["姓名,手机号"] + ["王,13800000001"] * (reading.MAX_ROWS + 1)),
            reading.TOO_MANY_ROWS,
        ),
    ],
    ids=[
        "empty",
        "blank",
        "too big",
        ".xls",
        "broken zip",
        "zip not xlsx",
        "zip bomb",
        "png",
        "utf-16",
        "neither utf-8 nor gbk",
        "no header",
        "two phone columns",
        "too wide",
        "a cell of 200,000 characters",
        "too many rows",
    ],  # fmt: skip
)
def test_a_file_that_is_no_roster_is_refused_with_its_reason(data: bytes, reason: str) -> None:
    with pytest.raises(RosterFileError) as refused:
        read_roster(data)
    assert refused.value.details["reason"] == reason


def test_an_xlsx_with_too_many_rows_is_refused_without_reading_them_all() -> None:
    rows: list[list[object]] = [["姓名", "手机号"]]
    rows += [["王", 13800000001]] * (reading.MAX_ROWS + 1)
    with pytest.raises(RosterFileError) as refused:
        read_roster(xlsx_bytes(rows))
    assert refused.value.details["reason"] == reading.TOO_MANY_ROWS
