"""A committed sale read back from its rows, for a reprint (marked COPY)."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

from peewee import SQL

from terminal.core.digits import is_digits
from terminal.core.numbering import transaction_label
from terminal.core.sale import CommittedSale, Sale, SaleLine
from terminal.core.taxes import RateTotal, Tax, TaxSummary
from terminal.core.tender import CardDetails, Payment, Tender
from terminal.store.catalogue_repo import weighed_skus
from terminal.store.customers import card_auth
from terminal.store.models import (
    CardAuthRow,
    CashierRow,
    SaleLineRow,
    SaleRow,
    SaleTaxRow,
    TenderRow,
)
from terminal.store.sealing import Sealer

_JOURNAL_OF_SALE = (
    "SELECT seq, hash, epoch FROM journal WHERE type = 'sale'"
    " AND json_extract(payload, '$.number') = ? AND terminal_id = ?"
)


def load_committed_sale(db, sealer: Sealer, sale_id: int) -> CommittedSale:
    row = SaleRow.select().where(SaleRow.id == sale_id).get(db)
    rows = list(
        SaleLineRow.select()
        .where(SaleLineRow.sale == sale_id)
        .order_by(SaleLineRow.position)
        .bind(db)
    )
    weighed = weighed_skus(db, (ln.sku for ln in rows))
    lines = tuple(
        SaleLine(
            sku=ln.sku,
            name=ln.name,
            quantity=Decimal(ln.quantity_milli) / 1000,
            unit_price=ln.unit_price,
            amount=ln.amount,
            tax_class=ln.tax_class,
            sold_by_weight=ln.sku in weighed or ln.quantity_milli % 1000 != 0,
            regular_amount=ln.regular_amount,
            discount=ln.discount,
            promotion=ln.promotion,
            own_discount=ln.own_discount,
        )
        for ln in rows
    )
    rates = tuple(
        RateTotal(Tax(t.code, t.name, Decimal(t.rate)), t.base, t.amount)
        # in the order they were written, the original receipt's
        for t in SaleTaxRow.select()
        .where(SaleTaxRow.sale == sale_id)
        .order_by(SQL("rowid"))
        .bind(db)
    )
    taxes = TaxSummary(row.net, row.tax, row.net + row.tax, rates)
    tenders = []
    for t in TenderRow.select().where(TenderRow.sale == sale_id).order_by(TenderRow.id).bind(db):
        card = None
        if CardAuthRow.select().where(CardAuthRow.tender == t.id).bind(db).exists():
            auth = card_auth(db, sealer, t.id)
            card = CardDetails(
                auth.masked_pan,
                auth.auth_code,
                int(auth.trace_number) if is_digits(auth.trace_number) else None,
                t.receipt_number,
                auth.card_terminal_id,
                auth.slip,
            )
        tenders.append(
            Tender(t.kind, t.amount, t.tendered, t.change, card, t.points, reference=t.reference)
        )
    sale = Sale(
        terminal_id=row.terminal_id,
        cashier_id=row.cashier_id,
        cashier_name=CashierRow.select().where(CashierRow.id == row.cashier_id).get(db).name,
        currency=row.currency,
        created_at=row.created_at.replace(tzinfo=UTC),
        lines=lines,
        taxes=taxes,
        payment=Payment(row.total - row.rounding, tuple(tenders)),
        prices_include_tax=row.prices_include_tax,
        shift_id=row.shift_id,
        customer_id=row.customer_id,
        discount=row.discount,
        transaction_discount=sum(ln.discount - ln.own_discount for ln in lines),
        points_earned=row.points_earned,
        points_balance=row.points_balance,
    )
    found = db.execute_sql(_JOURNAL_OF_SALE, (row.number, row.terminal_id)).fetchone()
    if found is None:  # sold on the terminal this one replaced: its journal is archived
        found = _archived_entry(db, row.number, row.terminal_id)
    seq, digest, epoch = found
    return CommittedSale(
        sale,
        row.number,
        transaction_label(row.terminal_id, row.number),
        row.return_code,
        seq,
        digest[:8].upper(),
        journal_epoch=epoch,
    )


def _archived_entry(db, number: int, terminal_id: str) -> tuple[int, str, int]:
    tables = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    if "journal_archive" in tables:
        row = db.execute_sql(
            "SELECT seq, json_extract(entry, '$.hash'), epoch FROM journal_archive"
            " WHERE json_extract(entry, '$.type') = 'sale'"
            " AND json_extract(entry, '$.payload.number') = ?"
            " AND json_extract(entry, '$.terminal_id') = ?",
            (number, terminal_id),
        ).fetchone()
        if row:
            return row
    return 0, "--------", 1


def count_reprint(db, sale_id: int) -> int:
    """One more copy of a sale's receipt: its number (COPY n). Inside the caller's
    transaction, with the reprint's journal entry."""
    SaleRow.update(reprints=SaleRow.reprints + 1).where(SaleRow.id == sale_id).execute(db)
    return SaleRow.select(SaleRow.reprints).where(SaleRow.id == sale_id).get(db).reprints


def sold_here(db, reference: str) -> bool:
    """Whether a sale of this terminal was paid by a bank transfer with this reference
    (an online order sold here, perhaps before the fleet heard of it)."""
    table = TenderRow._meta.table_name
    row = db.execute_sql(
        f"SELECT 1 FROM {table} WHERE kind = 'bank_transfer' AND reference = ? LIMIT 1",
        (reference,),
    ).fetchone()
    return row is not None
