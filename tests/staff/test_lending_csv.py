"""CSV for Excel: UTF-8 with a byte order mark, CRLF, RFC 4180 quoting, no formulas."""

from __future__ import annotations

import csv
import io

import pytest

from kiosk.staff.csv_export import csv_lines, neutralise


def as_bytes(header: list[str], rows: list[list[object]]) -> bytes:
    return "".join(csv_lines(header, rows)).encode("utf-8")  # type: ignore[arg-type]


def test_the_file_starts_with_a_utf8_byte_order_mark_so_excel_reads_chinese() -> None:
    data = as_bytes(["姓名"], [["王秀英"]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == "姓名\r\n王秀英\r\n"


def test_every_line_ends_with_crlf() -> None:
    data = as_bytes(["a", "b"], [["1", "2"], ["3", "4"]]).decode("utf-8-sig")
    assert data == "a,b\r\n1,2\r\n3,4\r\n"


def test_commas_quotes_and_line_breaks_are_quoted_and_read_back_intact() -> None:
    awkward = ["张三, 李四", 'say "hi"', "line one\nline two"]
    text = as_bytes(["x", "y", "z"], [awkward]).decode("utf-8-sig")
    assert '"张三, 李四"' in text and '"say ""hi"""' in text
    assert list(csv.reader(io.StringIO(text, newline="")))[1] == awkward


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("王=1", "王=1"),
        ("13800000001", "13800000001"),
        ("", ""),
    ],
)
def test_cells_that_excel_would_run_as_formulas_get_a_leading_apostrophe(
    cell: str, written: str
) -> None:
    assert neutralise(cell) == written


def test_numbers_and_empty_cells_are_written_as_they_are() -> None:
    assert neutralise(-3) == "-3"
    assert neutralise(None) == ""
