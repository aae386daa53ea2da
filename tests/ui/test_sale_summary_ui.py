"""The sale screen sums the sale up above its total - items, regular prices, discounts,
tax - and shows every amount whole, in the real window at 800x480."""

from __future__ import annotations

import pytest

from tests.ui.test_cash_sale_ui import TEA, sign_in
from tests.ui.test_payment_ui import APPLES

pytestmark = pytest.mark.ui


def whole(label) -> bool:
    """Every character of ``label`` drawn: its text is as wide as the label, or less."""
    label.texture_update()
    return label.texture_size[0] <= label.width + 0.5 and not label.text.endswith("...")


def test_items_subtotal_discount_and_tax_above_the_total(app, terminal, tmp_path):
    root, ui = app
    sign_in(root, ui)
    sale = root.get_screen("sale")
    ui.scan(TEA)
    ui.type("3")
    ui.key("numpadmul")  # three teas: 16,500
    ui.scan(APPLES)  # 1.234 kg: 51,828, one item
    sale.select(0)
    ui.type("10%")
    ui.key("f5")
    ui.type("1")  # this line
    ui.type("1")  # the first reason
    if root.panels:  # the shop wants a supervisor for discounts
        ui.type("2")
        ui.key("enter")
        ui.type("2580")
        ui.key("enter")
    ui.wait_until(lambda: not root.panels, "the discount")
    ui.frames(3)
    ids = sale.ids
    assert ids.item_count.text == "4 items"
    assert ids.subtotal.text == "Subtotal Rp 68.328"
    assert ids.discounts.text == "Discounts -Rp 1.650"
    assert ids.tax.text.startswith("Tax incl. Rp ")
    assert ids.total.text == "Total  Rp 66.678"
    tea_row = ids.lines.children[-1]  # (Kivy lists children last first)
    assert "-Rp 1.650" in tea_row.detail
    for label in (ids.subtotal, ids.discounts, ids.tax, ids.total, *tea_row.children):
        if label.text != tea_row.name:
            assert whole(label), label.text
    ui.screenshot(tmp_path / "summary.png")


def test_one_item_and_no_discount_line(app, terminal):
    root, ui = app
    sign_in(root, ui)
    ui.scan(TEA)
    ids = root.get_screen("sale").ids
    assert ids.item_count.text == "1 item" and ids.discounts.text == ""
    assert ids.subtotal.text == "Subtotal Rp 5.500"


def test_a_large_display_gets_the_favourites_buttons(app, terminal, tmp_path):
    """At 1280x720 (dp = px here) the room goes to one-touch buttons for the best
    sellers; at 800x480 there are none. A tap adds the product."""
    root, ui = app
    sign_in(root, ui)
    sale = root.get_screen("sale")
    assert not sale.wide and sale.ids.favourites.children == []
    root.get_root_window().size = (1280, 720)
    ui.frames(3)
    assert sale.wide
    buttons = list(reversed(sale.ids.favourites.children))
    assert len(buttons) == 12
    ui.tap(buttons[0])
    assert len(terminal.pos.cart.lines) == 1
    assert terminal.pos.cart.lines[0].product.name in buttons[0].text
    ui.screenshot(tmp_path / "wide.png")
    root.get_root_window().size = (800, 480)
    ui.frames(3)
    assert not sale.wide and sale.ids.favourites.children == []
