"""A finished sale: what is committed to the store and printed on the receipt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from terminal.core.cart import Cart
from terminal.core.taxes import TaxSummary, line_nets
from terminal.core.tender import Payment


@dataclass(frozen=True)
class SaleLine:
    sku: str
    name: str
    quantity: Decimal
    unit_price: int
    amount: int
    tax_class: str
    sold_by_weight: bool
    regular_amount: int = 0  # before promotion and discounts
    discount: int = 0  # the cashier's discounts on this line (own and its transaction share)
    promotion: str = ""  # the promotion's name
    own_discount: int = 0  # the line's own discount (the rest of ``discount`` is its share)
    net: int = 0  # its part of the sale's net, before tax (for the fleet's margin)


@dataclass(frozen=True)
class Sale:
    terminal_id: str
    cashier_id: int
    cashier_name: str
    currency: str
    created_at: datetime
    lines: tuple[SaleLine, ...]
    taxes: TaxSummary
    payment: Payment
    prices_include_tax: bool
    shift_id: int | None = None
    customer_id: str | None = None
    discount: int = 0  # all discounts the cashier gave on this sale
    transaction_discount: int = 0
    points_earned: int = 0
    points_balance: int | None = None  # a member's points after this sale, as printed

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
    journal_epoch: int = 1  # a restore or reset begins a new epoch

    @property
    def journal_label(self) -> str:
        return journal_label(self.journal_seq, self.journal_epoch)


def journal_label(seq: int, epoch: int = 1) -> str:
    """A journal entry as receipts print it: ``154``, or ``2/154`` after a restore or a
    reset began epoch 2 (so the printed name is unique even across a loss)."""
    return str(seq) if epoch == 1 else f"{epoch}/{seq}"


def sale_from_cart(
    cart: Cart,
    payment: Payment,
    *,
    terminal_id: str,
    cashier_id: int,
    cashier_name: str,
    currency: str,
    created_at: datetime,
    shift_id: int | None = None,
    customer_id: str | None = None,
    points_earned: int = 0,
    points_balance: int | None = None,
) -> Sale:
    nets = line_nets(
        [(cart.catalogue.tax_classes[line.product.tax_class], line.amount) for line in cart.lines],
        prices_include_tax=cart.prices_include_tax,
    )
    lines = tuple(
        SaleLine(
            sku=line.product.sku,
            name=line.product.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            tax_class=line.product.tax_class,
            sold_by_weight=line.product.sold_by_weight,
            regular_amount=line.regular_amount,
            discount=line.line_discount + line.transaction_share,
            promotion=line.promotion.name if line.promotion else "",
            own_discount=line.line_discount,
            net=net,
        )
        for line, net in zip(cart.lines, nets, strict=True)
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
        shift_id=shift_id,
        customer_id=customer_id,
        discount=sum(line.discount for line in lines),
        transaction_discount=cart.transaction_discount_amount,
        points_earned=points_earned,
        points_balance=points_balance,
    )
