"""The summary above the sale's total: items as pieces, the regular prices, all the
discounts, the tax, and a total they add up to."""

from decimal import Decimal as D

from terminal.core.cart import Cart
from terminal.core.pricing import AMOUNT, PERCENT, Discount
from terminal.core.summary import summarize_sale


def test_items_discounts_and_tax_add_up(catalogue, clock):
    cart = Cart(catalogue, clock, prices_include_tax=True)
    cart.add_code("8991002101111")  # tea 5,500 (PPN)
    cart.set_quantity(0, "3")  # 16,500: three items
    cart.add_code("2212345012343")  # apples 1.234 kg = 51,828 (exempt): one item
    cart.set_line_discount(0, Discount(PERCENT, D(10), "damaged"))  # -1,650
    cart.set_transaction_discount(Discount(AMOUNT, D(1000), "damaged"))  # -1,000
    summary = summarize_sale(cart)
    assert summary.items == 4
    assert summary.subtotal == 16500 + 51828
    assert summary.discounts == 1650 + 1000
    assert summary.total == summary.subtotal - summary.discounts == cart.total
    # PPN 11% inside the tea's 14,850 less its share of the 1,000 off
    assert cart.lines[0].amount == 14627  # 14,850 less its 223 of the 1,000
    assert summary.tax == 1450 and summary.tax_included  # 14,627 - 13,177 net


def test_an_empty_sale_sums_to_nothing(catalogue, clock):
    summary = summarize_sale(Cart(catalogue, clock, prices_include_tax=False))
    assert (summary.items, summary.subtotal, summary.discounts, summary.tax) == (0, 0, 0, 0)
    assert not summary.tax_included
