"""Text by touch and menus that take text, in the real window: a name typed on the
on-screen keyboard, the phone just searched filled into the new customer's form, and a
phone number typed at the customer's menu that searches instead of picking "1 Edit"."""

from __future__ import annotations

import dataclasses

import pytest

from tests.ui.test_cash_sale_ui import sign_in
from tests.ui.test_operations_ui import panel

pytestmark = pytest.mark.ui


def test_a_name_is_typed_on_the_on_screen_keyboard(app, terminal, tmp_path):
    root, ui = app
    sign_in(root, ui)
    ui.key("f2")  # customer: scan the card, or type phone or name
    prompt = panel(root)
    assert prompt.keyboard is not None and prompt.keypad is None
    ui.frames(2)
    ui.screenshot(tmp_path / "keyboard.png")
    for key in "rinx":
        ui.tap_at(*prompt.keyboard.key_at(key))
    ui.tap_at(*prompt.keyboard.key_at("backspace"))
    ui.tap_at(*prompt.keyboard.key_at("a"))
    assert prompt.value == "rina"
    ui.tap_at(*prompt.keyboard.key_at("enter"))  # nobody called Rina yet: offered to add
    ui.wait_until(lambda: panel(root) is not prompt, "the next question")
    assert panel(root).title == "No customer found for rina"


def test_a_till_with_a_keyboard_keeps_the_keypad(window, terminal, settings):
    from terminal.ui.app import PosRoot  # noqa: PLC0415 - Kivy only after the UI conftest
    from terminal.ui.driver import UiDriver  # noqa: PLC0415

    ui_settings = dataclasses.replace(settings.ui, on_screen_keyboard=False)
    root = PosRoot(terminal.pos, dataclasses.replace(settings, ui=ui_settings))
    root.attach()
    window.add_widget(root)
    ui = UiDriver()
    try:
        sign_in(root, ui)
        ui.key("f2")
        assert panel(root).keyboard is None and panel(root).keypad is not None
        ui.key("escape")
    finally:
        root.detach()
        window.remove_widget(root)
        ui.frames(1)


def test_the_phone_searched_is_filled_into_the_new_customer(app, terminal):
    root, ui = app
    sign_in(root, ui)
    ui.key("f2")
    ui.type("0813 5555 0000")
    ui.key("enter")
    ui.tap(panel(root).option_buttons["add"])
    ui.frames(2)
    name = panel(root)
    assert name.title == "New customer: name" and name.value == ""
    ui.type("Rina Wati")
    ui.key("enter")
    ui.frames(2)
    phone = panel(root)
    assert phone.title == "New customer: phone" and phone.value == "0813 5555 0000"


def test_a_phone_typed_at_the_customers_menu_does_not_pick_an_option(app, terminal):
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui)
    pos.customers.attach(pos.customers.find("MBR0001")[0])
    ui.key("f2")
    menu = panel(root)
    assert menu.note.text == "" and menu.field.text.startswith("Or type a phone or name")
    ui.type("0811")  # "1" would have been "1 Edit"
    assert panel(root) is menu and menu.field.text == "0811"
    ui.key("enter")
    ui.wait_until(lambda: panel(root) is not menu, "the search's answer")
    assert panel(root).title == "No customer found for 0811"
    assert pos.customer.name == "Dewi Lestari"


def test_a_menu_says_its_numbers_and_refuses_others(app, terminal):
    root, ui = app
    sign_in(root, ui)
    ui.key("f8")  # shift menu: six options (the last: Send now)
    menu = panel(root)
    assert menu.note.text == "Press the number of an option, or tap it"
    ui.type("9")
    assert panel(root) is menu
    assert menu.note.text == "This menu has options 1 to 7: press one, or tap it"
