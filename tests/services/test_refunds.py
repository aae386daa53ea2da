"""What the refund screen shows, through the refund service on a real terminal (the
shipped configuration: cash rounds to Rp 100): what was paid and is still refundable,
and the money a refund gives back, before it is made."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from terminal.core.approval import PAID_ORDERS
from terminal.services.demo import weighed_barcode

APPLES = weighed_barcode("22", "10001", 1234)  # 1,234 kg of Apel Fuji at 42,000/kg: 51,828
TEA = "8991002101111"  # Teh Botol, 5,500


@pytest.fixture
def pos(terminal):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    return pos


def approval(pos):
    return pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")


def test_a_cash_rounded_sale_never_refunds_more_than_was_paid(pos):
    pos.scan(APPLES)
    pos.scan(TEA)  # 57,328: paid in cash as 57,300
    sold = pos.pay_cash(pos.cash_payable()).committed
    sale = pos.refunds.find(sold.return_code)
    assert sale.refundable == 57300  # not the lines' 57,328
    assert sale.balance.paid == 57300
    assert pos.refunds.money_back(sale, [(1, D("1.234"), True), (2, D(1), True)]) == (
        {"cash": 57300},
        0,
    )
    out = pos.refunds.refund(sale, [(1, D("1.234"), True)], "defective", approval(pos))
    assert out.refund.amount == 51828 and out.refund.tenders == {"cash": 51800}
    sale = pos.refunds.find(sold.return_code)
    assert (sale.balance.refunded, sale.refundable) == (51800, 5500)
    out = pos.refunds.refund(sale, [(2, D(1), True)], "defective", approval(pos))
    assert out.refund.tenders == {"cash": 5500}  # 57,300 back in all: what was paid
    assert pos.refunds.find(sold.return_code).refundable == 0


def test_the_money_shown_before_a_refund_is_what_it_gives_back(pos):
    pos.scan(APPLES)
    pos.scan(TEA)
    sold = pos.pay_cash(60000).committed
    sale = pos.refunds.find(sold.return_code)
    wanted = [(1, D("0.5"), False)]  # half a kilo of the apples, damaged
    shown, _points = pos.refunds.money_back(sale, wanted)
    assert shown == {"cash": 21000}
    out = pos.refunds.refund(sale, wanted, "defective", approval(pos))
    assert out.refund.tenders == shown


def test_a_return_without_a_receipt_shows_its_cash_rounded(pos):
    product = pos.catalogue.lookup(APPLES)
    items = [(product.product, product.quantity, True)]
    assert pos.refunds.money_back_without_receipt(items) == 51800  # 51,828 in 100s


def test_a_sale_is_found_by_the_cash_the_customer_paid_or_by_its_total(pos):
    pos.scan(APPLES)
    pos.scan(TEA)  # 57,328: paid in cash as 57,300, the figure the customer remembers
    sold = pos.pay_cash(pos.cash_payable()).committed
    now = pos.clock()
    for amount in (57300, 57328):
        assert [s.label for s in pos.refunds.find_by_day(now, amount)] == [sold.label]
    assert pos.refunds.find_by_day(now, 57400) == []
