"""What the sale screen sums up above the total, as shops count it (Square, Odoo POS,
Loyverse do the same): the items, the regular prices, the discounts, the tax.

Items are pieces: 3 teas are 3 items; a weighed line is one item whatever it weighs."""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.cart import Cart


@dataclass(frozen=True)
class SaleSummary:
    items: int
    subtotal: int  # the lines at their regular price
    discounts: int  # promotions, line and sale discounts: subtotal - discounts = total's base
    tax: int
    total: int  # what the customer pays before cash rounding
    tax_included: bool  # the tax is inside the prices (shown "incl."), else added


def summarize_sale(cart: Cart) -> SaleSummary:
    items = sum(
        1 if line.product.sold_by_weight else int(line.quantity.to_integral_value())
        for line in cart.lines
    )
    subtotal = sum(line.regular_amount for line in cart.lines)
    discounts = sum(line.savings for line in cart.lines)
    taxes = cart.taxes()
    return SaleSummary(
        items=items,
        subtotal=subtotal,
        discounts=discounts,
        tax=taxes.tax,
        total=cart.total,
        tax_included=cart.prices_include_tax,
    )
