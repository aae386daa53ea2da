"""Committing sales: one transaction for the number, the sale, its lines, taxes and tender.

This is the hottest write path of the terminal, so its statements are written once as
parameterised SQL (peewee owns the schema in ``models``; building the same INSERTs
through its query builder cost several times the fsync of the COMMIT itself, see
``bench/sale_commit.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC

import peewee
from peewee import Database

from terminal.core.numbering import return_code, transaction_label
from terminal.core.sale import CommittedSale, Sale
from terminal.core.tender import Tender
from terminal.store import print_queue
from terminal.store.counters import next_number
from terminal.store.customers import CardAuth, record_card_auth
from terminal.store.journal import Journal
from terminal.store.models import (
    CardPaymentRow,
    CustomerRow,
    ProductRow,
    SaleLineRow,
    SaleRow,
    SaleTaxRow,
    TenderRow,
)
from terminal.store.sealing import Sealer

Receipt = Callable[[CommittedSale], bytes]
_INSERT_SALE = (
    f"INSERT INTO {SaleRow._meta.table_name} (terminal_id, number, created_at, cashier_id,"
    " currency, prices_include_tax, net, tax, total, rounding, return_code, shift_id,"
    " customer_id, discount, points_earned, reprints, points_balance)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)"
)
_INSERT_LINE = (
    f"INSERT INTO {SaleLineRow._meta.table_name} (sale_id, position, sku, name, quantity_milli,"
    " unit_price, amount, tax_class, regular_amount, discount, own_discount, promotion)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_TAKE_STOCK = (
    f"UPDATE {ProductRow._meta.table_name} SET stock_milli = stock_milli - ?"
    " WHERE sku = ? AND stock_milli IS NOT NULL"
)
_CUSTOMER_POINTS = (
    f"UPDATE {CustomerRow._meta.table_name} SET points = points + ? - ?,"
    " lifetime_points = lifetime_points + ? WHERE id = ?"
)
_SETTLE_CARD = f"UPDATE {CardPaymentRow._meta.table_name} SET settled = 1 WHERE payment_id = ?"
_INSERT_TAX = (
    f"INSERT INTO {SaleTaxRow._meta.table_name} (sale_id, code, name, rate, base, amount)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_TENDER = (
    f"INSERT INTO {TenderRow._meta.table_name} (sale_id, kind, amount, tendered, change,"
    " points, receipt_number, reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def commit_sale(
    db: Database,
    sale: Sale,
    journal: Journal,
    receipt: Receipt | None = None,
    sealer: Sealer | None = None,
    then: Callable[[CommittedSale, int], None] | None = None,
) -> CommittedSale:
    """Store ``sale`` with its journal entry and return it with its gapless number.

    The number, the rows and the signed journal entry are one IMMEDIATE transaction, so
    a crash or error before COMMIT leaves neither a sale, nor a used number, nor an
    entry behind. When this returns, COMMIT has returned (synchronous=FULL: on disk).

    ``receipt`` renders the committed sale's receipt; its print job is written in the same
    transaction. A receipt that cannot be rendered (a missing logo) does not stop the sale:
    its job is stored as failed, with the reason.

    Stock is taken for products whose stock is kept; card tenders get their authorisation
    sealed (``sealer``) and their payment record marked as settled. ``then(committed,
    sale id)`` writes what else the sale owes in its transaction (a fiscal receipt).
    """
    created = sale.created_at.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    payment = sale.payment
    # the wrapper turns the driver's errors (sqlite3, later sqlcipher3) into peewee's
    with db.atomic("IMMEDIATE"), peewee.__exception_wrapper__:
        cursor = db.cursor()
        number = next_number(cursor, sale.terminal_id)
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
                sale.shift_id,
                sale.customer_id,
                sale.discount,
                sale.points_earned,
                sale.points_balance,
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
                    line.regular_amount,
                    line.discount,
                    line.own_discount,
                    line.promotion,
                )
                for i, line in enumerate(sale.lines, start=1)
            ],
        )
        cursor.executemany(
            _TAKE_STOCK, [(int(line.quantity * 1000), line.sku) for line in sale.lines]
        )
        cursor.executemany(
            _INSERT_TAX,
            [
                (sale_id, r.tax.code, r.tax.name, str(r.tax.rate), r.base, r.amount)
                for r in sale.taxes.per_rate
            ],
        )
        for tender in payment.tenders:
            card = tender.card
            cursor.execute(
                _INSERT_TENDER,
                (
                    sale_id,
                    tender.kind,
                    tender.amount,
                    tender.tendered,
                    tender.change,
                    tender.points,
                    card.receipt_number if card else None,
                    tender.reference,
                ),
            )
            if card is not None:
                if sealer is None:
                    raise ValueError("a card tender needs the sealer for its authorisation")
                auth = CardAuth(
                    card.masked_pan,
                    card.auth_code,
                    str(card.trace_number or ""),
                    card.card_terminal_id,
                    card.receipt_lines,
                )
                record_card_auth(db, sealer, cursor.lastrowid, auth)
            if tender.payment_id:
                cursor.execute(_SETTLE_CARD, (tender.payment_id,))
        if sale.customer_id:
            spent = sum(t.points for t in payment.tenders)
            cursor.execute(
                _CUSTOMER_POINTS, (sale.points_earned, spent, sale.points_earned, sale.customer_id)
            )
        label = transaction_label(sale.terminal_id, number)
        entry = journal.append(
            "sale", journal_payload(sale, number, code), sale.created_at, amount=payment.payable
        )
        committed = CommittedSale(
            sale, number, label, code, entry.seq, entry.short_hash, journal_epoch=entry.epoch
        )
        if then is not None:
            then(committed, sale_id)
        if receipt is not None:
            try:
                data, error = receipt(committed), None
            except Exception as exc:  # the sale stands; the receipt waits for a fix
                data, error = b"", f"{type(exc).__name__}: {exc}"
            job_id = print_queue.add_job(cursor, label, data, error)
            committed = dataclasses.replace(committed, print_job=job_id)
    return committed


def journal_payload(sale: Sale, number: int, code: str) -> dict:
    """What the journal keeps of a sale: amounts in minor units, quantities as exact text."""
    return {
        "number": number,
        "return_code": code,
        "cashier": sale.cashier_id,
        "currency": sale.currency,
        "lines": [
            {
                "sku": line.sku,
                "quantity": str(line.quantity),
                "unit_price": line.unit_price,
                "amount": line.amount,
                "tax_class": line.tax_class,
                "discount": line.discount,
                "net": line.net,
            }
            for line in sale.lines
        ],
        "taxes": [
            {"code": r.tax.code, "rate": str(r.tax.rate), "base": r.base, "amount": r.amount}
            for r in sale.taxes.per_rate
        ],
        "net": sale.taxes.net,
        "tax": sale.taxes.tax,
        "rounding": sale.payment.rounding,
        "total": sale.payment.payable,
        "tenders": [tender_payload(t) for t in sale.payment.tenders],
        "shift": sale.shift_id,
        "customer": sale.customer_id,
        "discount": sale.discount,
        "points_earned": sale.points_earned,
    }


def tender_payload(tender: Tender) -> dict:
    """A tender for the journal: for a card, its receipt number, never card data."""
    out = {"kind": tender.kind, "amount": tender.amount}
    if tender.kind == "cash":
        out.update(tendered=tender.tendered, change=tender.change)
    elif tender.kind == "card" and tender.card:
        out["receipt_number"] = tender.card.receipt_number
    elif tender.kind == "points":
        out["points"] = tender.points
    elif tender.kind == "bank_transfer":
        out["reference"] = tender.reference
    return out
