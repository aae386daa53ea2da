"""The refund screen in the real window at 800x480, driven by key events as a cashier's
keyboard sends them: every action from its key (shown on its button), an empty Enter
that chooses nothing, what was paid and is still refundable in the same terms, weighed
lines in kg, and the money handed back shown large on the sale screen afterwards.
Screenshots go to POS_SHOTS when it is set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from terminal.services.demo import weighed_barcode
from terminal.store.journal import read_entries
from tests.ui.test_cash_sale_ui import SUGAR, TEA, all_buttons, sign_in
from tests.ui.test_operations_ui import panel

pytestmark = pytest.mark.ui

APPLES = weighed_barcode("22", "10001", 1234)  # 1,234 kg of Apel Fuji at 42,000/kg: 51,828


@pytest.fixture
def shots(tmp_path):
    where = Path(os.environ.get("POS_SHOTS", tmp_path / "shots"))
    where.mkdir(parents=True, exist_ok=True)
    return where


def journal(pos, kind):
    return [e["payload"] for e in read_entries(pos.db, types=(kind,))]


def sell_and_open_refund(root, ui, tendered="100000"):
    """Apples (1,234 kg), 3 teas and sugar: 85,828, paid in cash (rounded: 85,800);
    then F7 and the receipt's return code, scanned. Returns the refund screen and the
    sale's return code."""
    sign_in(root, ui)
    ui.scan(APPLES)
    ui.scan(TEA)
    ui.type("3")
    ui.key("numpadmul")
    ui.scan(SUGAR)
    ui.key("f12")
    ui.type(tendered)
    ui.key("enter")
    ui.wait_until(lambda: root.last_outcome is not None, "the sale")
    sold = root.last_outcome.committed
    ui.key("f7")
    assert root.current == "refund"
    refund = root.get_screen("refund")
    ui.scan(sold.return_code)
    assert refund.sale is not None and refund.sale.label == sold.label
    return refund, sold.return_code


def approve_by_keys(root, ui):
    """Reason 1 (defective), then Budi (2) approves: his number, Enter, his PIN, Enter."""
    assert "Reason" in panel(root).title
    ui.type("1")
    assert "approval" in panel(root).title.lower()
    ui.type("2")
    ui.key("enter")
    ui.type("2580")
    ui.key("enter")
    ui.wait_until(lambda: root.current == "sale", "back on the sale screen")


def rows(refund):
    return list(reversed(refund.ids.lines.children))


def test_every_refund_action_runs_from_its_key_shown_on_its_button(app, terminal, shots):
    root, ui = app
    refund, _code = sell_and_open_refund(root, ui)
    buttons = refund.ids
    assert buttons.find_button.text.endswith("F7")
    assert buttons.no_receipt_button.text.endswith("Ins")
    assert buttons.restock_button.text.endswith("Home")
    assert buttons.refund_button.text.endswith("F12")
    assert buttons.back_button.text.endswith("Esc")
    ui.key("down")  # the teas
    ui.type("2")
    ui.key("enter")
    ui.key("home")  # damaged: not back to stock
    assert refund.chosen == {2: (2, False)}
    assert (rows(refund)[1].detail, rows(refund)[1].stock) == ("refund 2", "damaged")
    assert buttons.restock_button.text.startswith("Back to stock")
    ui.screenshot(shots / "refund-keys-chosen.png")
    ui.key("f12")  # refund, as pay is on the sale screen
    approve_by_keys(root, ui)
    (entry,) = journal(terminal.pos, "refund")
    assert entry["lines"] == [
        {"position": 2, "sku": "TEH-BTL", "quantity": "2", "amount": 11000, "restock": False}
    ]
    # F7 on the refund screen finds a sale without its receipt; Esc closes the prompt
    ui.key("f7")
    ui.key("f7")
    assert panel(root).title == "Find the sale"
    ui.key("escape")
    assert not root.panels and root.current == "refund"
    # Ins: a return without a receipt; keypad + refunds it
    ui.key("insert")
    assert refund.no_receipt
    ui.scan(TEA)
    ui.key("numpadadd")
    assert "Reason" in panel(root).title
    ui.key("escape")
    # what is chosen is never dropped by the no-receipt key
    ui.key("insert")
    assert refund.no_receipt and len(refund.without_receipt) == 1 and refund.message_is_error


def test_an_empty_enter_chooses_nothing(app, terminal):
    root, ui = app
    refund, _code = sell_and_open_refund(root, ui)
    assert refund.selected == 0  # the apples
    ui.key("enter")
    assert refund.chosen == {} and refund.total_text == "Refund  Rp 0"
    assert "Type the weight of Apel Fuji" in refund.message and not refund.message_is_error
    ui.key("down")
    ui.key("numpadenter")
    assert refund.chosen == {} and "Type how many of Teh Botol" in refund.message
    ui.key("f12")
    assert not root.panels and refund.message == "Choose what to refund"


def test_paid_and_refundable_in_the_same_terms(app, terminal, shots):
    root, ui = app
    refund, code = sell_and_open_refund(root, ui)
    # 85,828 of goods, paid 85,800 in cash: never more back than was paid
    assert "paid Rp 85.800" in refund.sale_text
    assert "still refundable Rp 85.800" in refund.sale_text
    assert "85.828" not in refund.sale_text
    ui.screenshot(shots / "refund-header.png")
    # after a refund of two teas (11,000), both again as paid
    ui.key("down")
    ui.type("2")
    ui.key("enter")
    ui.key("f12")
    approve_by_keys(root, ui)
    ui.key("f7")
    ui.scan(code)
    assert "paid Rp 85.800, still refundable Rp 74.800" in refund.sale_text


def test_a_weighed_line_shows_and_refunds_its_weight_in_kg(app, terminal, shots):
    root, ui = app
    refund, _code = sell_and_open_refund(root, ui)
    assert rows(refund)[0].detail == "1,234 kg refundable"
    assert refund.ids.entry.text == "Weight to refund (kg)"
    ui.screenshot(shots / "refund-weighed-header.png")
    ui.type("2")
    ui.key("enter")  # more than was sold: said in kg
    assert refund.message == "Only 1,234 kg of Apel Fuji /kg can still be refunded"
    ui.type("0,5")
    ui.key("enter")
    assert (rows(refund)[0].detail, rows(refund)[0].stock) == ("refund 0,500 kg", "back to stock")
    assert rows(refund)[0].amount == "-Rp 21.000"
    assert refund.total_text == "Refund  Rp 21.000" and refund.split_text == "Cash Rp 21.000"
    ui.key("home")  # the half kilo is bruised: damaged
    ui.screenshot(shots / "refund-weighed-half.png")
    assert_money_fits(refund)
    ui.type("0,5005")
    ui.key("enter")
    assert refund.message == "Apel Fuji /kg is refunded in steps of 1 g"
    ui.type("1.234")  # the point works as the decimal separator too
    ui.key("enter")
    ui.key("down")
    ui.type("3")
    ui.key("numpadmul")  # the sale screen's Qty key sets it too
    ui.key("down")
    ui.type("1")
    ui.key("enter")  # everything: 85,828 of goods, back what was paid, exactly
    assert rows(refund)[0].detail == "refund 1,234 kg" and rows(refund)[0].stock == "damaged"
    assert refund.total_text == "Refund  Rp 85.800"
    assert refund.split_text == "Cash Rp 85.800  (cash rounding -Rp 28)"
    assert_money_fits(refund)
    ui.screenshot(shots / "refund-weighed-all.png")


def test_the_money_handed_back_shows_large_on_the_sale_screen(app, terminal, shots):
    root, ui = app
    refund, _code = sell_and_open_refund(root, ui)  # 100,000 for 85,800: 14,200 change
    sale = root.get_screen("sale")
    assert sale.last_amount == "Rp 14.200"
    ui.type("1,234")
    ui.key("enter")  # the apples: 51,828 of goods, 51,800 in cash (in 100s)
    ui.tap(refund.ids.refund_button)  # (by touch: its key is the first test's)
    approve_by_keys(root, ui)
    assert sale.last_amount == "Rp 51.800" and sale.change_text == "Rp 51.800"
    assert "Refund" in sale.last_name and "cash" in sale.last_name
    assert "14.200" not in sale.last_name + sale.last_amount
    assert journal(terminal.pos, "refund")[0]["tenders"] == {"cash": 51800}
    assert_fits(sale.ids.last_name) and assert_fits(sale.ids.last_amount)
    ui.screenshot(shots / "refund-handed-back.png")
    ui.scan(TEA)  # the next sale: the panel shows the line again
    assert sale.change_text == "" and sale.last_name.startswith("Teh Botol")


def test_the_refund_screen_fits_at_800x480(app, terminal, shots):
    from kivy.metrics import Metrics  # noqa: PLC0415 - Kivy only after the UI conftest

    root, ui = app
    refund, _code = sell_and_open_refund(root, ui)
    min_px = 9 / 25.4 * Metrics.dpi  # 9 mm on the configured screen
    ui.type("1")
    ui.key("enter")  # the apples, 1 kg
    ui.key("home")  # damaged
    for button in all_buttons(refund):
        x, y = button.to_window(button.x, button.y)
        assert button.height >= min_px - 0.5 and button.width >= min_px - 0.5, button.text
        assert x >= 0 and y >= 0 and x + button.width <= 800.5, button.text
        assert y + button.height <= 480.5, button.text
        assert_fits(button)
    assert_money_fits(refund)
    ui.screenshot(shots / "refund-800x480.png")


# -- nothing money-related cut off ---------------------------------------------------------
def assert_money_fits(refund):
    for label in (refund.ids.sale_text, refund.ids.total, refund.ids.split, refund.ids.entry):
        assert_fits(label)
    from kivy.uix.label import Label  # noqa: PLC0415 - Kivy only after the UI conftest

    for row in rows(refund):
        for label in row.walk(restrict=True):
            if isinstance(label, Label):
                assert_fits(label)


def assert_fits(label):
    """The label's whole text is drawn: not shortened, not wrapped beyond its height."""
    from kivy.core.text import Label as CoreLabel  # noqa: PLC0415 - Kivy only after conftest

    if not label.text:
        return True
    padding = label.padding if len(label.padding) == 4 else [*label.padding, *label.padding]
    width = label.width - padding[0] - padding[2]
    wraps = not label.shorten
    core = CoreLabel(
        text=label.text,
        font_size=label.font_size,
        font_name=label.font_name,
        bold=label.bold,
        text_size=(width, None) if wraps else (None, None),
    )
    core.refresh()
    drawn_width, drawn_height = core.content_size
    assert drawn_width <= width + 0.5, f"{label.text!r}: {drawn_width} > {width}"
    assert drawn_height <= label.height + 0.5, f"{label.text!r}: {drawn_height} > {label.height}"
    return True


# -- the shift's close button --------------------------------------------------------------
def test_the_close_shift_button_shows_its_key_and_the_key_closes(app, terminal):
    root, ui = app
    sign_in(root, ui)
    ui.key("f8")  # the shift menu: its options show their numbers
    menu = panel(root)
    assert menu.option_buttons["close"].text.startswith("5 ")
    ui.type("5")  # close the shift: the blind count
    count = panel(root)
    key = root.keymap.label("pay_cash")
    assert count.done_button.text.endswith(key)
    ui.key("f12")  # the count is done: its total is shown to confirm, by the same key
    ui.wait_until(lambda: panel(root) is not count, "the count's total to confirm")
    assert panel(root).action_button.text.endswith(key) and terminal.pos.shift is not None
    ui.key("f12")
    ui.wait_until(lambda: not root.panels, "the count to close")
    assert terminal.pos.shift is None
