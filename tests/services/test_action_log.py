"""Every cashier action leaves one log line for technicians, with the same fields each
time (total = the goods, paid = what the tenders took) and nothing secret in it."""

from __future__ import annotations

import logging
import re
from decimal import Decimal as D

import pytest

from terminal.core.approval import CLOSE_DAY, CUSTOMERS, DISCOUNTS, PAID_ORDERS, UNPAID_ORDERS
from terminal.core.errors import UnknownCode
from terminal.core.pricing import AMOUNT, Discount
from terminal.services.demo import weighed_barcode

APPLES = weighed_barcode("22", "10001", 1234)  # 51,828: paid 51,800 in cash
TEH, GULA = "8991002101111", "GULA-1KG"


def actions(caplog) -> list[dict[str, str]]:
    found = []
    for record in caplog.records:
        if record.name != "terminal.actions":
            continue
        _words, fields = record.getMessage().split(" | ", 1)
        found.append(dict(re.findall(r'(\w+)=("[^"]*"|\S+)', fields)))
    return found


def test_every_action_is_one_line_with_consistent_fields(card_shop, caplog, clock):
    caplog.set_level(logging.INFO)
    pos = card_shop.pos
    supervisor = lambda category: pos.approvals.approve(category, pos.cashier, "2580", "2")  # noqa: E731
    pos.scan(APPLES)
    with pytest.raises(UnknownCode):  # refused: its length is logged, never what was typed
        pos.scan("0000")
    pos.scan(TEH)
    pos.void_line(1, "mistake")
    pos.discount(Discount(AMOUNT, D(500), "loyal"), approval=supervisor(DISCOUNTS))
    cash_sale = pos.pay_cash(100000).committed
    pos.scan(GULA)
    clock.advance(60)
    pos.cancel_sale("mistake", supervisor(UNPAID_ORDERS))
    pos.scan(TEH)
    card_sale = pos.pay_card().committed
    sale = pos.refunds.find(card_sale.return_code)
    pos.refunds.refund(sale, [(1, D(1), True)], "defective", supervisor(PAID_ORDERS))
    pos.refunds.reprint(pos.refunds.find(cash_sale.label).id)
    customer = pos.customers.add("Rina Wati", "0813 1111 2222", approval=supervisor(CUSTOMERS))
    pos.sign_out()

    lines = actions(caplog)
    kinds = [line["action"] for line in lines]
    assert kinds == [
        "line_add",
        "scan_refused",
        "line_add",
        "line_void",
        "discount",
        "sale",
        "line_add",
        "order_cancel",
        "line_add",
        "card_payment",
        "sale",
        "refund",
        "reprint",
        "customer_change",
        "sign_out",
    ]
    assert all(line["cashier"] == "1" for line in lines)
    cash, card = (line for line in lines if line["action"] == "sale")
    # total is the goods, paid what the tenders took: never one for the other
    assert (cash["total"], cash["paid"], cash["rounding"]) == ("51328", "51300", "-28")
    assert cash["label"] == cash_sale.label and cash["tenders"] == "cash:51300"
    assert (card["total"], card["paid"], card["tenders"]) == ("5500", "5500", "card:5500")
    (refund,) = (line for line in lines if line["action"] == "refund")
    assert (refund["amount"], refund["tenders"]) == ("5500", "card:5500")
    assert refund["approved_by"] == "2"
    (cancel,) = (line for line in lines if line["action"] == "order_cancel")
    assert cancel["reason"] == "mistake" and cancel["approved_by"] == "2"
    (change,) = (line for line in lines if line["action"] == "customer_change")
    assert change["customer"] == customer.id
    text = caplog.text
    for secret in ("1357", "2580", "Rina", "0813", "1111 2222", "0000"):
        assert not re.search(rf"(?<![0-9A-Za-z]){secret}(?![0-9A-Za-z])", text), secret


def test_drawer_and_shift_actions_are_logged_each_once(card_shop, caplog):
    caplog.set_level(logging.INFO)
    pos = card_shop.pos
    shift = pos.shifts.current.id
    pos.shifts.cash_move("cash_in", 50000, pos.shifts.cash_reasons("cash_in")[0])
    pos.shifts.cash_move("cash_out", 20000, pos.shifts.cash_reasons("cash_out")[0])
    pos.shifts.no_sale(
        "change", pos.approvals.approve(UNPAID_ORDERS, pos.cashier, "2580", supervisor="2")
    )
    pos.shifts.x_report()
    counted = pos.shifts.report().expected_cash - 100  # a note short
    pos.shifts.close({100: counted // 100})
    pos.shifts.z_report(pos.approvals.approve(CLOSE_DAY, pos.cashier, "2580", supervisor="2"))

    lines = actions(caplog)
    assert [line["action"] for line in lines] == [
        "cash_in",
        "cash_out",
        "no_sale",
        "x_report",
        "shift_close",
        "z_report",
    ]
    cash_in, cash_out, no_sale, x, close, z = lines
    assert (cash_in["amount"], cash_out["amount"]) == ("50000", "20000")
    assert (cash_in["reason"], cash_out["reason"]) == ("float_top_up", "bank_deposit")
    assert (no_sale["reason"], no_sale["approved_by"]) == ("change", "2")
    assert all(line["shift"] == str(shift) for line in (cash_in, cash_out, no_sale, x, close))
    assert (close["variance"], close["counted"]) == ("-100", str(counted))
    assert z["z"] == "1" and z["approved_by"] == "2"
    assert f"shift {shift} closed, variance -100" in caplog.text
