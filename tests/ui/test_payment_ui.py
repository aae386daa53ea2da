"""Amounts as the cashier types them, and a card payment that shows what the card is
charged, in the real window."""

from __future__ import annotations

import pytest

from terminal.services.demo import weighed_barcode
from tests.ui.test_cash_sale_ui import TEA, sign_in
from tests.ui.test_operations_ui import panel

pytestmark = pytest.mark.ui

APPLES = weighed_barcode("22", "10001", 1234)  # Apel Fuji 1,234 kg = Rp 51.828


def test_cash_in_shows_the_amount_formatted_while_typed(app, terminal):
    root, ui = app
    sign_in(root, ui)
    ui.key("f8")
    ui.tap(panel(root).option_buttons["cash_in"])
    entry = panel(root)
    assert entry.field.text == "Rp 0"  # the hint: an amount in rupiah
    ui.type("50")
    assert entry.field.text == "Rp 50"
    ui.type("0000x")  # a letter typed by mistake is not taken
    assert entry.field.text == "Rp 500.000" and entry.value == "500000"
    ui.key("backspace")
    assert entry.field.text == "Rp 50.000"
    ui.key("enter")
    ui.tap(panel(root).option_buttons[next(iter(panel(root).option_buttons))])
    assert root.get_screen("sale").message == "Cash in: Rp 50.000"


def test_the_tendered_amount_is_formatted_while_typed(app, terminal):
    root, ui = app
    sign_in(root, ui)
    ui.scan(TEA)
    ui.key("f12")
    ui.wait_until(lambda: root.current == "payment", "the payment screen")
    payment = root.get_screen("payment")
    ui.type("100000")
    assert payment.ids.tendered.text == "Tendered  Rp 100.000"
    assert payment.ids.change.text == "Change  Rp 94.500"


def test_a_card_payment_shows_the_card_amount_and_no_cash_controls(app, terminal):
    root, ui = app
    terminal.card.link.approve_after = 0.3
    sim = terminal.card.link.client and terminal.card.link.simulator  # (started by then)
    sim.script.progress = [(0x0A, 0.3)]  # "insert card"
    sign_in(root, ui)
    ui.scan(APPLES)
    ui.key("f12")
    ui.wait_until(lambda: root.current == "payment", "the payment screen")
    payment = root.get_screen("payment")
    # cash is rounded to Rp 100; the card pays the exact total, and its button says so
    assert payment.ids.due.text == "To pay  Rp 51.800"
    assert "Rp 51.828" in payment.ids.card_button.text
    ui.key("f11")
    ui.wait_until(lambda: payment.card_status == "insert card", "the card terminal's message")
    assert payment.ids.due.text == "Card charged  Rp 51.828"
    assert payment.ids.tendered.text == ""
    assert payment.ids.quick.disabled and payment.ids.quick.opacity == 0
    assert payment.ids.confirm_button.disabled and payment.ids.keypad.disabled
    ui.wait_until(lambda: root.last_outcome is not None, "the approval")
    assert [c.amount for c in sim.charged()] == [51828]
    assert payment.charging_text == ""


def test_cancel_on_terminal_stops_a_card_payment_waiting_for_the_customer(app, terminal):
    root, ui = app
    terminal.card.link.approve_after = 60  # the customer never presents the card
    sim = terminal.card.link.client and terminal.card.link.simulator
    sign_in(root, ui)
    ui.scan(APPLES)
    ui.key("f12")
    ui.wait_until(lambda: root.current == "payment", "the payment screen")
    payment = root.get_screen("payment")
    assert payment.ids.back_button.text.startswith("Back")
    ui.key("f11")
    ui.wait_until(lambda: payment.charging_text, "the card payment under way")
    assert payment.ids.back_button.text.startswith("Cancel on terminal")
    ui.tap(payment.ids.back_button)
    ui.wait_until(lambda: not payment.card_busy, "the card terminal's answer")
    # nothing charged; the cashier is still on the payment screen, told so, and may pay cash
    assert sim.charged() == []
    assert root.current == "payment"
    assert payment.message == "Card payment cancelled on the card terminal: nothing charged"
    assert payment.ids.back_button.text.startswith("Back")
    ui.key("enter")  # nothing typed: asks for the amount
    ui.tap(payment.ids.quick.children[-1])  # Exact
    ui.wait_until(lambda: root.last_outcome is not None, "the cash sale")
    assert root.last_outcome.change == 0
    assert sim.charged() == []


def test_the_back_key_cancels_on_terminal_too(app, terminal):
    root, ui = app
    terminal.card.link.approve_after = 60
    sim = terminal.card.link.client and terminal.card.link.simulator
    sign_in(root, ui)
    ui.scan(TEA)
    ui.key("f12")
    ui.wait_until(lambda: root.current == "payment", "the payment screen")
    payment = root.get_screen("payment")
    ui.key("f11")
    ui.wait_until(lambda: payment.charging_text, "the card payment under way")
    ui.key("escape")
    ui.wait_until(lambda: not payment.card_busy, "the card terminal's answer")
    assert sim.charged() == [] and root.current == "payment"
    assert "cancelled" in payment.message
