"""Bank statements as uploaded: each bank's export read into lines, every broken row named
with its line number, nothing returned unless all rows are good.

A generic CSV reader takes a :class:`ColumnMapping` (saved per bank account): which
column holds the date, the description, the amount (one signed column, one column with
a CR/DB marker, or a credit and a debit column), the date format and the number format.

A line is known by its content and date (:attr:`StatementLine.key`): the same transfer in a
statement uploaded twice, or in two overlapping statements, has the same key, so it can
never pay two bookings. Identical lines of one day (two transfers of the same amount
from the same payer) are told apart by their order within that day.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision

from terminal.core.money import CURRENCIES

MAX_LINES = 200_000


@dataclass(frozen=True)
class StatementLine:
    line_no: int  # in the file, as an editor shows it (1 = the first line)
    booked_on: date
    amount: int  # minor units; credits (money in) positive, debits negative
    description: str
    key: str = ""  # content + date + order within identical lines: see the module

    @property
    def is_credit(self) -> bool:
        return self.amount > 0


@dataclass(frozen=True)
class RowError:
    line_no: int
    column: str
    message: str
    unit: str = "line"  # what ``line_no`` counts: a text file's line, a sheet's row

    def __str__(self) -> str:
        return f"{self.unit} {self.line_no}, {self.column}: {self.message}"


class StatementError(ValueError):
    """The statement's broken rows, all of them, each with its line number."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors[:20]))
        self.errors = errors


@dataclass(frozen=True)
class ColumnMapping:
    """How one bank account's CSV export reads. Columns are named by their header."""

    date: str
    description: str
    amount: str = ""  # one column: signed, or with a CR/DB marker (``marker_credit``)
    credit: str = ""  # or two: money in, money out
    debit: str = ""
    date_format: str = "%d/%m/%Y"
    decimal_sep: str = ","
    thousands_sep: str = "."
    delimiter: str = ","
    header_row: int = 1  # the header's line number (banks put an account block above it)
    marker_credit: str = "CR"  # the suffix of a credit in a one-column amount
    marker_debit: str = "DB"
    exponent: int = 0  # the currency's decimals in minor units (IDR: 0)
    skip_values: tuple[str, ...] = field(default=("PEND",))  # rows not booked yet

    def __post_init__(self) -> None:
        if bool(self.amount) == bool(self.credit or self.debit):
            raise ValueError("name either an amount column or credit and debit columns")


def _normal(text: str) -> str:
    return " ".join(text.upper().split())


def parse_amount(text: str, decimal_sep: str, thousands_sep: str, exponent: int) -> int:
    """``"150,123.00"`` -> ``150123`` (minor units, ``exponent`` decimals); a fraction
    of the minor unit, or anything not a number, raises InvalidOperation."""
    cleaned = text.strip().replace(" ", "")
    if thousands_sep:
        cleaned = cleaned.replace(thousands_sep, "")
    cleaned = cleaned.replace(decimal_sep, ".")
    value = Decimal(cleaned)
    if not value.is_finite():
        raise InvalidOperation
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise InvalidOperation
    return int(scaled)


def minor_units(value: Decimal, currency: str) -> int:
    """An amount in the currency's minor units (IDR: whole rupiah, 0 decimals); a
    fraction of the minor unit raises InvalidOperation."""
    scaled = abs(value).scaleb(exponent(currency))
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise InvalidOperation
    return int(scaled) * (-1 if value < 0 else 1)


def exponent(currency: str) -> int:
    """The currency's decimals in minor units: the terminals' own table first (it
    counts IDR in whole rupiah), ISO 4217 (through babel) for the others."""
    known = CURRENCIES.get(currency)
    return known.exponent if known else get_currency_precision(currency)


def _amount(text: str, m: ColumnMapping) -> int:
    return parse_amount(text, m.decimal_sep, m.thousands_sep, m.exponent)


def _signed(cells: dict[str, str], m: ColumnMapping) -> int:
    if m.amount:
        text = cells[m.amount].strip().upper()
        sign = 1
        if text.endswith(m.marker_credit):
            text = text[: -len(m.marker_credit)]
        elif text.endswith(m.marker_debit):
            text, sign = text[: -len(m.marker_debit)], -1
        return sign * _amount(text, m)
    credit = cells.get(m.credit, "").strip() if m.credit else ""
    debit = cells.get(m.debit, "").strip() if m.debit else ""
    if credit and debit and _amount(credit, m) and _amount(debit, m):
        raise InvalidOperation("both a credit and a debit")
    if credit and _amount(credit, m):
        return _amount(credit, m)
    return -_amount(debit, m) if debit else 0


def csv_rows(text: str, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """Each CSV row with the line it starts on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows, end = [], 0
    for row in reader:
        rows.append((end + 1, row))
        end = reader.line_num
        if len(rows) > MAX_LINES:
            raise StatementError([RowError(MAX_LINES, "-", f"more than {MAX_LINES} lines")])
    return rows


def decode(data: bytes | str) -> str:
    """A text export's bytes as text: UTF-8 (with or without its mark), else the
    Windows code page the banks' older exports use."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def read_csv(data: bytes | str, mapping: ColumnMapping) -> list[StatementLine]:
    """Every line of a CSV statement; StatementError naming each broken row."""
    text = data.decode("utf-8-sig", "replace") if isinstance(data, bytes) else data
    return read_rows(csv_rows(text, mapping.delimiter), mapping)


def read_rows(
    rows: list[tuple[int, list[str]]], mapping: ColumnMapping, unit: str = "line"
) -> list[StatementLine]:
    """The statement's lines from its rows (each with its line, or its sheet row:
    ``unit``), read by ``mapping``; StatementError naming each broken row."""
    if len(rows) < mapping.header_row:
        raise StatementError([RowError(1, "-", "no header line", unit)])
    header = [h.strip() for h in rows[mapping.header_row - 1][1]]
    wanted = [mapping.date, mapping.description, mapping.amount, mapping.credit, mapping.debit]
    missing = [c for c in wanted if c and c not in header]
    if missing:
        return _fail(rows[mapping.header_row - 1][0], missing, header, unit)
    errors: list[RowError] = []
    lines: list[StatementLine] = []
    for offset, row in rows[mapping.header_row :]:
        if not any(cell.strip() for cell in row):
            continue  # a blank line (banks end with a summary block after one)
        cells = dict(zip(header, row, strict=False))
        raw_date = cells.get(mapping.date, "").strip().lstrip("'")
        if raw_date.upper() in mapping.skip_values:
            continue
        if len(row) < len(header):
            errors.append(
                RowError(offset, "-", f"{len(row)} columns, the header has {len(header)}", unit)
            )
            continue
        try:
            booked = datetime.strptime(raw_date, mapping.date_format).date()
        except ValueError:
            errors.append(
                RowError(
                    offset,
                    mapping.date,
                    f"{raw_date!r} is not a date ({mapping.date_format})",
                    unit,
                )
            )
            continue
        try:
            amount = _signed(cells, mapping)
        except (InvalidOperation, ValueError, KeyError):
            column = mapping.amount or f"{mapping.credit}/{mapping.debit}"
            shown = cells.get(mapping.amount or mapping.credit, "")
            errors.append(RowError(offset, column, f"{shown!r} is not an amount", unit))
            continue
        lines.append(StatementLine(offset, booked, amount, cells[mapping.description].strip()))
    if errors:
        raise StatementError(errors)
    return with_keys(lines)


def _fail(
    line_no: int, missing: list[str], header: list[str], unit: str = "line"
) -> list[StatementLine]:
    raise StatementError(
        [
            RowError(line_no, c, f"no such column; the columns are {', '.join(header)}", unit)
            for c in missing
        ]
    )


def with_keys(lines: list[StatementLine]) -> list[StatementLine]:
    """Each line with its key: content, date, and its order among identical lines."""
    seen: Counter = Counter()
    out = []
    for line in lines:
        content = (line.booked_on.isoformat(), line.amount, _normal(line.description))
        seen[content] += 1
        digest = hashlib.sha256(repr((*content, seen[content])).encode()).hexdigest()[:32]
        out.append(
            StatementLine(line.line_no, line.booked_on, line.amount, line.description, digest)
        )
    return out


def payer_words(description: str) -> str:
    """A transfer's description without the bank's own words and numbers: what is left
    is mostly the payer's name (``TRSF E-BANKING CR 2711/FTSCY/WS95031 150000.00 BUDI
    SANTOSO`` -> ``BUDI SANTOSO``)."""
    words = [w for w in re.split(r"[\s/|]+", _normal(description)) if w]
    kept = [w for w in words if w.isalpha() and w not in BANK_WORDS and len(w) > 1]
    return " ".join(kept)


# the banks' own words in transfer descriptions (BCA, Mandiri, BRI, BI-FAST), not names
_WORDS = (
    "TRSF TRF TRANSFER E-BANKING EBANKING CR DB KR DR SETORAN TUNAI BI FAST BIFAST SKN "
    "RTGS ATM MBANKING M-BANKING IBANKING INTERNET BANKING DARI KE KEPADA FROM TO "
    "PEMBAYARAN BAYAR PAYMENT ORDER PESANAN SWITCHING FTSCY FTFVA MCM INHOUSE ONLINE QRIS"
)
BANK_WORDS = frozenset(_WORDS.split())


def mapping_to_json(mapping: ColumnMapping) -> str:
    """The mapping as saved with its bank account (``BankAccount.mapping``)."""
    return json.dumps(dataclasses.asdict(mapping), sort_keys=True)


def mapping_from_json(text: str) -> ColumnMapping:
    """A saved mapping back; ValueError if it is not one (names the field)."""
    try:
        saved = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the saved column mapping is not JSON: {exc}") from None
    if not isinstance(saved, dict):
        raise ValueError("the saved column mapping is not an object")
    known = {f.name: f for f in dataclasses.fields(ColumnMapping)}
    values = {}
    for name, value in saved.items():
        if name not in known:
            raise ValueError(f"the saved column mapping has an unknown field {name!r}")
        values[name] = tuple(value) if name == "skip_values" else value
    return ColumnMapping(**values)


# presets for a new ``csv`` account's mapping: how the Indonesian banks' CSV exports
# commonly read (a date, a description, one amount column
# with a CR/DB marker; or a credit and a debit column), dates as day/month/year
LAYOUTS = {
    "amount-cr-db": ColumnMapping(
        date="Tanggal",
        description="Keterangan",
        amount="Jumlah",
        decimal_sep=".",
        thousands_sep=",",
    ),
    "credit-debit": ColumnMapping(
        date="Tanggal",
        description="Keterangan",
        credit="Kredit",
        debit="Debit",
        decimal_sep=",",
        thousands_sep=".",
    ),
}
