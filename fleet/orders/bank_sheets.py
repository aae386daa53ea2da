"""An Excel (.xlsx) statement's first sheet as rows, each with its sheet row number, so a
broken row is named by the row Excel shows. Cells stay as openpyxl gives them (text,
numbers, dates): the reader decides what each column must hold."""

from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook

from fleet.orders.statements import MAX_LINES, RowError, StatementError

XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive


def xlsx_rows(data: bytes) -> list[tuple[int, list[object]]]:
    """The first sheet's rows (row number, cells); StatementError if it is not a
    workbook openpyxl can open (an old .xls, a zip of something else)."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise StatementError(
            [RowError(1, "-", f"not an Excel workbook (.xlsx): {type(exc).__name__}", "row")]
        ) from None
    try:
        sheet = book.worksheets[0]
        rows: list[tuple[int, list[object]]] = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_LINES:
                raise StatementError([RowError(number, "-", f"more than {MAX_LINES} rows", "row")])
            rows.append((number, list(cells)))
        return rows
    finally:
        book.close()
