"""Committing sales: one transaction for the number, the sale, its lines, taxes and tender."""

from __future__ import annotations

from datetime import UTC

from peewee import Database

from terminal.core.numbering import return_code, transaction_label
from terminal.core.sale import CommittedSale, Sale
from terminal.store.models import CounterRow, SaleLineRow, SaleRow, SaleTaxRow, TenderRow


def commit_sale(db: Database, sale: Sale) -> CommittedSale:
    """Store ``sale`` and return it with its gapless transaction number.

    The number is taken inside the same IMMEDIATE transaction as the inserts, so a
    crash or error before COMMIT leaves neither a sale nor a used number behind.
    When this returns, COMMIT has returned (and with synchronous=FULL, is on disk).
    """
    with db.atomic("IMMEDIATE"):
        CounterRow.insert(
            terminal_id=sale.terminal_id, last_number=0
        ).on_conflict_ignore().execute()
        CounterRow.update(last_number=CounterRow.last_number + 1).where(
            CounterRow.terminal_id == sale.terminal_id
        ).execute()
        number = CounterRow.get_by_id(sale.terminal_id).last_number
        code = return_code(sale.terminal_id, number)
        row = SaleRow.create(
            terminal_id=sale.terminal_id,
            number=number,
            created_at=sale.created_at.astimezone(UTC).replace(tzinfo=None),
            cashier=sale.cashier_id,
            currency=sale.currency,
            prices_include_tax=sale.prices_include_tax,
            net=sale.taxes.net,
            tax=sale.taxes.tax,
            total=sale.payment.payable,
            rounding=sale.payment.rounding,
            return_code=code,
        )
        SaleLineRow.insert_many(
            [
                {
                    "sale": row.id,
                    "position": i,
                    "sku": line.sku,
                    "name": line.name,
                    "quantity_milli": int(line.quantity * 1000),
                    "unit_price": line.unit_price,
                    "amount": line.amount,
                    "tax_class": line.tax_class,
                }
                for i, line in enumerate(sale.lines, start=1)
            ]
        ).execute()
        if sale.taxes.per_rate:
            SaleTaxRow.insert_many(
                [
                    {
                        "sale": row.id,
                        "code": r.tax.code,
                        "name": r.tax.name,
                        "rate": str(r.tax.rate),
                        "base": r.base,
                        "amount": r.amount,
                    }
                    for r in sale.taxes.per_rate
                ]
            ).execute()
        TenderRow.create(
            sale=row.id,
            kind="cash",
            amount=sale.payment.payable,
            tendered=sale.payment.tendered,
            change=sale.payment.change,
        )
    return CommittedSale(sale, number, transaction_label(sale.terminal_id, number), code)
