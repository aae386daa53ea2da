"""Issue 5's flows in the real app under Xvfb, driven by keys, taps and the keypad, with
a screenshot of each step saved (tests/ui/screenshots is written when POS_SHOTS is set,
else a temporary directory)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hal.printer.preview import interpret
from terminal.store.journal import read_entries
from tests.ui.test_cash_sale_ui import SUGAR, TEA, sign_in

pytestmark = pytest.mark.ui


@pytest.fixture
def shots(tmp_path):
    where = Path(os.environ.get("POS_SHOTS", tmp_path / "shots"))
    where.mkdir(parents=True, exist_ok=True)
    return where


def panel(root):
    assert root.panels, "a prompt should be open"
    return root.panels[-1]


def tap_digits(ui, keypad, digits):
    for digit in digits:
        ui.tap(keypad.buttons[digit])


def pay_exact_cash(root, ui):
    """Pay (F12), the exact amount (F12 again), and wait for the sale to be done."""
    ui.key("f12")
    ui.key("f12")
    ui.wait_until(lambda: root.last_outcome is not None, "the sale")
    return root.last_outcome.committed


def supervisor_approves(root, ui):
    """Budi (2) approves on the prompt's keypad: his button, his PIN, OK."""
    approval = panel(root)
    ui.tap(next(b for b in approval.buttons.children if b.text.startswith("2 ")))
    tap_digits(ui, approval.keypad, "2580")
    ui.tap(approval.ok_button)


def journal(pos, kind):
    return [e["payload"] for e in read_entries(pos.db, types=(kind,))]


def test_late_void_approved_by_a_supervisor_on_the_keypad(app, terminal, clock, shots):
    root, ui = app
    sign_in(root, ui)
    ui.scan(TEA)
    ui.scan(SUGAR)
    clock.advance(30.1)  # the tea was added more than 30 s ago
    sale = root.get_screen("sale")
    sale.select(0)
    ui.frames(2)
    ui.tap(sale.ids.remove_button)  # Void
    reasons = panel(root)
    ui.screenshot(shots / "void-1-reason.png")
    ui.tap(reasons.option_buttons["changed_mind"])
    approval = panel(root)
    assert "Supervisor approval" in approval.heading.text
    ui.screenshot(shots / "void-2-approval.png")
    supervisor_button = next(b for b in approval.buttons.children if b.text.startswith("2 "))
    ui.tap(supervisor_button)
    tap_digits(ui, approval.keypad, "1111")  # a wrong PIN: refused, the prompt stays
    ui.tap(approval.ok_button)
    assert "Wrong supervisor number or PIN" in approval.note.text and root.panels
    ui.screenshot(shots / "void-3-wrong-pin.png")
    tap_digits(ui, approval.keypad, "2580")
    assert approval.field.text == "\u2022" * 4  # the PIN never shows
    ui.tap(approval.ok_button)
    ui.wait_until(lambda: not root.panels, "the prompt to close")
    assert [line.product.sku for line in terminal.pos.cart.lines] == ["GULA-1KG"]
    assert "Voided" in sale.message
    ui.screenshot(shots / "void-4-done.png")
    (void,) = journal(terminal.pos, "line_void")
    assert (void["late"], void["asked_by"], void["approved_by"]) == (True, 1, 2)


def test_cancel_returns_to_where_the_cashier_was(app, terminal, clock):
    root, ui = app
    sign_in(root, ui)
    ui.scan(TEA)
    clock.advance(60)
    ui.key("delete")
    ui.type("1")  # the first reason
    assert "Supervisor approval" in panel(root).heading.text
    ui.key("escape")
    assert not root.panels and root.current == "sale"
    assert len(terminal.pos.cart.lines) == 1 and not journal(terminal.pos, "line_void")


def test_partial_refund_by_scanning_the_return_code(app, terminal, shots):
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui)
    ui.scan(TEA)
    ui.type("3")
    ui.key("numpadmul")  # 3 teas
    ui.scan(SUGAR)
    ui.key("f12")
    ui.key("f12")  # exact
    ui.wait_until(lambda: root.last_outcome is not None, "the sale")
    sold = root.last_outcome.committed
    ui.key("f7")  # refund
    assert root.current == "refund"
    refund = root.get_screen("refund")
    ui.scan(sold.return_code)  # the receipt's barcode, by the wedge scanner
    assert refund.sale is not None and refund.sale.label == sold.label
    ui.type("2")
    ui.key("enter")  # two of the three teas (line 1 is selected)
    ui.screenshot(shots / "refund-1-chosen.png")
    assert "11.000" in refund.total_text
    ui.tap(refund.ids.refund_button)
    ui.tap(panel(root).option_buttons["defective"])
    supervisor_approves(root, ui)
    ui.wait_until(lambda: root.current == "sale", "back on the sale screen")
    ui.screenshot(shots / "refund-2-done.png")
    (entry,) = journal(pos, "refund")
    assert entry["amount"] == 11000 and entry["lines"][0]["quantity"] == "2"
    assert pos.refunds.find(sold.return_code).refundable == 5500 + 17500
    text = "\n".join(interpret(pos.printer.jobs[-1][1]).lines)
    assert "PENGEMBALIAN" in text and "11.000" in text  # (the receipt is in Indonesian)


def test_card_declined_then_approved(app, terminal, shots):
    root, ui = app
    terminal.card.link.approve_after = 0.2
    sim = terminal.card.link.client and terminal.card.link.simulator
    sim.script.progress = [(0x0A, 0.2)]  # "insert card"
    sign_in(root, ui)
    ui.scan(SUGAR)
    ui.key("f12")
    payment = root.get_screen("payment")
    sim.script.outcome = "decline"
    ui.tap(payment.ids.card_button)
    ui.wait_until(lambda: payment.card_status == "insert card", "the card terminal's message")
    ui.screenshot(shots / "card-1-insert-card.png")
    ui.wait_until(lambda: not payment.card_busy, "the card terminal's answer")
    assert root.current == "payment" and "Card declined" in payment.message
    ui.screenshot(shots / "card-2-declined.png")
    sim.script.outcome = "approve"
    ui.key("f11")
    ui.wait_until(lambda: root.last_outcome is not None, "the approval")
    assert root.current == "sale"
    ui.screenshot(shots / "card-3-approved.png")
    assert [c.amount for c in sim.charged()] == [17500]  # charged once, for the approval
    tenders = root.last_outcome.committed.sale.payment.tenders
    assert [(t.kind, t.amount) for t in tenders] == [("card", 17500)]


def test_shift_closed_with_a_variance(app, terminal, shots):
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui)
    ui.scan(SUGAR)
    ui.key("f12")
    ui.type("20000")
    ui.key("enter")
    ui.wait_until(lambda: root.last_outcome is not None, "the sale")
    ui.key("f8")  # shift menu
    menu = panel(root)
    ui.tap(menu.option_buttons["close"])
    count = panel(root)
    ui.screenshot(shots / "shift-1-count.png")
    # 17,500 expected (float 0); counted: one 10,000 and one 5,000 -> 2,500 short
    for value, n in ((10000, "1"), (5000, "1")):
        count.select(count.denominations.index(value))
        ui.type(n)
    ui.screenshot(shots / "shift-2-counted.png")
    ui.tap(count.done_button)
    ui.wait_until(lambda: panel(root) is not count, "the count's total to confirm")
    confirm = panel(root)
    assert confirm.title == "Counted Rp 15.000: close the shift?" and pos.shift is not None
    ui.screenshot(shots / "shift-2b-confirm.png")
    ui.tap(confirm.action_button)
    ui.wait_until(lambda: not root.panels, "the count to close")
    sale = root.get_screen("sale")
    assert "-Rp 2.500" in sale.message and sale.message_is_error
    ui.screenshot(shots / "shift-3-closed.png")
    (close,) = journal(pos, "shift_close")
    assert (close["expected"], close["counted"], close["variance"]) == (17500, 15000, -2500)
    assert pos.shift is None
    text = "\n".join(interpret(pos.printer.jobs[-1][1]).lines)
    assert "Rp 10.000 x 1" in text and "Rp 5.000 x 1" in text  # the count by denomination
    # the Z report, from the same menu: a supervisor approves
    ui.key("f8")
    ui.tap(panel(root).option_buttons["z"])
    supervisor_approves(root, ui)
    ui.wait_until(lambda: not root.panels, "the Z report")
    text = "\n".join(interpret(pos.printer.jobs[-1][1]).lines)
    assert "LAPORAN Z 1" in text and "17.500" in text
    assert journal(pos, "z_report")[0]["approved_by"] == 2


def test_enter_on_the_last_denomination_shows_the_total_and_esc_goes_back(app, terminal, shots):
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui)
    ui.key("f8")
    ui.tap(panel(root).option_buttons["close"])
    count = panel(root)
    ui.type("1")  # one 100,000 note
    for _row in count.denominations[1:]:
        ui.key("enter")
    ui.type("2")  # two 100 coins, on the last row
    ui.key("enter")
    ui.wait_until(lambda: panel(root) is not count, "the total to confirm")
    confirm = panel(root)
    assert confirm.title == "Counted Rp 100.200: close the shift?"
    assert confirm.lines == ["Rp 100.000 x 1 = Rp 100.000", "Rp 100 x 2 = Rp 200"]
    ui.screenshot(shots / "count-confirm.png")
    ui.key("enter")  # one Enter too many closes nothing
    assert panel(root) is confirm and pos.shift is not None and confirm.message_is_error
    ui.key("escape")  # back to the count, as counted
    ui.wait_until(lambda: panel(root) is not confirm, "the count again")
    again = panel(root)
    assert again.counts[100000] == "1" and again.counts[100] == "2"
    again.select(again.denominations.index(100))
    ui.key("backspace")  # one 100 coin, not two
    ui.type("1")
    ui.key("f12")
    ui.wait_until(lambda: panel(root) is not again, "the total to confirm")
    assert panel(root).title == "Counted Rp 100.100: close the shift?"
    ui.key("f12")
    ui.wait_until(lambda: not root.panels, "the shift to close")
    assert pos.shift is None
    (close,) = journal(pos, "shift_close")
    assert close["counts"] == {"100": 1, "100000": 1} and close["counted"] == 100100


def test_x_report_on_the_screen_then_printed(app, terminal, shots):
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui)
    ui.scan(SUGAR)
    pay_exact_cash(root, ui)
    ui.key("f8")
    ui.tap(panel(root).option_buttons["x"])
    report = panel(root)
    assert report.title == "X report" and "X REPORT (no reset)" in report.lines
    assert pos.printer.jobs[-1][0].startswith("T01-0")  # only the sale's receipt so far
    ui.key("down")  # scrolls
    ui.screenshot(shots / "x-report-screen.png")
    ui.key("f12")
    ui.wait_until(lambda: not root.panels, "the X report to print")
    assert pos.printer.jobs[-1][0].startswith("T01-X-")
    assert root.get_screen("sale").message == "X report printed"


def test_supervisor_switches_a_passkey_category_off(app, terminal, clock, shots):
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui, "2", "2580")  # the supervisor
    sale = root.get_screen("sale")
    ui.tap(sale.ids.more_button)
    ui.tap(panel(root).option_buttons["passkeys"])
    settings = panel(root)
    assert "on" in settings.option_buttons["unpaid_orders"].text
    ui.screenshot(shots / "passkeys.png")
    ui.tap(settings.option_buttons["unpaid_orders"])
    assert "unpaid_orders" not in pos.approvals.policy.enabled
    ui.scan(TEA)
    clock.advance(60)
    ui.key("delete")
    ui.type("1")
    assert not root.panels and pos.cart.is_empty  # late, but no approval asked any more


def test_customer_added_at_the_till_then_points_pay_part(app, terminal, shots):
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui)
    ui.key("f2")  # customer
    ui.type("Rina")
    ui.key("enter")  # nobody: offered to add
    ui.tap(panel(root).option_buttons["add"])
    ui.frames(2)
    assert panel(root).value == "Rina"  # the name typed is kept
    ui.type(" Wati")
    ui.key("enter")
    ui.frames(2)
    ui.type("081311112222")
    ui.key("enter")
    ui.frames(2)
    supervisor_approves(root, ui)  # customers is on: the supervisor approves
    ui.wait_until(lambda: pos.customer is not None, "the customer on the sale")
    assert pos.customer.name == "Rina Wati"
    assert "Rina Wati" in root.get_screen("sale").customer_text
    ui.screenshot(shots / "customer-added.png")
    # the demo member has points: she pays part of a sale with them
    pos.customers.attach(pos.customers.find("MBR0001")[0])
    pos.db.execute_sql("UPDATE customer SET points = 50 WHERE member_code = 'MBR0001'")
    pos.customers.attach(pos.customers.find("MBR0001")[0])
    ui.scan(SUGAR)
    ui.key("f12")
    payment = root.get_screen("payment")
    assert payment.member_points == 50
    ui.type("30")
    ui.tap(payment.ids.points_button)
    assert pos.left_to_pay == 17500 - 3000
    ui.screenshot(shots / "points.png")
    ui.key("f12")  # exact cash for the rest
    ui.wait_until(lambda: root.last_outcome is not None, "the sale")
    tenders = root.last_outcome.committed.sale.payment.tenders
    assert [(t.kind, t.amount) for t in tenders] == [("points", 3000), ("cash", 14500)]


def test_return_without_a_receipt_and_a_reprint(app, terminal, shots):
    root, ui = app
    pos = terminal.pos
    sign_in(root, ui)
    ui.scan(TEA)
    pay_exact_cash(root, ui)
    sold = root.last_outcome.committed
    sale = root.get_screen("sale")
    ui.tap(sale.ids.more_button)
    ui.tap(panel(root).option_buttons["reprint"])
    ui.scan(sold.return_code)
    assert "1" in sale.message and sold.label in sale.message
    assert "SALINAN 1" in "\n".join(interpret(pos.printer.jobs[-1][1]).lines)
    ui.key("f7")
    refund = root.get_screen("refund")
    ui.tap(refund.ids.no_receipt_button)
    ui.scan(SUGAR)
    ui.tap(refund.ids.restock_button)  # damaged: not back to stock
    ui.screenshot(shots / "no-receipt.png")
    ui.tap(refund.ids.refund_button)
    ui.tap(panel(root).option_buttons["defective"])
    supervisor_approves(root, ui)  # always, without a receipt
    ui.wait_until(lambda: root.current == "sale", "back on the sale screen")
    (entry,) = journal(pos, "refund")
    assert entry["with_receipt"] is False and entry["lines"][0]["restock"] is False
    assert entry["tenders"] == {"cash": 17500}


def test_a_sale_found_without_its_receipt_by_amount(app, terminal):
    root, ui = app
    sign_in(root, ui)
    ui.scan(SUGAR)
    pay_exact_cash(root, ui)
    label = root.last_outcome.committed.label
    ui.key("f7")
    refund = root.get_screen("refund")
    ui.tap(refund.ids.find_button)
    ui.tap(panel(root).option_buttons["amount"])
    ui.type("17500")
    ui.key("enter")
    ui.frames(2)
    ui.tap(panel(root).option_buttons[label])
    assert refund.sale is not None and refund.sale.label == label and not root.panels


def test_card_refund_runs_while_the_screen_shows_the_terminal(app, terminal):
    root, ui = app
    pos = terminal.pos
    terminal.card.link.approve_after = 0.2
    sim = terminal.card.link.client and terminal.card.link.simulator
    sign_in(root, ui)
    ui.scan(SUGAR)
    ui.scan(TEA)
    ui.key("f12")
    ui.key("f11")  # all by card
    ui.wait_until(lambda: root.last_outcome is not None, "the card sale")
    sold = root.last_outcome.committed
    ui.key("f7")
    refund = root.get_screen("refund")
    ui.scan(sold.return_code)
    ui.key("down")
    ui.type("1")
    ui.key("enter")  # the tea, whole line (an empty Enter chooses nothing)
    ui.tap(refund.ids.refund_button)
    ui.tap(panel(root).option_buttons["defective"])
    supervisor_approves(root, ui)
    assert refund.busy  # the card terminal has the customer; the window keeps drawing
    ui.wait_until(lambda: root.current == "sale", "the refund to finish")
    assert [c.amount for c in sim.ledger if c.kind == "refund"] == [5500]
    assert journal(pos, "refund")[0]["tenders"] == {"card": 5500}


def test_a_member_card_scanned_on_the_sale_screen_attaches_the_member(app, terminal):
    root, ui = app
    sign_in(root, ui)
    ui.scan("MBR0001")
    assert terminal.pos.customer is not None and terminal.pos.customer.name == "Dewi Lestari"
    ui.scan("TEH-BTL")  # the member price follows
    assert terminal.pos.cart.lines[0].amount == 5000
    ui.scan("4006381333931")  # an unknown code is still refused, and adds nothing
    assert "4006381333931" in root.get_screen("sale").message


def test_a_sale_of_another_day_found_by_its_date(app, terminal, clock):
    root, ui = app
    sign_in(root, ui)
    ui.scan(SUGAR)
    pay_exact_cash(root, ui)
    label = root.last_outcome.committed.label
    clock.advance(3 * 24 * 3600)  # three days later the customer comes back
    ui.key("f7")
    refund = root.get_screen("refund")
    ui.tap(refund.ids.find_button)
    ui.tap(panel(root).option_buttons["date"])
    ui.type("31.2")  # not a date: said so, nothing lost
    ui.key("enter")
    assert "not a date" in panel(root).note.text
    panel(root).value = ""
    ui.type("23.11.2026")
    ui.key("enter")
    ui.frames(2)
    ui.tap(panel(root).option_buttons[label])
    assert refund.sale is not None and refund.sale.label == label


def test_a_production_terminal_on_a_key_file_warns_at_sign_in(window, terminal, settings, shots):
    """The keys wrapped by a file on the card protect nothing: the sign-in screen says so
    on a production terminal (make run's development one does not)."""
    import dataclasses  # noqa: PLC0415

    from terminal.ui.app import PosRoot  # noqa: PLC0415
    from terminal.ui.driver import UiDriver  # noqa: PLC0415

    window.size = (800, 480)
    for environment, warned in (("development", False), ("production", True)):
        terminal.pos.settings = dataclasses.replace(settings, environment=environment)
        root = PosRoot(terminal.pos, terminal.pos.settings)
        root.attach()
        window.add_widget(root)
        ui = UiDriver()
        ui.frames(3)
        label = root.get_screen("signin").ids.security_warning
        try:
            assert ("copied card opens every record" in label.text) is warned
            assert (label.height > 0) is warned
            if warned:
                ui.screenshot(shots / "signin-file-protector-warning.png")
        finally:
            root.detach()
            window.remove_widget(root)
            ui.frames(1)


def test_damage_found_while_running_stops_the_screen(app, terminal, shots):
    root, ui = app
    sign_in(root, ui)
    ui.scan(TEA)
    terminal.pos.stop_selling("pos.db is damaged (page 7). Restore the last backup.")
    ui.wait_until(lambda: root.current == "stopped", "the stopped screen")
    ui.screenshot(shots / "stopped-while-running.png")
    ui.key("f12")  # pay: nothing happens any more
    assert root.current == "stopped" and root.panels == []
    with pytest.raises(Exception, match="database is damaged"):
        terminal.pos.pay_cash(10000)
