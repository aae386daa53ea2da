"""One way in for every statement format a bank account can have: the Indonesian banks'
exports (``bca``, ``mandiri``, ``bri``: CSV or Excel, told by the content), SWIFT MT940,
ISO 20022 CAMT.053 and a generic CSV read by the account's own column mapping.

A file is looked at before it is read: an empty file, or a file of another format than
the account's (a CAMT.053 uploaded for a BCA account, an Excel workbook for an MT940
account), is refused with a StatementError saying what it looks like, never a
traceback.
"""

from __future__ import annotations

from datetime import date, datetime

from fleet.orders.bank_camt import looks_like_camt053, read_camt053
from fleet.orders.bank_exports import BANK_NAMES, read_export
from fleet.orders.bank_mt940 import looks_like_mt940, read_mt940
from fleet.orders.bank_sheets import XLSX_MAGIC, xlsx_rows
from fleet.orders.statements import (
    ColumnMapping,
    RowError,
    StatementError,
    StatementLine,
    decode,
    read_csv,
    read_rows,
)
from terminal.core.errors import N_

# each format and how the console names it (translated where it is shown)
FORMATS = {
    "bca": N_("BCA: KlikBCA mutasi rekening (CSV)"),
    "mandiri": N_("Mandiri: MCM, Kopra or Livin' (CSV or Excel)"),
    "bri": N_("BRI: BRImo, Internet Banking Bisnis or QLola (CSV or Excel)"),
    "mt940": N_("SWIFT MT940"),
    "camt053": N_("ISO 20022 CAMT.053 (XML)"),
    "csv": N_("CSV or Excel with a column mapping"),
}


def kind_of(data: bytes) -> str:
    """What the bytes look like: ``xlsx``, ``camt053``, ``xml``, ``mt940``, ``pdf``,
    ``zip``, ``binary`` or ``text``."""
    if data.startswith(XLSX_MAGIC):
        return "xlsx" if b"xl/" in data[:65536] or b"[Content_Types].xml" in data else "zip"
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"  # the old binary Excel: openpyxl does not read it
    if looks_like_camt053(data):
        return "camt053"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "xml"
    if b"\x00" in data[:4096]:
        return "binary"
    if looks_like_mt940(decode(data[:65536])):
        return "mt940"
    return "text"


KIND_NAMES = {
    "xlsx": "an Excel workbook",
    "zip": "a zip archive",
    "pdf": "a PDF document",
    "xls": "an old Excel (.xls) workbook: save it as .xlsx",
    "camt053": "a CAMT.053 (ISO 20022 XML) statement",
    "xml": "an XML document",
    "binary": "a binary file",
    "mt940": "an MT940 statement",
    "text": "a text (CSV) file",
}
ACCEPTS = {
    "bca": {"text", "xlsx"},
    "mandiri": {"text", "xlsx"},
    "bri": {"text", "xlsx"},
    "csv": {"text", "xlsx"},
    "mt940": {"mt940"},
    "camt053": {"camt053"},
}


def read_statement(
    data: bytes,
    format: str,
    mapping: ColumnMapping | None,
    filename: str = "",
    currency: str = "IDR",
) -> list[StatementLine]:
    """The statement's lines (keys included) in ``format``; StatementError for an
    unknown format, an empty file, a file of another format, or broken rows (all named).
    ``filename`` only words the refusal; the content decides how the file is read."""
    if format not in FORMATS:
        raise StatementError(
            [RowError(1, "-", f"unknown format {format!r}; known: {', '.join(FORMATS)}")]
        )
    if not data.strip():
        raise StatementError([RowError(1, "-", "the file is empty")])
    kind = kind_of(data)
    if kind not in ACCEPTS[format]:
        named = f"{filename} is " if filename else "the file is "
        raise StatementError(
            [
                RowError(
                    1,
                    "-",
                    f"{named}{KIND_NAMES[kind]}, not {_expected(format)}: "
                    "choose the account it belongs to",
                )
            ]
        )
    if format in BANK_NAMES:
        return read_export(data, format, currency)
    if format == "mt940":
        return read_mt940(data, currency)
    if format == "camt053":
        return read_camt053(data, currency)
    if mapping is None:
        raise StatementError([RowError(1, "-", "the account has no column mapping saved")])
    if kind == "xlsx":
        rows = [(n, [_cell(c, mapping) for c in cells]) for n, cells in xlsx_rows(data)]
        return read_rows(rows, mapping, "row")
    return read_csv(decode(data), mapping)


def _expected(format: str) -> str:
    if format in BANK_NAMES:
        return f"a {BANK_NAMES[format]} export (CSV or .xlsx)"
    return {
        "mt940": "an MT940 statement",
        "camt053": "a CAMT.053 statement",
        "csv": "a CSV or .xlsx file",
    }[format]


def _cell(value: object, mapping: ColumnMapping) -> str:
    """An Excel cell as the mapping reads text: dates in its date format, numbers with
    its decimal separator."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.strftime(mapping.date_format)
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = f"{value:f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
        return text.replace(".", mapping.decimal_sep)
    return str(value)
