"""A finished sale: what is committed to the store and printed on the receipt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from terminal.core.cart import Cart
from terminal.core.taxes import TaxSummary
from terminal.core.tender import CashPayment


@dataclass(frozen=True)
class SaleLine:
    sku: str
    name: str
    quantity: Decimal
    unit_price: int
    amount: int
    tax_class: str
    sold_by_weight: bool


@dataclass(frozen=True)
class Sale:
    terminal_id: str
    cashier_id: int
    cashier_name: str
    currency: str
    created_at: datetime
    lines: tuple[SaleLine, ...]
    taxes: TaxSummary
    payment: CashPayment
    prices_include_tax: bool

    @property
    def total(self) -> int:
        return self.taxes.gross


@dataclass(frozen=True)
class CommittedSale:
    """A sale after COMMIT returned: it has its gapless number."""

    sale: Sale
    number: int
    label: str  # e.g. "T01-000042"
    return_code: str
    journal_seq: int  # the journal entry that records this sale
    journal_hash: str  # its hash, shortened, printed on the receipt
    print_job: int | None = None  # the receipt's job in the print queue


def sale_from_cart(
    cart: Cart,
    payment: CashPayment,
    *,
    terminal_id: str,
    cashier_id: int,
    cashier_name: str,
    currency: str,
    created_at: datetime,
) -> Sale:
    lines = tuple(
        SaleLine(
            sku=line.product.sku,
            name=line.product.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            tax_class=line.product.tax_class,
            sold_by_weight=line.product.sold_by_weight,
        )
        for line in cart.lines
    )
    return Sale(
        terminal_id=terminal_id,
        cashier_id=cashier_id,
        cashier_name=cashier_name,
        currency=currency,
        created_at=created_at,
        lines=lines,
        taxes=cart.taxes(),
        payment=payment,
        prices_include_tax=cart.prices_include_tax,
    )
