"""The roster as an .xlsx workbook (the CSV is kiosk.staff.csv_export's).

Every text cell is written as a string cell, never as a formula: openpyxl takes any text that
starts with "=" for a formula, and a resident named ``=HYPERLINK(...)`` must stay a name. A
phone stays text too, so Excel does not show 13800000001 as 1.38E+10.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Cell = str | int | None


def write_xlsx(out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")

    def cells(values: Sequence[Cell]) -> list[WriteOnlyCell]:
        made = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            made.append(cell)
        return made

    sheet.append(cells(header))
    for row in rows:
        sheet.append(cells(row))
    workbook.save(out)
