"""A copy is the original: a reprint prints the very same receipt with COPY n on top -
the card terminal's slip, the member's points, the tax lines in their order - and a card
refund's receipt carries the card terminal's slip too."""

from __future__ import annotations

from decimal import Decimal as D

from hal.printer.preview import interpret
from terminal.core.approval import PAID_ORDERS

NASI = "D01"  # Nasi Goreng (kitchen): PPN 11% and PB1 10%, two tax lines
TEH = "8991002101111"  # Teh Botol: PPN 11%


def printed(job) -> list[str]:
    return interpret(job[1]).lines


def test_a_reprint_is_the_original_marked_copy(card_shop):
    pos = card_shop.pos
    pos.customers.attach(pos.customers.find("MBR0001")[0])  # points earned and balance
    pos.scan(NASI)
    pos.scan(TEH)
    sold = pos.pay_card().committed
    original = printed(pos.printer.jobs[-1])
    text = "\n".join(original)
    assert "SIMULATED CARD TERMINAL" in text and "APPROVED" in text  # the slip
    assert "Saldo poin" in text or "Points balance" in text  # the member's points
    assert pos.refunds.reprint(pos.refunds.find(sold.label).id) == (1, None)
    copy = printed(pos.printer.jobs[-1])
    assert copy[0] == "SALINAN 1"
    assert copy[1:] == original  # line for line: slip, points, tax lines in their order


def test_a_card_refund_receipt_carries_the_card_terminals_slip(card_shop):
    pos = card_shop.pos
    pos.scan(TEH)
    pos.scan(TEH)
    sold = pos.pay_card().committed
    sale = pos.refunds.find(sold.return_code)
    approval = pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")
    out = pos.refunds.refund(sale, [(1, D(1), True)], "defective", approval)
    assert out.refund.tenders == {"card": 5500}
    text = "\n".join(printed(pos.printer.jobs[-1]))
    assert "SIMULATED CARD TERMINAL" in text and "AMOUNT 5500" in text
