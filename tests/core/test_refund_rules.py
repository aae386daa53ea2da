"""The refund screen's rules, without Kivy or database: what is still refundable is
counted in what was paid (cash rounding included), and what the cashier types for a line
(a weight in kg, whole pieces, nothing at all). Expected values are worked by hand."""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal as D

import pytest

from terminal.core.refunds import (
    PaidTender,
    RefundError,
    SoldLine,
    refund_balance,
    refund_money,
    refund_quantity,
)

# 1,234 kg of apples at 42,000/kg (51,828), 3 teas (16,500) and a rice bag (25,000):
# 93,328, paid in cash rounded to the 100 as 93,300
APPLES = SoldLine(1, "APEL", "Apel Fuji /kg", D("1.234"), 51828, "EXEMPT", by_weight=True)
TEA = SoldLine(2, "TEH", "Teh Botol", D(3), 16500, "PPN")
RICE = SoldLine(3, "BERAS", "Beras", D(1), 25000, "EXEMPT")
LINES = [APPLES, TEA, RICE]


def test_what_is_refundable_never_exceeds_what_was_paid():
    balance = refund_balance(LINES, [PaidTender("cash", 93300)])
    assert (balance.paid, balance.refunded, balance.refundable) == (93300, 0, 93300)
    # (the lines' own sum is 93,328: more than the drawer ever took)
    assert sum(line.refundable_amount for line in LINES) == 93328


def test_refundable_after_partial_refunds_is_what_was_paid_less_what_went_back():
    split, _points = refund_money(
        5500, [PaidTender("cash", 93300)], lines_total=93328, lines_refunded=0, completes=False
    )
    assert split == {"cash": 5500}
    lines = [APPLES, replace(TEA, refunded_quantity=D(1), refunded_amount=5500), RICE]
    balance = refund_balance(lines, [PaidTender("cash", 93300, refunded=5500)])
    assert (balance.paid, balance.refunded, balance.refundable) == (93300, 5500, 87800)


def test_everything_refunded_leaves_nothing_refundable():
    done = [
        replace(line, refunded_quantity=line.quantity, refunded_amount=line.amount)
        for line in LINES
    ]
    assert refund_balance(done, [PaidTender("cash", 93300, refunded=93300)]).refundable == 0
    # even if the tenders' record were to say otherwise: no line left, nothing to give
    assert refund_balance(done, [PaidTender("cash", 93300, refunded=93200)]).refundable == 0


def test_cash_rounded_up_is_given_back_in_full_and_card_and_cash_add_up():
    # 6,250 of lines paid in cash as 6,300: all of it goes back with the last refund
    line = SoldLine(1, "X", "X", D(1), 6250, "PPN")
    assert refund_balance([line], [PaidTender("cash", 6300)]).refundable == 6300
    whole, _ = refund_money(
        6250, [PaidTender("cash", 6300)], lines_total=6250, lines_refunded=0, completes=True
    )
    assert whole == {"cash": 6300}
    tenders = [PaidTender("card", 50000, refunded=20000), PaidTender("cash", 43300)]
    balance = refund_balance(LINES, tenders)
    assert (balance.paid, balance.refundable) == (93300, 73300)


def test_a_weighed_line_is_refunded_by_weight_in_kg():
    assert refund_quantity("0,5", APPLES, ",") == D("0.500")
    assert refund_quantity("0.5", APPLES, ",") == D("0.500")
    assert refund_quantity("1,234", APPLES, ",") == D("1.234")  # all of it, typed
    assert APPLES.refund_amount(D("0.5")) == 21000  # 51,828 x 0.5 / 1.234
    assert APPLES.quantity_text(APPLES.refundable_quantity, ",") == "1,234 kg"
    with pytest.raises(RefundError, match="steps of 1 g"):
        refund_quantity("0,5005", APPLES, ",")
    with pytest.raises(RefundError) as too_much:
        refund_quantity("2", APPLES, ",")
    assert too_much.value.params["left"] == "1,234 kg"  # in the terms it was sold


def test_a_line_of_pieces_takes_whole_numbers():
    assert refund_quantity("2", TEA) == D(2)
    with pytest.raises(RefundError, match="whole pieces"):
        refund_quantity("1,5", TEA)
    with pytest.raises(RefundError, match="Only 3 of Teh Botol"):
        refund_quantity("4", TEA)
    assert refund_quantity("0", TEA) == 0  # takes the line out of the refund


def test_nothing_typed_is_no_quantity_never_the_whole_line():
    for typed in ("", "  "):
        with pytest.raises(RefundError, match="Type the quantity"):
            refund_quantity(typed, TEA)
        with pytest.raises(RefundError, match="Type the quantity"):
            refund_quantity(typed, APPLES, ",")


@pytest.mark.parametrize("typed", ["abc", "NaN", "sNaN", "Infinity", "-1", "1e999999", "1,2,3"])
def test_odd_quantities_are_refused_at_once(typed):
    started = time.monotonic()
    with pytest.raises(RefundError):
        refund_quantity(typed, TEA)
    with pytest.raises(RefundError):
        refund_quantity(typed, APPLES, ",")
    assert time.monotonic() - started < 0.5
