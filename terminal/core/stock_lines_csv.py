"""Goods as a spreadsheet's lines (issue 19): a supplier's delivery note uploaded in the
console (code, quantity, cost per unit), or the goods of a transfer between locations
(code, quantity). Checked whole before anything moves, every broken row named with its
line, like a price list (:mod:`terminal.core.catalogue_csv`).

The header names the columns, in any order; a spreadsheet's "Save as CSV", comma or
semicolon separated, UTF-8 with or without a byte-order mark. Names in English or
Indonesian, as suppliers' notes come:

========== ======================= ==================================================
column     also                    what
========== ======================= ==================================================
code       sku, barcode, kode      the product's SKU or one of its barcodes
quantity   qty, jumlah, qty_milli  pieces, or kilograms for weighed goods (``2,5``)
unit_cost  cost, harga, harga_beli the cost of one unit (one kg) in the currency's major
                                   units as the shop writes them (``4.100`` rupiah);
                                   needed on a delivery note, not on a transfer
========== ======================= ==================================================
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import InvalidOperation

from terminal.core.catalogue_csv import CatalogueCsvError, RowError, _dialect
from terminal.core.inventory import check_received, parse_quantity, quantity_text
from terminal.core.money import Currency

MAX_LINES = 2_000
_NAMES = {
    "code": ("code", "sku", "barcode", "kode", "kode_barang"),
    "quantity": ("quantity", "qty", "jumlah"),
    "unit_cost": ("unit_cost", "cost", "harga", "harga_beli"),
}


class StockLinesError(CatalogueCsvError):
    """The lines are refused: every problem found, in file order."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors)
        shown = "; ".join(str(e) for e in errors[:20])
        more = f"; ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        self.args = (f"{len(errors)} problem(s): {shown}{more}",)


@dataclass(frozen=True)
class StockLine:
    line: int  # in the file, the header being line 1
    code: str
    quantity: int  # thousandths
    unit_cost: int | None  # minor units per unit; None on a transfer


def parse_stock_lines(text: str, *, currency: Currency, with_cost: bool) -> list[StockLine]:
    """The lines of a delivery note (``with_cost``) or of a transfer, or
    :class:`StockLinesError` naming every problem."""
    text = text.removeprefix("\ufeff")
    rows = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        header = [h.strip().lower().replace(" ", "_") for h in next(rows)]
    except StopIteration:
        raise StockLinesError([RowError(1, "", "the file is empty: no header")]) from None
    except csv.Error as exc:
        raise StockLinesError([RowError(1, "", f"not CSV: {exc}")]) from None
    wanted = ("code", "quantity", "unit_cost") if with_cost else ("code", "quantity")
    where: dict[str, int] = {}
    for column in wanted:
        found = [i for i, name in enumerate(header) if name in _NAMES[column]]
        if len(found) != 1:
            problem = "no column" if not found else "more than one column"
            raise StockLinesError(
                [RowError(1, "", f"{problem} for {column} ({', '.join(_NAMES[column])})")]
            )
        where[column] = found[0]
    errors: list[RowError] = []
    lines: list[StockLine] = []
    try:
        for number, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(lines) >= MAX_LINES:
                errors.append(RowError(number, "", f"more than {MAX_LINES} lines"))
                break
            if len(row) < len(header):
                errors.append(
                    RowError(number, "", f"{len(row)} cells, the header has {len(header)}")
                )
                continue
            code = row[where["code"]].strip()
            if not code or len(code) > 100:
                errors.append(RowError(number, "code", "no product code"))
                continue
            cost = None
            if with_cost:
                try:
                    cost = currency.parse(row[where["unit_cost"]])
                except (InvalidOperation, ValueError):
                    errors.append(
                        RowError(
                            number, "unit_cost", f"{row[where['unit_cost']][:20]!r} is not a cost"
                        )
                    )
                    continue
            if cost is not None and cost < 0:
                errors.append(RowError(number, "unit_cost", "a cost is not below zero"))
                continue
            try:
                typed = quantity_text(parse_quantity(row[where["quantity"]]))
                quantity = check_received(typed, 0)
            except ValueError:
                shown = row[where["quantity"]][:20]
                errors.append(
                    RowError(number, "quantity", f"{shown!r}: a quantity from 0,001 to 100.000")
                )
                continue
            lines.append(StockLine(number, code, quantity, cost))
    except csv.Error as exc:
        errors.append(RowError(rows.line_num, "", f"not CSV: {exc}"))
    if errors:
        raise StockLinesError(errors)
    if not lines:
        raise StockLinesError([RowError(2, "", "no line")])
    return lines
