"""The real app in a real Kivy window under Xvfb, driven through its keys and widgets.

Every wait is on the app's state and the Kivy clock (UiDriver.wait_until), never a sleep.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from PIL import Image

from hal.printer.preview import BarcodeMark, QrMark, interpret
from terminal.services.demo import weighed_barcode

pytestmark = pytest.mark.ui

TEA = "8991002101111"  # Teh Botol Sosro 450 ml, Rp 5.500
SUGAR = "8993003000011"  # Gulaku 1 kg, Rp 17.500 (exempt)
UNKNOWN = "4006381333931"  # a valid EAN-13 this shop does not sell


def sign_in(root, ui, operator="1", pin="1357"):
    ui.type(operator)
    ui.key("enter")
    ui.type(pin)
    ui.key("enter")
    ui.wait_until(lambda: root.current == "sale", "the sale screen")


def entered(root, ui):
    """Kivy enters a screen (its on_enter event) when the transition ends, frames later."""
    ui.wait_until(lambda: not root.transition.is_active, "the screen to be entered")


def all_buttons(widget):
    from kivy.uix.button import Button  # noqa: PLC0415 - Kivy only after the UI conftest

    return [w for w in widget.walk(restrict=True) if isinstance(w, Button)]


def test_whole_cash_sale_from_the_keyboard(app, terminal, tmp_path):
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui)
    sale = root.get_screen("sale")
    assert sale.cashier_name == "Cashier: Sari"

    ui.scan(TEA)
    ui.scan(UNKNOWN)
    # a clear message, nothing added, the scan field empty and ready again
    assert sale.ids.message.text == f"Unknown code {UNKNOWN}: nothing added"
    assert sale.message_is_error
    assert [line.product.sku for line in pos.cart.lines] == ["TEH-BTL"]
    assert sale.entry == ""
    ui.scan(SUGAR)
    assert sale.message == ""
    ui.scan(weighed_barcode("22", "10001", 1234))  # Apel Fuji 1,234 kg = Rp 51.828
    assert len(sale.ids.lines.children) == 3
    assert sale.ids.last_name.text == "Apel Fuji /kg"
    assert sale.ids.last_amount.text == "Rp 51.828"
    assert sale.ids.total.text == "Total  Rp 74.828"  # 5.500 + 17.500 + 51.828

    ui.key("f12")  # pay cash
    ui.wait_until(lambda: root.current == "payment", "the payment screen")
    payment = root.get_screen("payment")
    entered(root, ui)
    assert payment.ids.due.text == "To pay  Rp 74.800"  # cash rounding to Rp 100
    assert payment.ids.message.text == ""  # no refusal before the cashier did anything
    ui.type("100000")
    assert payment.ids.change.text == "Change  Rp 25.200"  # shown before confirming
    ui.key("enter")
    ui.wait_until(lambda: root.last_outcome is not None, "the sale to be paid")

    # back on an empty sale, the change in large type
    assert root.current == "sale"
    assert pos.cart.is_empty
    assert sale.ids.last_amount.text == "Rp 25.200"
    assert sale.ids.message.text == "Receipt printed"
    # the drawer opened once
    assert len(pos.drawer.pulses) == 1
    # the receipt the printer got
    name, data = pos.printer.jobs[-1]
    assert name == "T01-000001"
    paper = interpret(data)
    assert not paper.unknown
    text = "\n".join(paper.lines)
    # the receipt is in the store's language (Indonesian), whatever the screen shows
    for expected in (
        "Teh Botol Sosro 450 ml",
        "Gula Pasir Gulaku 1 kg",
        "  1,234 kg x Rp 42.000",
        "Kasir: Sari",
        "Harga sudah termasuk pajak:",
    ):
        assert expected in text
    amounts = dict(
        re.split(r"\s{2,}", line)
        for line in paper.lines
        if line.count("Rp") == 1 and not line.startswith(" ") and re.search(r"\s{2,}", line)
    )
    assert amounts["TOTAL"] == "Rp 74.828"
    assert amounts["Pembulatan tunai"] == "-Rp 28"
    assert amounts["Dibayar"] == "Rp 74.800"
    assert amounts["Tunai"] == "Rp 100.000"
    assert amounts["Kembalian"] == "Rp 25.200"
    code = root.last_outcome.committed.return_code
    assert [m.data for m in paper.of(BarcodeMark)] == [code]
    assert [m.data for m in paper.of(QrMark)] == [code]

    shot = ui.screenshot(tmp_path / "after-sale.png")
    assert Image.open(shot).size == (800, 480)


def test_whole_cash_sale_by_touch(app, terminal):
    root, ui = app
    pos = terminal.pos
    signin = root.get_screen("signin")
    ui.tap(next(b for b in all_buttons(signin.ids.cashiers) if "Sari" in b.text))
    for digit in "1357":
        ui.tap(signin.ids.keypad.buttons[digit])
    ui.tap(signin.ids.keypad.buttons["OK"])
    ui.wait_until(lambda: root.current == "sale", "the sale screen")

    sale = root.get_screen("sale")
    ui.tap(sale.ids.search_button)
    search = root.get_screen("search")
    assert root.current == "search"
    entered(root, ui)
    assert search.message == "" and search.results == []  # entering picks nothing
    for letter in "KOPI":
        ui.tap(next(b for b in all_buttons(search.ids.letters) if b.text == letter))
    names = [b.text.split("\n")[0] for b in all_buttons(search.ids.results)]
    assert names == ["Kopi ABC Susu 10x31 g", "Kopi Kapal Api 165 g"]
    ui.tap(next(b for b in all_buttons(search.ids.results) if "Kapal Api" in b.text))
    assert root.current == "sale"
    ui.tap(sale.ids.keypad.buttons["2"])
    ui.tap(sale.ids.quantity_button)
    assert [(line.product.sku, line.quantity) for line in pos.cart.lines] == [("KOPI-KPL", 2)]

    ui.tap(sale.ids.pay_button)
    payment = root.get_screen("payment")
    exact = next(b for b in all_buttons(payment.ids.quick) if b.text.startswith("Exact"))
    assert exact.text == "Exact\nRp 29.000"
    ui.tap(exact)
    ui.wait_until(lambda: root.last_outcome is not None, "the sale to be paid")
    assert root.last_outcome.change == 0
    assert len(pos.drawer.pulses) == 1


def test_refusals_on_screen_lose_nothing(app, terminal):
    root, ui = app
    pos = terminal.pos
    signin = root.get_screen("signin")

    sign_in_wrong = ("1", "9999")
    ui.type(sign_in_wrong[0])
    ui.key("enter")
    ui.type(sign_in_wrong[1])
    ui.key("enter")
    assert root.current == "signin"
    assert signin.ids.message.text == "Wrong cashier number or PIN"
    assert signin.pin == ""  # the PIN field is emptied for the next try
    ui.key("escape")
    sign_in(root, ui)

    sale = root.get_screen("sale")
    ui.key("f12")
    assert root.current == "sale"
    assert sale.ids.message.text == "Nothing to pay: scan an item first"

    ui.scan(TEA)
    for typed, message in (
        ("0", "Quantity must be more than zero"),
        ("1000", "Quantity must be at most 999"),
    ):
        ui.type(typed)
        ui.key("numpadmul")
        assert sale.ids.message.text == message
        assert pos.cart.lines[0].quantity == 1
    ui.key("f12")
    ui.wait_until(lambda: root.current == "payment", "the payment screen")
    payment = root.get_screen("payment")
    ui.type("5000")
    ui.key("enter")
    assert root.current == "payment"
    assert payment.ids.message.text == "Tendered Rp 5.000 is less than the total Rp 5.500"
    assert pos.printer.jobs == [] and pos.drawer.pulses == []
    ui.key("escape")
    assert root.current == "sale"
    assert [line.product.sku for line in pos.cart.lines] == ["TEH-BTL"]  # the sale is intact


def test_search_and_sign_out_from_their_keys(app, terminal):
    """F3 searches by name (arrows pick, Enter adds); F10 signs out, but not mid-sale."""
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui)
    ui.key("f3")
    ui.wait_until(lambda: root.current == "search", "the search screen")
    search = root.get_screen("search")
    ui.type("indomie")
    names = [p.name for p in search.results]
    assert len(names) >= 2 and all("Indomie" in n for n in names)
    ui.key("down")
    ui.key("enter")
    ui.wait_until(lambda: root.current == "sale", "back on the sale")
    assert [line.product.name for line in pos.cart.lines] == [names[1]]

    ui.key("f10")  # a sale is open: refused, nothing lost
    sale = root.get_screen("sale")
    assert root.current == "sale" and sale.message_is_error
    assert "before signing out" in sale.ids.message.text
    assert len(pos.cart.lines) == 1
    ui.key("delete")  # void the line (within the free window)
    ui.type("1")  # its reason
    assert pos.cart.is_empty
    ui.key("f10")
    ui.wait_until(lambda: root.current == "signin", "the sign-in screen")
    assert pos.cashier is None


def test_keys_follow_the_configured_key_map(window, terminal, settings):
    from terminal.ui.app import PosRoot  # noqa: PLC0415 - Kivy only after the UI conftest
    from terminal.ui.driver import UiDriver  # noqa: PLC0415

    keys = dict(settings.keys, pay_cash=["f1"], remove_line=["f4"], online_orders=[])
    custom = dataclasses.replace(settings, keys=keys)
    root = PosRoot(terminal.pos, custom)
    root.attach()
    window.add_widget(root)
    ui = UiDriver()
    try:
        sign_in(root, ui)
        ui.scan(TEA)
        ui.scan(SUGAR)
        ui.key("f4")  # void: the reason is asked first
        ui.type("1")
        assert [line.product.sku for line in terminal.pos.cart.lines] == ["TEH-BTL"]
        ui.key("f12")  # no longer mapped
        assert root.current == "sale"
        ui.key("f1")
        assert root.current == "payment"
        assert "F1" in root.get_screen("sale").ids.pay_button.text
    finally:
        root.detach()
        window.remove_widget(root)


@pytest.mark.parametrize("size", [(800, 480), (1280, 720), (1920, 1080)])
def test_layouts_fit_and_touch_targets_are_9mm(app, size, tmp_path):
    from kivy.metrics import Metrics  # noqa: PLC0415 - Kivy only after the UI conftest

    root, ui = app
    window = root.get_root_window()
    window.size = size
    min_px = 9 / 25.4 * Metrics.dpi  # 9 mm on the configured screen
    sign_in(root, ui)
    root.get_screen("sale").on_scan(TEA)
    for name in ("sale", "payment", "search", "signin"):
        root.current = name
        entered(root, ui)
        buttons = [b for b in all_buttons(root.current_screen) if b.get_root_window()]
        assert buttons
        for button in buttons:
            x, y = button.to_window(button.x, button.y)
            where = f"{name} at {size}: {button.text!r}"
            assert button.height >= min_px - 0.5 and button.width >= min_px - 0.5, where
            assert x >= 0 and y >= 0, where
            assert x + button.width <= size[0] + 0.5 and y + button.height <= size[1] + 0.5, where
        ui.screenshot(tmp_path / f"{name}-{size[0]}x{size[1]}.png")


def test_paper_out_then_the_cashier_resumes_printing(app, terminal):
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui)
    sale = root.get_screen("sale")
    pos.printer.paper_out = True
    ui.scan(SUGAR)
    ui.key("f12")
    ui.key("f12")  # exact
    ui.wait_until(lambda: root.last_outcome is not None, "the sale to be paid")
    assert sale.ids.message.text == (
        "Sale saved. Receipt not printed: the printer is out of paper. F9: print it"
    )
    assert pos.printer.jobs == []
    pos.printer.paper_out = False  # the cashier puts in a new roll
    ui.key("f9")
    assert sale.ids.message.text == "1 receipt(s) printed"
    ui.key("f9")
    assert sale.ids.message.text == "0 receipt(s) printed"
    assert [name for name, _data in pos.printer.jobs] == ["T01-000001"]


def test_device_health_shows_on_the_sale_screen(app, terminal):
    root, ui = app
    sign_in(root, ui)
    sale = root.get_screen("sale")

    def poll():  # what the 5-second poll does; it answers on a thread
        root.health_events = None
        root.check_health()
        ui.wait_until(lambda: root.health_events is not None, "the health poll")
        return sale.ids.health.text

    terminal.pos.printer.paper_out = True
    assert poll() == "Printer: paper out"
    terminal.pos.printer.paper_out = False
    assert poll() == ""
    terminal.card.offline = True  # a payment found the card terminal unreachable
    assert poll() == "Card terminal: not reachable"
    terminal.card.offline = False
    assert poll() == ""
