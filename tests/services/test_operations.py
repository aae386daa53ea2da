"""Issue 5 through the POS service, on a real terminal: encrypted database, journal,
the ZVT simulator on a pseudo-terminal, the simulated printer and drawer."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal as D

import pytest

from hal.drawer import configure_drawer
from hal.printer.preview import interpret
from terminal.core.approval import (
    BY_PASSKEY,
    CLOSE_DAY,
    CUSTOMERS,
    DISCOUNTS,
    PAID_ORDERS,
    UNPAID_ORDERS,
    ApprovalNeeded,
)
from terminal.core.errors import PosError
from terminal.core.pricing import AMOUNT, PERCENT, Discount
from terminal.core.refunds import RefundError
from terminal.services.approvals import CodeRefused
from terminal.services.bootstrap import build_terminal
from terminal.services.demo import DEMO_PASSKEYS
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import read_entries
from tests.conftest import with_open_shift

TEH, GULA, INDOMIE, KOPI = "8991002101111", "GULA-1KG", "INDOMIE-G", "KOPI-KPL"


def journal(pos, kind):
    return [e["payload"] for e in read_entries(pos.db, types=(kind,))]


def receipt_text(pos):
    return "\n".join(interpret(pos.printer.jobs[-1][1]).lines)


@pytest.fixture
def fast_card(settings):
    """The card simulator answering at once (make run's waits 2 s)."""
    hardware = settings.hardware.replace("card", approve_after=0)
    return dataclasses.replace(settings, hardware=hardware)


@pytest.fixture
def shop(fast_card, clock):
    """A terminal with the shift open and cashier 1 signed in; card simulator started."""
    built = with_open_shift(build_terminal(fast_card, clock=clock, pin_params=FAST_TEST_PARAMS))
    built.pos.sign_in("1", "1357")
    built.card.recovery_pause = 0.1
    built.card.link.client  # noqa: B018 - start the simulator now
    built.card.link.simulator.script.drop_seconds = 0.2
    return built


@pytest.fixture
def passkey_shop(fast_card, clock):
    settings = dataclasses.replace(
        fast_card, approval=dataclasses.replace(fast_card.approval, mode="passkey")
    )
    built = with_open_shift(build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS))
    built.pos.sign_in("1", "1357")
    return built


# -- voids and the 30-second window ----------------------------------------------------------
@pytest.mark.parametrize(("seconds", "needs"), [(29.9, False), (30.0, False), (30.1, True)])
def test_late_void_needs_a_supervisor(shop, clock, seconds, needs):
    pos = shop.pos
    pos.scan(TEH)
    clock.advance(seconds)
    if not needs:
        pos.void_line(0, "mistake")
        (void,) = journal(pos, "line_void")
        assert void["late"] is False and "approved_by" not in void
        return
    with pytest.raises(ApprovalNeeded) as asked:
        pos.void_line(0, "mistake")
    assert asked.value.category == UNPAID_ORDERS and len(pos.cart.lines) == 1
    with pytest.raises(CodeRefused):  # the cashier's own PIN is not a supervisor's
        pos.approvals.approve(UNPAID_ORDERS, pos.cashier, "1357", supervisor="1")
    approval = pos.approvals.approve(UNPAID_ORDERS, pos.cashier, "2580", supervisor="2")
    pos.void_line(0, "changed_mind", approval)
    assert pos.cart.is_empty
    (void,) = journal(pos, "line_void")
    assert void["late"] and (void["asked_by"], void["approved_by"]) == (1, 2)
    assert void["reason"] == "changed_mind" and void["amount"] == 5500


def test_passkey_mode_approves_with_the_category_code_and_counts_wrong_codes(passkey_shop, clock):
    pos = passkey_shop.pos
    pos.scan(TEH)
    clock.advance(31)
    for _ in range(5):
        with pytest.raises(CodeRefused, match="Wrong passkey"):
            pos.approvals.approve(UNPAID_ORDERS, pos.cashier, "999111")
    with pytest.raises(CodeRefused, match="Too many"):  # locked, even with the right code
        pos.approvals.approve(UNPAID_ORDERS, pos.cashier, DEMO_PASSKEYS[UNPAID_ORDERS])
    # another category's code is not this one's, and its lockout is its own
    with pytest.raises(CodeRefused):
        pos.approvals.approve(PAID_ORDERS, pos.cashier, DEMO_PASSKEYS[UNPAID_ORDERS])
    clock.advance(31)
    approval = pos.approvals.approve(UNPAID_ORDERS, pos.cashier, DEMO_PASSKEYS[UNPAID_ORDERS])
    assert approval.approved_by == BY_PASSKEY
    pos.void_line(0, "mistake", approval)
    assert journal(pos, "line_void")[0]["approved_by"] == "category passkey"
    assert journal(pos, "lockout")[0]["subject"] == "passkey:unpaid_orders"


def test_a_category_switched_off_needs_no_approval_and_only_a_supervisor_switches(shop, clock):
    pos = shop.pos
    with pytest.raises(PosError, match="Only a supervisor"):
        pos.approvals.configure(pos.cashier, UNPAID_ORDERS, enabled=False, code=None, at=clock())
    pos.sign_out()
    supervisor = pos.sign_in("2", "2580")
    pos.approvals.configure(supervisor, UNPAID_ORDERS, enabled=False, code=None, at=clock())
    assert journal(pos, "passkey_change") == [
        {"by": 2, "category": "unpaid_orders", "code_changed": False, "enabled": False}
    ]
    pos.scan(TEH)
    clock.advance(120)
    pos.void_line(0, "mistake")  # late, but the owner switched the category off
    assert journal(pos, "line_void")[0]["late"] is True


def test_cancel_order_asks_approval_journals_and_charges_nothing(shop):
    pos = shop.pos
    pos.scan(TEH)
    pos.scan(GULA)
    with pytest.raises(ApprovalNeeded):
        pos.cancel_sale("changed_mind")
    approval = pos.approvals.approve(UNPAID_ORDERS, pos.cashier, "2580", supervisor="2")
    assert pos.cancel_sale("changed_mind", approval) == 2
    assert pos.cart.is_empty
    (cancel,) = journal(pos, "order_cancel")
    assert cancel["total"] == 23000 and cancel["skus"] == ["TEH-BTL", "GULA-1KG"]
    assert (
        not journal(pos, "sale")
        and pos.db.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0] == 0
    )
    assert pos.shifts.report().cancellations == 1


# -- discounts and promotions ------------------------------------------------------------------
def test_discounts_within_the_limit_are_free_beyond_it_approved_and_journaled(shop):
    pos = shop.pos
    pos.scan(GULA)  # 17,500
    assert pos.discount(Discount(PERCENT, D(5), "damaged"), index=0) == 875  # the cashier's 5%
    with pytest.raises(ApprovalNeeded) as asked:
        pos.discount(Discount(AMOUNT, D(2000), "damaged"), index=0)  # 11.4%
    assert asked.value.category == DISCOUNTS
    approval = pos.approvals.approve(DISCOUNTS, pos.cashier, "2580", supervisor="2")
    pos.discount(Discount(AMOUNT, D(2000), "damaged"), index=0, approval=approval)
    (override,) = journal(pos, "discount_override")
    assert (override["amount"], override["approved_by"], override["scope"]) == (2000, 2, "line")
    outcome = pos.pay_cash(20000)
    assert outcome.committed.sale.total == 15500
    text = receipt_text(pos)
    assert "Diskon" in text and "-Rp 2.000" in text
    assert journal(pos, "sale")[0]["discount"] == 2000


def test_promotion_and_member_price_on_the_receipt(shop):
    pos = shop.pos
    (member,) = pos.customers.find("MBR0001")
    pos.customers.attach(member)
    pos.scan("TEH-BTL")  # member price 5,000 instead of 5,500
    pos.scan(INDOMIE)  # noodles 10% off: 3,150
    assert [line.amount for line in pos.cart.lines] == [5000, 3150]
    outcome = pos.pay_cash(10000)
    assert outcome.committed.sale.points_earned == 0  # 8,150: below one point (10,000)
    text = receipt_text(pos)
    assert "Harga member" in text and "Promo mi instan 10%" in text
    assert "Anda hemat Rp 850" in text


# -- card payments and split tender ------------------------------------------------------------
def test_card_declined_then_approved(shop):
    pos = shop.pos
    sim = shop.card.link.simulator
    pos.scan(GULA)
    sim.script.outcome = "decline"
    seen = []
    with pytest.raises(PosError, match="Card declined"):
        pos.pay_card(on_status=lambda code, text: seen.append(text))
    assert not pos.cart.is_empty and pos.tenders == ()
    sim.script.outcome = "approve"
    sim.script.progress = [(0x0A, 0.01)]
    outcome = pos.pay_card(on_status=lambda code, text: seen.append(text))
    assert "insert card" in seen
    assert [c.amount for c in sim.charged()] == [17500]
    sale = outcome.committed.sale
    assert [(t.kind, t.amount) for t in sale.payment.tenders] == [("card", 17500)]
    text = receipt_text(pos)
    assert "SIMULATED CARD TERMINAL" in text and "Kartu ****0119" in text
    # the card's data is sealed; the payment record is settled
    row = pos.db.execute_sql(
        "SELECT state, settled FROM card_payment WHERE state='paid'"
    ).fetchall()
    assert row == [("paid", 1)]


def test_split_tender_part_card_part_cash(shop):
    pos = shop.pos
    pos.scan(GULA)  # 17,500
    pos.scan(TEH)  # 5,500: 23,000
    assert pos.pay_card(10000) is None  # approved, 13,000 left
    assert pos.left_to_pay == 13000 and pos.cash_payable() == 13000
    with pytest.raises(PosError):
        pos.void_line(0, "mistake")  # not after a card payment is in
    outcome = pos.pay_cash(20000)
    payment = outcome.committed.sale.payment
    assert [(t.kind, t.amount) for t in payment.tenders] == [("card", 10000), ("cash", 13000)]
    assert payment.change == 7000
    assert journal(pos, "sale")[0]["tenders"][0] == {
        "kind": "card",
        "amount": 10000,
        "receipt_number": outcome.committed.sale.payment.tenders[0].card.receipt_number,
    }


# -- refunds -----------------------------------------------------------------------------------
def sell(pos, *codes, quantity=None):
    for code in codes:
        pos.scan(code)
    if quantity:
        pos.set_quantity(0, quantity)
    return pos.pay_cash(pos.cash_payable()).committed


def test_three_partial_refunds_by_return_code_never_more_than_sold(shop):
    pos = shop.pos
    sold = sell(pos, TEH, quantity="3")  # 16,500
    approval = lambda: pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")  # noqa: E731
    sale = pos.refunds.find(sold.return_code)
    assert sale.refundable == 16500
    with pytest.raises(ApprovalNeeded):
        pos.refunds.refund(sale, [(1, D(1), True)], "defective")
    amounts = []
    for _ in range(3):
        out = pos.refunds.refund(sale, [(1, D(1), True)], "defective", approval())
        amounts.append(out.refund.amount)
    assert amounts == [5500, 5500, 5500]
    assert pos.refunds.find(sold.return_code).refundable == 0
    with pytest.raises(RefundError, match="Only 0"):
        pos.refunds.refund(sale, [(1, D(1), True)], "defective", approval())
    report = pos.shifts.report()
    assert (report.refunds, report.refunds_total) == (3, 16500)
    assert "PENGEMBALIAN" in receipt_text(pos)


def test_refund_of_a_discounted_line_is_proportional(shop):
    pos = shop.pos
    pos.scan(TEH)
    pos.set_quantity(0, "2")  # 11,000
    pos.scan(GULA)  # 17,500
    pos.discount(Discount(PERCENT, D(5), "loyal"))  # 1,425 off the sale
    sold = pos.pay_cash(30000).committed
    teh = sold.sale.lines[0]
    assert teh.amount == 10450  # 11,000 less its 550 share
    approval = pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")
    out = pos.refunds.refund(pos.refunds.find(sold.label), [(1, D(1), True)], "defective", approval)
    assert out.refund.amount == 5225  # half of what was paid for the line
    assert out.refund.tenders == {"cash": 5200}  # cash given in 100s


def test_card_refund_whose_link_drops_is_never_refunded_twice(shop, clock):
    pos = shop.pos
    sim = shop.card.link.simulator
    pos.scan(GULA)
    pos.scan(TEH)
    sold = pos.pay_card().committed  # 23,000 by card
    approval = lambda: pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")  # noqa: E731
    sale = pos.refunds.find(sold.return_code)
    # the line drops after the card terminal refunded: the desk asks, finds it, records it
    sim.script.fault = "drop-after-result"
    out = pos.refunds.refund(sale, [(2, D(1), True)], "defective", approval())
    assert out.refund.tenders == {"card": 5500}
    refunds = [c for c in sim.ledger if c.kind == "refund"]
    assert [c.amount for c in refunds] == [5500]
    # the line drops before the terminal got the command: not refunded, nothing recorded
    sim.script.fault = "drop-after-command"
    with pytest.raises(PosError, match="refused"):
        pos.refunds.refund(sale, [(1, D(1), True)], "defective", approval())
    assert pos.refunds.find(sold.return_code).refundable == 17500
    out = pos.refunds.refund(sale, [(1, D(1), True)], "defective", approval())
    assert [c.amount for c in sim.ledger if c.kind == "refund"] == [5500, 17500]
    assert pos.refunds.find(sold.return_code).refundable == 0


def test_return_without_receipt_needs_approval_even_when_the_category_is_off(shop, clock):
    pos = shop.pos
    product = pos.catalogue.lookup(GULA).product
    with pytest.raises(ApprovalNeeded):
        pos.refunds.refund_without_receipt([(product, D(1), False)], "defective")
    approval = pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")
    out = pos.refunds.refund_without_receipt([(product, D(1), False)], "defective", approval)
    assert out.refund.tenders == {"cash": 17500}
    (entry,) = journal(pos, "refund")
    assert entry["with_receipt"] is False and entry["approved_by"] == 2


def test_reprint_is_marked_copy_with_a_count(shop):
    pos = shop.pos
    sold = sell(pos, TEH)
    sale_id = pos.refunds.find(sold.label).id
    assert pos.refunds.reprint(sale_id) == (1, None)
    assert "SALINAN 1" in receipt_text(pos)
    assert pos.refunds.reprint(sale_id)[0] == 2
    assert [p["copy"] for p in journal(pos, "reprint")] == [1, 2]
    assert "Teh Botol Sosro 450 ml" in receipt_text(pos)


# -- customers and loyalty ---------------------------------------------------------------------
def test_customers_need_their_approval_and_are_sealed(shop):
    pos = shop.pos
    with pytest.raises(ApprovalNeeded) as asked:
        pos.customers.add("Rina Wati", "0813 1111 2222")
    assert asked.value.category == CUSTOMERS
    approval = lambda: pos.approvals.approve(CUSTOMERS, pos.cashier, "2580", supervisor="2")  # noqa: E731
    rina = pos.customers.add(
        "Rina Wati", "0813 1111 2222", member_code="mbr0002", approval=approval()
    )
    assert [c.id for c in pos.customers.find("081311112222")] == [rina.id]
    assert [c.id for c in pos.customers.find("rina")] == [rina.id]
    assert pos.customers.find("MBR0002")[0].name == "Rina Wati"
    pos.customers.edit(rina.id, "Rina Wati S.", "0813 1111 2222", "Jl. Mawar 1", approval())
    pos.customers.delete(rina.id, approval())
    assert pos.customers.find("rina") == []
    assert [p["action"] for p in journal(pos, "customer_change")] == ["add", "edit", "delete"]


def test_points_earned_redeemed_and_taken_back_on_refund(shop):
    pos = shop.pos
    (member,) = pos.customers.find("MBR0001")
    pos.customers.attach(member)
    pos.scan("BERAS-5KG")  # 78,000
    pos.scan("BERAS-5KG")  # 156,000: 15 points
    sold = pos.pay_cash(200000).committed
    assert sold.sale.points_earned == 15
    assert "Poin" in receipt_text(pos)
    pos.customers.attach(pos.customers.find("MBR0001")[0])
    assert pos.customer_points == 15
    pos.scan(GULA)  # 17,500
    assert pos.redeem_points(10) == 1000
    with pytest.raises(PosError):
        pos.redeem_points(6)  # 5 left
    outcome = pos.pay_cash(16500)
    assert [(t.kind, t.amount) for t in outcome.committed.sale.payment.tenders] == [
        ("points", 1000),
        ("cash", 16500),
    ]
    assert outcome.committed.sale.points_earned == 1  # on the 16,500 paid in money
    assert pos.customers.find("MBR0001")[0].points == 6  # 15 - 10 + 1
    approval = pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")
    pos.refunds.refund(pos.refunds.find(sold.label), [(1, D(1), True)], "defective", approval)
    # half the rice sale refunded: 7.5 of its 15 points -> 8 back. The balance may go
    # below zero: points already spent are owed, not forgiven
    member = pos.customers.find("MBR0001")[0]
    assert (member.points, member.lifetime_points) == (-2, 16 - 8)


# -- shifts, reports, fraud signals -------------------------------------------------------------
def test_shift_closed_with_a_variance_and_a_signed_z_report(closed_terminal, clock):
    pos = closed_terminal.pos
    pos.sign_in("1", "1357")
    with pytest.raises(PosError, match="Open the shift"):  # nothing is sold outside a shift
        pos.scan(TEH)
    assert pos.cart.is_empty
    pos.shifts.open(200000)
    sell(pos, GULA)  # 17,500 cash
    pos.shifts.cash_move("cash_out", 50000, "bank_deposit")
    pos.shifts.cash_move("cash_in", 10000, "float_top_up")
    with pytest.raises(ApprovalNeeded):
        pos.shifts.no_sale("change")
    pos.shifts.no_sale(
        "change", pos.approvals.approve(UNPAID_ORDERS, pos.cashier, "2580", supervisor="2")
    )
    x = pos.shifts.x_report()
    assert x.report.expected_cash == 200000 + 17500 - 50000 + 10000
    assert "LAPORAN X" in receipt_text(pos)
    with pytest.raises(PosError):
        pos.shifts.z_report()  # the shift is still open
    # blind count: 172,500 in the drawer against 177,500 expected
    counts = {100000: 0, 50000: 3, 20000: 1, 2000: 1, 500: 1}
    closed = pos.shifts.close(counts)
    assert (closed.expected, closed.counted, closed.variance) == (177500, 172500, -5000)
    assert "Selisih" in receipt_text(pos) and "-Rp 5.000" in receipt_text(pos)
    (close,) = journal(pos, "shift_close")
    assert close["variance"] == closed.variance and close["counts"]["50000"] == 3
    with pytest.raises(ApprovalNeeded):  # closing the day is a supervisor's
        pos.shifts.z_report()
    z = pos.shifts.z_report(pos.approvals.approve(CLOSE_DAY, pos.cashier, "2580", supervisor="2"))
    assert z.number == 1 and z.report.sales == 1
    (entry,) = journal(pos, "z_report")
    assert entry["z_number"] == 1 and entry["last_seq"] == z.journal_seq - 1
    assert (entry["asked_by"], entry["approved_by"]) == (1, 2)
    assert entry["net_sales"] == 17500 and pos.journal.verify().ok
    with pytest.raises(PosError):
        pos.shifts.close(counts)  # nothing open


def test_fraud_signal_when_a_cashier_goes_beyond_a_threshold(shop, clock):
    pos = shop.pos
    supervisor = lambda: pos.approvals.approve(UNPAID_ORDERS, pos.cashier, "2580", supervisor="2")  # noqa: E731
    for _ in range(6):  # threshold 3 cancellations: the 4th raises it, once
        pos.scan(TEH)
        pos.cancel_sale("changed_mind", supervisor())
    pos.scan(TEH)
    pos.void_line(0, "mistake")  # another kind of event does not repeat it either
    (signal,) = journal(pos, "fraud_signal")
    assert signal == {
        "cashier": 1,
        "count": 4,
        "shift": pos.shift.id,
        "signal": "cancellations",
        "threshold": 3,
    }
    report = pos.shifts.report()
    assert report.fraud == [signal]


def test_stock_leaves_with_sales_and_comes_back_with_undamaged_refunds(shop):
    pos = shop.pos
    pos.db.execute_sql("UPDATE product SET stock_milli = 10000 WHERE sku = 'TEH-BTL'")

    def stock():
        return pos.db.execute_sql("SELECT stock_milli FROM product WHERE sku='TEH-BTL'").fetchone()[
            0
        ]

    pos.scan(TEH)
    pos.cancel_sale(
        "mistake", pos.approvals.approve(UNPAID_ORDERS, pos.cashier, "2580", supervisor="2")
    )
    assert stock() == 10000  # a cancelled order never took stock
    sold = sell(pos, TEH, quantity="3")
    assert stock() == 7000
    approval = lambda: pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")  # noqa: E731
    sale = pos.refunds.find(sold.label)
    pos.refunds.refund(sale, [(1, D(1), True)], "changed_mind", approval())
    assert stock() == 8000
    pos.refunds.refund(sale, [(1, D(1), False)], "defective", approval())  # damaged
    assert stock() == 8000


def test_a_card_payment_without_a_sale_is_shown_and_reversed_by_a_supervisor(shop):
    pos = shop.pos
    sim = shop.card.link.simulator
    # the terminal died between the card's approval and the sale's COMMIT
    assert shop.card.pay("T01-crash", 17500).state == "paid"
    (waiting,) = pos.unsettled_card_payments()
    assert (waiting.payment_id, waiting.amount, waiting.state) == ("T01-crash", 17500, "paid")
    with pytest.raises(ApprovalNeeded):
        pos.resolve_unsettled("T01-crash")
    approval = pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")
    assert pos.resolve_unsettled("T01-crash", approval) == "reversed"
    assert sim.charged(17500) == []  # the money went back
    assert pos.unsettled_card_payments() == []
    (entry,) = journal(pos, "card_unsettled")
    assert (entry["done"], entry["approved_by"]) == ("reversed", 2)


def test_find_a_sale_by_day_amount_or_the_cards_last_digits(shop, clock):
    pos = shop.pos
    cash_sale = sell(pos, GULA)
    pos.scan(TEH)
    card_sale = pos.pay_card().committed
    clock.advance(24 * 3600)
    sell(pos, GULA)  # the next day
    day = clock() - timedelta(days=1)
    assert [s.label for s in pos.refunds.find_by_day(day)] == [card_sale.label, cash_sale.label]
    assert [s.label for s in pos.refunds.find_by_day(day, amount=17500)] == [cash_sale.label]
    assert [s.label for s in pos.refunds.find_by_day(day, card_last_digits="0119")] == [
        card_sale.label
    ]
    assert pos.refunds.find_by_day(day, card_last_digits="1234") == []
    with pytest.raises(RefundError, match="No sale found"):
        pos.refunds.find("RT0199999999X")


def test_points_that_paid_come_back_as_points_and_rounding_never_blocks_a_refund(shop):
    pos = shop.pos
    pos.db.execute_sql("UPDATE customer SET points = 50 WHERE member_code = 'MBR0001'")
    pos.customers.attach(pos.customers.find("MBR0001")[0])
    pos.scan(GULA)  # 17,500
    pos.scan("BERAS-5KG")  # 78,000: 95,500
    pos.redeem_points(50)  # 5,000
    sold = pos.pay_cash(90500).committed
    assert pos.customers.find("MBR0001")[0].points == 9  # 0 left + 9 earned on 90,500
    approval = lambda: pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")  # noqa: E731
    sale = pos.refunds.find(sold.label)
    first = pos.refunds.refund(sale, [(1, D(1), True)], "defective", approval())
    assert first.refund.tenders == {"points": 900, "cash": 16600}
    rest = pos.refunds.refund(sale, [(2, D(1), True)], "defective", approval())
    assert rest.refund.tenders == {"points": 4100, "cash": 73900}  # all 50 points back
    # 9 earned taken back, 50 spent given back
    assert pos.customers.find("MBR0001")[0].points == 9 - 9 + 50


def test_a_cash_sale_rounded_down_is_refunded_whole(shop):
    pos = shop.pos
    pos.scan("INDOMIE-S")  # 3,300
    pos.set_quantity(0, "2")  # 6,600
    pos.scan("GARAM")  # 3,000: 9,600; with noodles 10% off (660): 8,940 -> 8,900 cash
    sold = sell(pos)
    assert sold.sale.payment.payable == 8900
    approval = lambda: pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")  # noqa: E731
    sale = pos.refunds.find(sold.label)
    one = pos.refunds.refund(sale, [(1, D(1), True)], "defective", approval())
    assert one.refund.amount == 2970 and one.refund.tenders == {"cash": 3000}
    rest = pos.refunds.refund(sale, [(1, D(1), True), (2, D(1), True)], "defective", approval())
    assert rest.refund.tenders == {"cash": 5900}  # 8,900 in all: what was paid
    assert "Pembulatan" in receipt_text(pos)


def test_lowering_a_quantity_late_is_a_void_that_needs_approval(shop, clock):
    pos = shop.pos
    pos.scan(TEH)
    pos.set_quantity(0, "10")
    pos.set_quantity(0, "8")  # within the window: free, but journaled
    clock.advance(120)
    pos.set_quantity(0, "9")  # raising is never a void
    with pytest.raises(ApprovalNeeded):
        pos.set_quantity(0, "1")
    assert pos.cart.lines[0].quantity == 9
    pos.set_quantity(
        0, "1", pos.approvals.approve(UNPAID_ORDERS, pos.cashier, "2580", supervisor="2")
    )
    voids = journal(pos, "line_void")
    assert [(v["quantity"], v["lowered_to"], v["late"]) for v in voids] == [
        ("2", "8", False),
        ("8", "1", True),
    ]
    assert voids[1]["amount"] == 44000 and voids[1]["approved_by"] == 2


def test_an_amount_discount_stays_its_amount_within_the_cashiers_limit(shop):
    pos = shop.pos
    pos.scan("BERAS-5KG")  # 78,000
    pos.scan(GULA)  # 17,500: 95,500
    pos.discount(Discount(AMOUNT, D(4700), "loyal"))  # 4.9%: within the cashier's 5%
    assert pos.cart.transaction_discount_amount == 4700
    pos.scan(GULA)  # more items: Rp 4.700 off stays Rp 4.700, it does not grow
    assert pos.cart.transaction_discount_amount == 4700
    pos.void_line(0, "mistake")  # 35,000 left: 4,700 would be 13%, beyond her 5%
    assert pos.cart.transaction_discount_amount == 1750  # at most her 5% of what is left
    with pytest.raises(PosError):  # more than the line: refused
        pos.discount(Discount(AMOUNT, D(20000), "loyal"), index=0)


def test_an_approved_amount_off_the_sale_is_kept_whatever_is_added(shop):
    """Rp 1.000 off on screen is Rp 1.000 off on the receipt (issue 12: it became 1.316)."""
    pos = shop.pos
    pos.scan(GULA)  # 17,500
    approval = pos.approvals.approve(DISCOUNTS, pos.cashier, "2580", supervisor="2")
    pos.discount(Discount(AMOUNT, D(10000), "loyal"), approval=approval)  # 57%: approved
    for _ in range(3):
        pos.scan("BERAS-5KG")
    assert pos.cart.transaction_discount_amount == 10000
    outcome = pos.pay_cash(300000)
    assert outcome.committed.sale.transaction_discount == 10000
    text = "\n".join(interpret(outcome.receipt_bytes).lines)
    assert "-Rp 10.000" in text and "1.316" not in text


def test_typed_amounts_with_too_many_decimals_are_refused():
    from terminal.core.money import currency  # noqa: PLC0415

    with pytest.raises(ArithmeticError):
        currency("IDR").parse("50,000")  # not Rp 50
    assert currency("IDR").parse("50.000") == 50000
    assert currency("CNY").parse("12.5") == 1250
    with pytest.raises(ArithmeticError):
        currency("CNY").parse("12.505")


def test_a_card_part_taken_back_is_reversed_and_the_order_stays_open(shop):
    pos = shop.pos
    sim = shop.card.link.simulator
    pos.scan(GULA)
    pos.scan(TEH)
    assert pos.pay_card(10000) is None
    assert [c.amount for c in sim.charged()] == [10000]
    with pytest.raises(ApprovalNeeded):
        pos.cancel_payment()
    approval = pos.approvals.approve(UNPAID_ORDERS, pos.cashier, "2580", supervisor="2")
    assert pos.cancel_payment(approval) == 1
    assert sim.charged() == [] and pos.tenders == () and len(pos.cart.lines) == 2
    assert pos.unsettled_card_payments() == []
    (entry,) = journal(pos, "payment_cancel")
    assert entry["undone"] == [{"kind": "card", "amount": 10000}]
    assert pos.pay_cash(30000).committed.sale.payment.paid_by("card") == 0


@pytest.mark.parametrize(
    ("fault", "refunded"), [("drop-after-result", True), ("drop-after-command", False)]
)
def test_a_card_refund_of_unknown_outcome_is_recorded_once_the_supervisor_knows(
    shop, fault, refunded
):
    pos = shop.pos
    sim = shop.card.link.simulator
    pos.scan(GULA)
    pos.scan(TEH)
    sold = pos.pay_card().committed
    approval = lambda: pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")  # noqa: E731
    sale = pos.refunds.find(sold.label)
    shop.card.recovery_tries = 0  # the terminal cannot be asked: the outcome stays unknown
    sim.script.fault = fault
    with pytest.raises(PosError, match="cannot say"):
        pos.refunds.refund(sale, [(2, D(1), True)], "defective", approval())
    (waiting,) = pos.unsettled_card_payments()
    payment_id = waiting.payment_id
    with pytest.raises(RefundError, match="not resolved"):  # no second refund meanwhile
        pos.refunds.refund(sale, [(2, D(1), True)], "defective", approval())
    with pytest.raises(PosError, match="go through"):
        pos.resolve_unsettled(payment_id, approval())
    shop.card.recovery_tries = 3
    done = pos.resolve_unsettled(payment_id, approval(), went_through=refunded)
    assert done == ("refund recorded" if refunded else "checked")
    assert pos.unsettled_card_payments() == []
    assert pos.refunds.find(sold.label).refundable == (17500 if refunded else 23000)
    assert [c.amount for c in sim.ledger if c.kind == "refund"] == ([5500] if refunded else [])
    if not refunded:  # now it can be refunded, once
        pos.refunds.refund(sale, [(2, D(1), True)], "defective", approval())
        assert [c.amount for c in sim.ledger if c.kind == "refund"] == [5500]


def test_a_drawer_left_open_too_long_shows_until_it_is_closed(settings, clock):
    hardware = dataclasses.replace(
        settings.hardware,
        drawer=configure_drawer(
            {"backend": "gpio", "pin": 17, "sensor_pin": 27, "pin_factory": "mock"}
        ),
    )
    shop = with_open_shift(
        build_terminal(
            dataclasses.replace(settings, hardware=hardware),
            clock=clock,
            pin_params=FAST_TEST_PARAMS,
        )
    )
    pos = shop.pos
    sensor = pos.drawer.sensor.pin  # the open switch, on gpiozero's mock pin factory
    pos.sign_in("1", "1357")
    sell(pos, GULA)
    sensor.drive_high()  # the drawer opens
    for _ in range(5):  # the monitor debounces (50 ms): polls 20 ms apart
        pos.poll_drawer()
        clock.advance(0.02)
    clock.advance(59)
    pos.poll_drawer()
    assert "drawer-open-too-long" not in pos.health()
    clock.advance(2)
    pos.poll_drawer()
    assert "drawer-open-too-long" in pos.health()
    sensor.drive_low()  # closed
    for _ in range(5):
        pos.poll_drawer()
        clock.advance(0.02)
    assert "drawer-open-too-long" not in pos.health()
    pos.drawer.close()  # (gpiozero's pulse thread, before garbage collection does it)


def test_a_refund_to_another_card_is_taken_back(shop):
    pos = shop.pos
    sim = shop.card.link.simulator
    pos.scan(GULA)
    pos.scan(TEH)
    sold = pos.pay_card().committed  # paid with the card ending 0119
    approval = lambda: pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")  # noqa: E731
    sale = pos.refunds.find(sold.label)
    sim.script.card = "522222EEEEEE4444"  # someone else's card is presented
    with pytest.raises(RefundError, match="Another card"):
        pos.refunds.refund(sale, [(2, D(1), True)], "defective", approval())
    refunds = [c for c in sim.ledger if c.kind == "refund"]
    assert [(c.amount, c.reversed) for c in refunds] == [(5500, True)]  # taken back
    assert pos.refunds.find(sold.label).refundable == 23000 and not journal(pos, "refund")
    assert pos.unsettled_card_payments() == []
    sim.script.card = "476173EEEEEE0119"  # the card that paid
    pos.refunds.refund(sale, [(2, D(1), True)], "defective", approval())
    assert [(c.amount, c.reversed) for c in sim.ledger if c.kind == "refund"] == [
        (5500, True),
        (5500, False),
    ]
