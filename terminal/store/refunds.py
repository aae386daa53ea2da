"""Finding a paid sale again, what of it is still refundable, and committing a refund."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import peewee
from peewee import Database, fn

from terminal.core.numbering import parse_return_code, transaction_label
from terminal.core.refunds import PaidTender, RefundBalance, RefundLine, SoldLine, refund_balance
from terminal.core.sale import journal_label
from terminal.store.catalogue_repo import weighed_skus
from terminal.store.counters import next_number
from terminal.store.journal import Journal
from terminal.store.models import (
    CardPaymentRow,
    CustomerRow,
    ProductRow,
    RefundLineRow,
    RefundRow,
    RefundTenderRow,
    SaleLineRow,
    SaleRow,
    TenderRow,
)


@dataclass(frozen=True)
class PaidSale:
    id: int
    number: int
    label: str
    created_at: datetime
    cashier_id: int
    total: int
    customer_id: str | None
    points_earned: int
    lines: tuple[SoldLine, ...]
    tenders: tuple[PaidTender, ...]
    card_receipt_numbers: tuple[int, ...]
    points_spent: int = 0  # points that paid part of it

    @property
    def balance(self) -> RefundBalance:
        """What was paid, given back, and can still be, in the terms it was paid."""
        return refund_balance(self.lines, self.tenders)

    @property
    def refundable(self) -> int:
        """The money that can still go back: never more than was paid (after cash
        rounding), not the lines' sum."""
        return self.balance.refundable


def find_sale_id(
    db: Database, terminal_id: str, *, return_code: str = "", number: int | None = None
) -> int | None:
    query = SaleRow.select(SaleRow.id)
    if return_code:
        # the code names its terminal and number: found through that index (the code
        # itself is not indexed: one index less to write at every sale)
        ref = parse_return_code(return_code)
        if ref is None:
            return None
        query = query.where(
            (SaleRow.terminal_id == ref.terminal_id)
            & (SaleRow.number == ref.number)
            & (SaleRow.return_code == return_code.strip().upper())
        )
    elif number is not None:
        query = query.where((SaleRow.terminal_id == terminal_id) & (SaleRow.number == number))
    else:
        return None
    row = query.first(db)
    return row.id if row else None


def find_sales(
    db: Database,
    *,
    day_start: datetime,
    day_end: datetime,
    amount: int | None = None,
    limit: int | None = 50,
) -> list[int]:
    """Sale ids in a period (UTC), optionally of one amount - what was paid (after cash
    rounding: the figure a customer remembers) or the goods' total before it (the figure
    on the receipt's lines); newest first."""
    query = SaleRow.select(SaleRow.id).where(
        (SaleRow.created_at >= day_start.astimezone(UTC).replace(tzinfo=None))
        & (SaleRow.created_at < day_end.astimezone(UTC).replace(tzinfo=None))
    )
    if amount is not None:
        query = query.where(
            # ``total`` is what was paid (cash rounding in it); less ``rounding``: the goods
            (SaleRow.total == amount) | ((SaleRow.total - SaleRow.rounding) == amount)
        )
    query = query.order_by(SaleRow.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [row.id for row in query.bind(db)]


def load_sale(db: Database, sale_id: int) -> PaidSale:
    sale = SaleRow.select().where(SaleRow.id == sale_id).get(db)
    refunded = {
        row.position: (row.qty, row.amt)
        for row in RefundLineRow.select(
            RefundLineRow.position,
            fn.SUM(RefundLineRow.quantity_milli).alias("qty"),
            fn.SUM(RefundLineRow.amount).alias("amt"),
        )
        .join(RefundRow)
        .where(RefundRow.sale == sale_id)
        .group_by(RefundLineRow.position)
        .bind(db)
    }
    rows = list(
        SaleLineRow.select()
        .where(SaleLineRow.sale == sale_id)
        .order_by(SaleLineRow.position)
        .bind(db)
    )
    weighed = weighed_skus(db, (row.sku for row in rows))
    lines = []
    for row in rows:
        qty, amt = refunded.get(row.position, (0, 0))
        lines.append(
            SoldLine(
                row.position,
                row.sku,
                row.name,
                Decimal(row.quantity_milli) / 1000,
                row.amount,
                row.tax_class,
                Decimal(qty) / 1000,
                amt,
                by_weight=row.sku in weighed,
            )
        )
    back = {
        row.kind: row.amt
        for row in RefundTenderRow.select(
            RefundTenderRow.kind, fn.SUM(RefundTenderRow.amount).alias("amt")
        )
        .join(RefundRow)
        .where(RefundRow.sale == sale_id)
        .group_by(RefundTenderRow.kind)
        .bind(db)
    }
    paid: dict[str, int] = {}
    receipts = []
    points_spent = 0
    for row in TenderRow.select().where(TenderRow.sale == sale_id).bind(db):
        paid[row.kind] = paid.get(row.kind, 0) + row.amount
        points_spent += row.points
        if row.receipt_number is not None:
            receipts.append(row.receipt_number)
    tenders = tuple(PaidTender(kind, amount, back.get(kind, 0)) for kind, amount in paid.items())
    return PaidSale(
        sale.id,
        sale.number,
        transaction_label(sale.terminal_id, sale.number),
        sale.created_at.replace(tzinfo=UTC),
        sale.cashier_id,
        sale.total,
        sale.customer_id,
        sale.points_earned,
        tuple(lines),
        tenders,
        tuple(receipts),
        points_spent,
    )


@dataclass(frozen=True)
class CommittedRefund:
    number: int
    label: str
    amount: int
    tenders: dict[str, int]
    journal_seq: int
    journal_hash: str
    journal_epoch: int = 1

    @property
    def journal_label(self) -> str:
        return journal_label(self.journal_seq, self.journal_epoch)


def commit_refund(
    db: Database,
    journal: Journal,
    *,
    terminal_id: str,
    sale: PaidSale | None,
    lines: list[RefundLine],
    tenders: dict[str, int],
    card_receipts: dict[str, int | None],
    card_payment_ids: list[str],
    cashier_id: int,
    shift_id: int | None,
    reason: str,
    approved_by: int | str | None,
    points_back: int,
    at: datetime,
    points_returned: int = 0,
    taxes: list[dict] | None = None,
    then: Callable[[int, str], None] | None = None,
) -> CommittedRefund:
    """One transaction: the refund's number, rows, stock back, settled card refunds,
    points taken back, and its journal entry (which lowers the grand total); ``then(refund
    id, label)`` writes what else it owes there (the fiscal receipt's return)."""
    amount = sum(line.amount for line in lines)
    with db.atomic("IMMEDIATE"), peewee.__exception_wrapper__:
        cursor = db.cursor()
        number = next_number(cursor, f"{terminal_id}:refund")
        label = "R-" + transaction_label(terminal_id, number)
        refund_id = RefundRow.insert(
            terminal_id=terminal_id,
            number=number,
            created_at=at.astimezone(UTC).replace(tzinfo=None),
            sale=sale.id if sale else None,
            cashier_id=cashier_id,
            shift_id=shift_id,
            amount=amount,
            reason=reason,
            approved_by=None if approved_by is None else str(approved_by),
            points_back=points_back,
        ).execute(db)
        for line in lines:
            RefundLineRow.insert(
                refund=refund_id,
                position=line.line.position,
                sku=line.line.sku,
                name=line.line.name,
                quantity_milli=int(line.quantity * 1000),
                amount=line.amount,
                tax_class=line.line.tax_class,
                restock=line.restock,
            ).execute(db)
            if line.restock:
                ProductRow.update(
                    stock_milli=ProductRow.stock_milli + int(line.quantity * 1000)
                ).where(
                    (ProductRow.sku == line.line.sku) & ProductRow.stock_milli.is_null(False)
                ).execute(db)
        for kind, part in tenders.items():
            RefundTenderRow.insert(
                refund=refund_id, kind=kind, amount=part, receipt_number=card_receipts.get(kind)
            ).execute(db)
        for payment_id in card_payment_ids:
            CardPaymentRow.update(settled=True).where(
                CardPaymentRow.payment_id == payment_id
            ).execute(db)
        if sale and sale.customer_id and (points_back or points_returned):
            # earned points taken back; points that paid for the goods given back
            CustomerRow.update(
                points=CustomerRow.points - points_back + points_returned,
                lifetime_points=CustomerRow.lifetime_points - points_back,
            ).where(CustomerRow.id == sale.customer_id).execute(db)
        entry = journal.append(
            "refund",
            {
                "number": number,
                "sale": sale.label if sale else None,
                "with_receipt": sale is not None,
                "cashier": cashier_id,
                "shift": shift_id,
                "amount": amount,
                "tenders": tenders,
                "reason": reason,
                "approved_by": approved_by,
                "points_back": points_back,
                "points_returned": points_returned,
                "taxes": taxes or [],
                "lines": [
                    {
                        "position": line.line.position,
                        "sku": line.line.sku,
                        "quantity": str(line.quantity),
                        "amount": line.amount,
                        "restock": line.restock,
                    }
                    for line in lines
                ],
            },
            at,
            amount=-amount,
        )
        if then is not None:
            then(refund_id, label)
    return CommittedRefund(number, label, amount, tenders, entry.seq, entry.short_hash, entry.epoch)
