"""CSV that Excel opens correctly with Chinese text, and that cannot run formulas.

Excel guesses a CSV's encoding from its first bytes: without a UTF-8 byte order mark it reads
GBK or Latin-1 and 王秀英 turns into mojibake. RFC 4180 wants CRLF line ends and fields with
commas, quotes or line breaks in double quotes. A cell starting with ``= + - @`` (or a tab or
carriage return, which Excel skips before looking) is a formula to Excel, so a resident named
``=HYPERLINK(...)`` could run one on a staff computer; such cells get a leading apostrophe,
which Excel shows as text (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None


def neutralise(cell: Cell) -> str:
    """The text of one cell, made inert for spreadsheet programs."""
    if cell is None:
        return ""
    text = str(cell)
    if isinstance(cell, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """The file as text chunks (BOM first, then one line per row), for a streamed response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)

    def line(cells: Sequence[Cell]) -> str:
        writer.writerow([neutralise(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield BOM + line(header)
    for row in rows:
        yield line(row)
