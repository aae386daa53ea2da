"""The Indonesian banks' internet-banking exports (BCA, Mandiri, BRI), CSV or Excel, read
into statement lines: the account block above the header read for the period and the
currency, the header found by its column names, pending rows left out, the summary block
at the end left out, every broken row named by its line (CSV) or sheet row (Excel).

The banks publish no specification of these files. The layouts below are built from
public open-source code that reads them (see ``tests/fleet/data/statements/README.md``
for the samples made from them):

- BCA, KlikBCA individual "mutasi rekening" CSV: header ``Tanggal Transaksi, Keterangan,
  Cabang, Jumlah, , Saldo`` under an account block (``No. Rekening,=,'…``, ``Nama``,
  ``Periode``, ``Kode Mata Uang``), dates ``'DD/MM`` without the year, the CR/DB mark in
  the column after ``Jumlah``, a summary block (``Saldo Awal``, ``Mutasi Kredit``,
  ``Mutasi Debet``, ``Saldo Akhir``), pending rows dated ``PEND``. Sources: Sasmito
  Adibowo's BCA savings-account CSV converter (indiespark.top; a Python script found by
  the code search: the ``'DD/MM`` date, the mark column, "BCA's date does not have a
  year component"); a TypeScript "BCA Bank Statement CSV Parser" found by the code
  search (``No. Rekening,=,'…``, ``Mata Uang``, ``Saldo Awal``/``Saldo Akhir``/
  ``Kredit``/``Debet``, ``Tanggal,Keterangan,Cabang,Jumlah,,Saldo``);
  astonsistem/simpra-prime-vue ``docs/IMPORT_BANK_PILIHAN.md`` (the ``Tanggal
  Transaksi`` header, "DB in jumlah is a debit, CR a credit").
  KlikBCA Bisnis: the mark inside the amount (``100,000.00 CR``) and ``PEND`` rows:
  kitabisa/moco ``bca_test.go``; its full date (``DD/MM/YYYY``) is assumed.
- Mandiri, MCM (Mandiri Cash Management) CSV: ``Account No, Date, Val. Date, Transaction
  Code, Description, Description, Reference No., Debit, Credit``, dates ``DD/MM/YY``,
  amounts ``350,000.00`` / ``.00``: kitabisa/moco ``mandiri.go``, ``mandiri_test.go``.
  Kopra / Livin' rekening koran Excel: ``Tgl., Tgl. Val., Rincian Transaksi, No.
  Referensi, Debit, Kredit, Saldo, Branch Code``: astonsistem/simpra-prime-vue
  ``docs/IMPORT_BANK_PILIHAN.md``.
- BRI, Internet Banking Bisnis / CMS CSV: ``DATE, TIME, REMARK, DEBET, CREDIT, …, TELLER
  ID``, dates ``DD/MM/YY``, amounts ``500,000.00``: kitabisa/moco ``bri.go``,
  ``bri_test.go``. BRImo / QLola e-statement CSV or Excel: ``ID, NOREK, TGL_TRAN,
  TGL_EFEKTIF, JAM_TRAN, SEQ, DESK_TRAN, SALDO_AWAL_MUTASI, MUTASI_DEBIT, MUTASI_KREDIT,
  SALDO_AKHIR_MUTASI``: astonsistem/simpra-prime-vue (the columns),
  ihfandicahyo/Mutasi-BRI-CSV-PDF-ke-Excel ``bri_csv2excel.py`` (four money columns H-K,
  ``TGL_EFEKTIF`` a date, ``JAM_TRAN`` as ``124141``).

Assumed where the sources are silent: amounts written ``1,234,567.00`` (comma thousands,
point decimals, as in every source's samples) when a cell is text, Excel numbers and
dates taken as they are; a summary block starting with ``Saldo Awal``, ``Saldo Akhir``,
``Total``, ``Mutasi Kredit``/``Debet`` (Mandiri and BRI name none); pending rows marked
``PEND`` or ``PENDING`` in the date column for all three; the account block's currency
line (``Kode Mata Uang``, ``Mata Uang``, ``Currency``) naming ``Rp`` or ``IDR``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from fleet.orders.bank_sheets import XLSX_MAGIC, xlsx_rows
from fleet.orders.statements import (
    RowError,
    StatementError,
    StatementLine,
    csv_rows,
    decode,
    parse_amount,
    with_keys,
)

HEADER_SEARCH = 40  # rows: the account block is never longer
PENDING = frozenset({"PEND", "PENDING"})
SUMMARY = ("SALDO AWAL", "SALDO AKHIR", "MUTASI KREDIT", "MUTASI DEBET", "TOTAL", "JUMLAH")
CURRENCY_LINES = ("KODE MATA UANG", "MATA UANG", "CURRENCY")
CURRENCY_NAMES = {"RP": "IDR", "RUPIAH": "IDR"}
MARKS = {"CR": 1, "DB": -1}


@dataclass(frozen=True)
class Layout:
    """One export's columns, named as in its header (compared in capitals)."""

    name: str
    date: str
    descriptions: tuple[str, ...]
    amount: str = ""  # with its CR/DB mark in the cell or in the next column
    credit: str = ""
    debit: str = ""
    date_formats: tuple[str, ...] = ("%d/%m/%Y",)
    year_from_period: bool = False  # dates without their year (BCA individual)

    @property
    def columns(self) -> tuple[str, ...]:
        wanted = (self.date, *self.descriptions, self.amount, self.credit, self.debit)
        return tuple(c for c in wanted if c)


LAYOUTS: dict[str, tuple[Layout, ...]] = {
    "bca": (
        Layout(
            "KlikBCA individual CSV",
            "TANGGAL TRANSAKSI",
            ("KETERANGAN",),
            amount="JUMLAH",
            date_formats=("%d/%m", "%d/%m/%Y"),
            year_from_period=True,
        ),
        Layout(
            "KlikBCA Bisnis CSV",
            "TANGGAL",
            ("KETERANGAN",),
            amount="JUMLAH",
            date_formats=("%d/%m/%Y", "%d/%m"),
            year_from_period=True,
        ),
    ),
    "mandiri": (
        Layout(
            "Mandiri MCM CSV",
            "DATE",
            ("DESCRIPTION",),
            credit="CREDIT",
            debit="DEBIT",
            date_formats=("%d/%m/%y", "%d/%m/%Y"),
        ),
        Layout(
            "Mandiri Kopra / Livin' rekening koran",
            "TGL.",
            ("RINCIAN TRANSAKSI",),
            credit="KREDIT",
            debit="DEBIT",
            date_formats=("%d/%m/%Y", "%d/%m/%y", "%d %b %Y"),
        ),
    ),
    "bri": (
        Layout(
            "BRI Internet Banking Bisnis CSV",
            "DATE",
            ("REMARK",),
            credit="CREDIT",
            debit="DEBET",
            date_formats=("%d/%m/%y", "%d/%m/%Y"),
        ),
        Layout(
            "BRImo / QLola e-statement",
            "TGL_TRAN",
            ("DESK_TRAN",),
            credit="MUTASI_KREDIT",
            debit="MUTASI_DEBIT",
            date_formats=("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y"),
        ),
    ),
}
BANK_NAMES = {"bca": "BCA", "mandiri": "Mandiri", "bri": "BRI"}


def read_export(data: bytes, bank: str, currency: str = "IDR") -> list[StatementLine]:
    """A BCA, Mandiri or BRI export (CSV or .xlsx, told by its content) read into lines
    with their keys; StatementError naming every broken row."""
    if data.startswith(XLSX_MAGIC):
        return _read(xlsx_rows(data), bank, currency, "row")
    text = decode(data)
    tried = []
    for delimiter in (",", ";", "\t"):
        rows = csv_rows(text, delimiter)
        if _header(rows, LAYOUTS[bank]) is not None:
            return _read(rows, bank, currency, "line")
        tried = rows
    return _read(tried, bank, currency, "line")


def _read(rows: list, bank: str, currency: str, unit: str) -> list[StatementLine]:
    found = _header(rows, LAYOUTS[bank])
    if found is None:
        wanted = " / ".join(", ".join(layout.columns) for layout in LAYOUTS[bank])
        raise StatementError(
            [
                RowError(
                    1,
                    "-",
                    f"not a {BANK_NAMES[bank]} export: no header row with the columns "
                    f"{wanted} in its first {HEADER_SEARCH} rows",
                    unit,
                )
            ]
        )
    index, layout, header, shown = found
    width = len(header)
    while width and not header[width - 1]:
        width -= 1  # a header may end with unnamed columns (BCA's mark column has none)
    block = _account_block(rows[:index])
    errors: list[RowError] = []
    period_end = _period_end(block, layout, unit, errors)
    _check_currency(block, currency, unit, errors)
    columns = {name: i for i, name in reversed(list(enumerate(header)))}
    described = [i for i, name in enumerate(header) if name in layout.descriptions]
    lines: list[StatementLine] = []
    for number, cells in rows[index + 1 :]:
        texts = [_text(c) for c in cells]
        if not any(texts):
            continue
        if _upper(texts[0]).startswith(SUMMARY) or _upper(texts[0]).rstrip(":") in SUMMARY:
            break  # the summary block: balances and totals, no transactions
        raw_date = texts[columns[layout.date]] if columns[layout.date] < len(texts) else ""
        if _upper(raw_date.lstrip("'")) in PENDING:
            continue
        if len(texts) < width:
            errors.append(
                RowError(number, "-", f"{len(texts)} columns, the header has {width}", unit)
            )
            continue
        texts += [""] * (len(header) - len(texts))
        cells = list(cells) + [None] * (len(header) - len(cells))
        try:
            booked = _date(cells[columns[layout.date]], layout, period_end)
        except ValueError as exc:
            errors.append(RowError(number, shown[columns[layout.date]], str(exc), unit))
            continue
        try:
            amount = _amount(cells, texts, columns, layout)
        except ValueError as exc:
            money = [shown[columns[c]] for c in (layout.amount, layout.credit, layout.debit) if c]
            errors.append(RowError(number, "/".join(money), str(exc), unit))
            continue
        description = " ".join(" ".join(texts[i].split()) for i in described if texts[i])
        lines.append(StatementLine(number, booked, amount, description))
    if errors:
        raise StatementError(errors)
    return with_keys(lines)


def _header(
    rows: list, layouts: tuple[Layout, ...]
) -> tuple[int, Layout, list[str], list[str]] | None:
    """The header row: its index, the layout it is, its names in capitals and as shown."""
    for index, (_number, cells) in enumerate(rows[:HEADER_SEARCH]):
        shown = [_text(c) for c in cells]
        names = [_upper(t) for t in shown]
        for layout in layouts:
            if all(c in names for c in layout.columns):
                return index, layout, names, shown
    return None


def _account_block(rows: list) -> dict[str, tuple[int, str]]:
    """``Name,=,value`` (or ``Name,value``) lines above the header: name -> (line, value)."""
    block = {}
    for number, cells in rows:
        texts = [_text(c) for c in cells]
        values = [t for t in texts[1:] if t and t != "=" and t != ":"]
        if texts and texts[0] and values:
            block[_upper(texts[0]).rstrip(" :")] = (number, values[-1].lstrip("'"))
    return block


def _period_end(
    block: dict[str, tuple[int, str]], layout: Layout, unit: str, errors: list[RowError]
) -> date | None:
    if not layout.year_from_period or "PERIODE" not in block:
        return None
    number, text = block["PERIODE"]
    last = text.replace(" s/d ", " - ").split("-")[-1].strip()
    try:
        return datetime.strptime(last, "%d/%m/%Y").date()
    except ValueError:
        errors.append(RowError(number, "Periode", f"{text!r} is not a period", unit))
        return None


def _check_currency(
    block: dict[str, tuple[int, str]], currency: str, unit: str, errors: list[RowError]
) -> None:
    for name in CURRENCY_LINES:
        if name in block:
            number, text = block[name]
            code = CURRENCY_NAMES.get(_upper(text), _upper(text))
            if code != currency:
                errors.append(
                    RowError(
                        number,
                        name.title(),
                        f"the statement is in {text}, the account in {currency}",
                        unit,
                    )
                )
            return


def _date(cell: object, layout: Layout, period_end: date | None) -> date:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell).lstrip("'")
    for pattern in layout.date_formats:
        try:
            parsed = datetime.strptime(text, pattern)
        except ValueError:
            continue
        if "%Y" in pattern or "%y" in pattern:
            return parsed.date()
        if period_end is None:
            raise ValueError(f"{text!r} has no year and the statement names no Periode")
        try:
            booked = date(period_end.year, parsed.month, parsed.day)
        except ValueError:  # 29/02 of a year without one
            raise ValueError(f"{text!r} is not a date") from None
        if booked > period_end:
            booked = booked.replace(year=period_end.year - 1)
        return booked
    raise ValueError(f"{text!r} is not a date ({' or '.join(layout.date_formats)})")


def _amount(cells: list, texts: list[str], columns: dict[str, int], layout: Layout) -> int:
    if layout.amount:
        i = columns[layout.amount]
        text = texts[i]
        mark = next((m for m in MARKS if _upper(text).endswith(m)), "")
        if mark:
            text = text[: -len(mark)].strip()
        elif i + 1 < len(texts) and _upper(texts[i + 1]) in MARKS:
            mark = _upper(texts[i + 1])
        if not mark:
            raise ValueError(f"{texts[i]!r} has no CR or DB mark")
        return MARKS[mark] * _money(cells[i], text)
    credit = _money(cells[columns[layout.credit]], texts[columns[layout.credit]])
    debit = _money(cells[columns[layout.debit]], texts[columns[layout.debit]])
    if credit and debit:
        raise ValueError("both a credit and a debit")
    if credit < 0 or debit < 0:
        raise ValueError("a negative amount in a credit or debit column")
    return credit or -debit


def _money(cell: object, text: str) -> int:
    """A money cell in rupiah: an Excel number as it is, text as ``1,234,567.00``."""
    try:
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            value = Decimal(str(cell))
            if value != value.to_integral_value():
                raise InvalidOperation
            return int(value)
        if not text.strip():
            return 0
        if not re.fullmatch(r"-?[\d,]*(\.\d*)?", text.strip().replace(" ", "")):
            raise InvalidOperation
        return parse_amount(text, ".", ",", 0)
    except (InvalidOperation, ValueError):
        raise ValueError(f"{text!r} is not an amount in whole rupiah") from None


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.strftime("%d/%m/%Y")
    return str(cell).strip()


def _upper(text: str) -> str:
    return " ".join(text.upper().split())
