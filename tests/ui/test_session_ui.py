"""A cashier's session in the real window: keys typed on an ordinary keyboard, lockouts that
count down, a cashier who is not a supervisor at the approval prompt, a clean sign-out."""

from __future__ import annotations

import pytest

from tests.ui.test_cash_sale_ui import TEA, sign_in
from tests.ui.test_operations_ui import panel, pay_exact_cash

pytestmark = pytest.mark.ui


def test_star_typed_as_shift_8_sets_the_quantity(app, terminal):
    """On a laptop or a keyboard without a keypad, ``*`` is Shift+8: it sets the
    quantity just as the keypad's own ``*`` does, and types no 8."""
    root, ui = app
    sign_in(root, ui)
    ui.scan(TEA)
    ui.type("3")
    ui.key("8", "*", ["shift"])
    sale = root.get_screen("sale")
    assert terminal.pos.cart.lines[0].quantity == 3
    assert sale.entry == "" and not sale.message_is_error


def test_a_lockout_counts_down_then_says_try_again(app, terminal):
    root, ui = app
    signin = root.get_screen("signin")
    for _ in range(5):  # five wrong PINs lock number 1 for 30 s
        ui.type("1")
        ui.key("enter")
        ui.type("9999")
        ui.key("enter")
        ui.frames(2)
        assert signin.message == "Wrong cashier number or PIN"
        ui.key("escape")
    ui.type("1")
    ui.key("enter")
    ui.type("1357")  # even the right PIN waits out the lockout
    ui.key("enter")
    ui.frames(2)
    assert signin.message == "Too many wrong PINs: try again in 30 s"
    assert root.current == "signin"
    tick = signin._countdown.get_callback()  # one second of the Kivy clock, each call
    tick(1.0)
    assert signin.ids.message.text == "Too many wrong PINs: try again in 29 s"
    for _ in range(28):
        tick(1.0)
    assert signin.message == "Too many wrong PINs: try again in 1 s"
    assert tick(1.0) is False  # done: the countdown stops
    assert signin.message == "You can try again" and not signin.message_is_error


def test_a_countdown_stops_when_something_else_is_said(app, terminal):
    root, ui = app
    signin = root.get_screen("signin")
    for _ in range(6):
        ui.type("1")
        ui.key("enter")
        ui.type("9999")
        ui.key("enter")
        ui.frames(2)
        ui.key("escape")
    tick = signin._countdown.get_callback()
    signin.say("Another message")
    assert tick(1.0) is False
    assert signin.message == "Another message"


def test_a_cashier_is_told_they_cannot_approve(app, terminal, clock):
    root, ui = app
    sign_in(root, ui)
    ui.scan(TEA)
    clock.advance(60)
    ui.key("delete")
    ui.type("1")  # the first reason: a late void needs a supervisor
    approval = panel(root)
    ui.type("1")  # Sari's own number
    ui.key("enter")
    assert approval.note.text == "Cashier 1 is not a supervisor: a supervisor approves"
    assert root.panels and len(terminal.pos.cart.lines) == 1


def test_signing_out_leaves_nothing_of_the_session_on_screen(app, terminal):
    root, ui = app
    sign_in(root, ui)
    ui.scan(TEA)
    pay_exact_cash(root, ui)
    sale = root.get_screen("sale")
    ui.frames(2)
    assert sale.change_text  # the last sale's change, shown to Sari
    ui.key("f12")  # nothing to pay: a message on the screen
    assert sale.message
    ui.key("f10")
    ui.wait_until(lambda: root.current == "signin", "the sign-in screen")
    sign_in(root, ui, "2", "2580")  # Budi's session starts clean
    assert sale.change_text == "" and sale.message == ""
    assert root.last_outcome is None
    assert sale.cashier_name == "Cashier: Budi"


def test_a_long_message_is_shown_whole_at_800x480(app, terminal):
    root, ui = app
    sign_in(root, ui)
    sale = root.get_screen("sale")
    message = sale.ids.message
    short_height = message.height
    text = (
        "The card terminal cannot say whether it refunded: check its printout; a supervisor "
        "records it under More > Card payments without a sale"
    )
    sale.say(text, error=True)
    ui.frames(3)
    assert message.text == text  # whole, not shortened
    assert message.texture_size[1] > short_height  # three lines here...
    assert message.height >= message.texture_size[1]  # ...and room for all three
    _x, y = message.to_window(message.x, message.y)
    assert y >= 0 and y + message.height <= 480


def test_after_the_shift_is_closed_a_scan_asks_the_opening_float_first(app, terminal):
    root, ui = app
    sign_in(root, ui)
    terminal.pos.shifts.close({})  # the day closed (an empty drawer counted)
    ui.scan(TEA)
    assert terminal.pos.cart.is_empty  # nothing sold outside a shift
    prompt = panel(root)
    assert prompt.title == "Open the shift: count the opening float"
    ui.type("200000")
    ui.key("enter")
    ui.wait_until(lambda: not root.panels, "the shift to open")
    assert terminal.pos.shift is not None
    ui.scan(TEA)
    assert len(terminal.pos.cart.lines) == 1
