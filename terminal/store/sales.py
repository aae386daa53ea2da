"""Committing sales: one transaction for the number, the sale, its lines, taxes and tender.

This is the hottest write path of the terminal, so its statements are written once as
parameterised SQL (peewee owns the schema in ``models``; building the same INSERTs
through its query builder cost several times the fsync of the COMMIT itself, see
``bench/sale_commit.py``).
"""

from __future__ import annotations

from datetime import UTC

import peewee
from peewee import Database

from terminal.core.numbering import return_code, transaction_label
from terminal.core.sale import CommittedSale, Sale
from terminal.store.models import CounterRow, SaleLineRow, SaleRow, SaleTaxRow, TenderRow

_COUNTER = CounterRow._meta.table_name
_NEW_COUNTER = f"INSERT OR IGNORE INTO {_COUNTER} (terminal_id, last_number) VALUES (?, 0)"
_NEXT_NUMBER = (
    f"UPDATE {_COUNTER} SET last_number = last_number + 1 WHERE terminal_id = ?"
    " RETURNING last_number"
)
_INSERT_SALE = (
    f"INSERT INTO {SaleRow._meta.table_name} (terminal_id, number, created_at, cashier_id,"
    " currency, prices_include_tax, net, tax, total, rounding, return_code)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_LINE = (
    f"INSERT INTO {SaleLineRow._meta.table_name} (sale_id, position, sku, name, quantity_milli,"
    " unit_price, amount, tax_class) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_TAX = (
    f"INSERT INTO {SaleTaxRow._meta.table_name} (sale_id, code, name, rate, base, amount)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_TENDER = (
    f"INSERT INTO {TenderRow._meta.table_name} (sale_id, kind, amount, tendered, change)"
    " VALUES (?, ?, ?, ?, ?)"
)


def commit_sale(db: Database, sale: Sale) -> CommittedSale:
    """Store ``sale`` and return it with its gapless transaction number.

    The number is taken inside the same IMMEDIATE transaction as the inserts, so a
    crash or error before COMMIT leaves neither a sale nor a used number behind.
    When this returns, COMMIT has returned (and with synchronous=FULL, is on disk).
    """
    created = sale.created_at.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    payment = sale.payment
    # the wrapper turns the driver's errors (sqlite3, later sqlcipher3) into peewee's
    with db.atomic("IMMEDIATE"), peewee.__exception_wrapper__:
        cursor = db.cursor()
        cursor.execute(_NEW_COUNTER, (sale.terminal_id,))
        (number,) = cursor.execute(_NEXT_NUMBER, (sale.terminal_id,)).fetchone()
        code = return_code(sale.terminal_id, number)
        cursor.execute(
            _INSERT_SALE,
            (
                sale.terminal_id,
                number,
                created,
                sale.cashier_id,
                sale.currency,
                sale.prices_include_tax,
                sale.taxes.net,
                sale.taxes.tax,
                payment.payable,
                payment.rounding,
                code,
            ),
        )
        sale_id = cursor.lastrowid
        cursor.executemany(
            _INSERT_LINE,
            [
                (
                    sale_id,
                    i,
                    line.sku,
                    line.name,
                    int(line.quantity * 1000),
                    line.unit_price,
                    line.amount,
                    line.tax_class,
                )
                for i, line in enumerate(sale.lines, start=1)
            ],
        )
        cursor.executemany(
            _INSERT_TAX,
            [
                (sale_id, r.tax.code, r.tax.name, str(r.tax.rate), r.base, r.amount)
                for r in sale.taxes.per_rate
            ],
        )
        cursor.execute(
            _INSERT_TENDER, (sale_id, "cash", payment.payable, payment.tendered, payment.change)
        )
    return CommittedSale(sale, number, transaction_label(sale.terminal_id, number), code)
