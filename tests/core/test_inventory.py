"""The stock ledger's rules: what a sale and a refund move (a refund not restocked goes
in and out again as damage), quantities in thousandths, and the moving-average cost
against a hand-computed table."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.inventory import (
    DAMAGE,
    NOT_RESTOCKED,
    REFUND,
    SALE,
    below_minimum,
    check_counted,
    milli,
    moving_average,
    refund_movements,
    reorder_quantity,
    sale_movements,
)

quantities = st.one_of(
    st.integers(1, 50).map(str),  # pieces
    st.decimals("0.001", "9.999", places=3).map(str),  # a weighed line, in kg
)
line = st.fixed_dictionaries(
    {"sku": st.sampled_from(["TEH", "AQUA", "APEL"]), "quantity": quantities}
)


def test_a_sale_takes_its_lines_out_and_a_refund_puts_back_what_is_restocked():
    sold = sale_movements([{"sku": "TEH", "quantity": "3"}, {"sku": "APEL", "quantity": "1.234"}])
    assert [(m.sku, m.quantity, m.kind, m.position) for m in sold] == [
        ("TEH", -3000, SALE, 1),
        ("APEL", -1234, SALE, 2),
    ]
    back = refund_movements(
        [
            {"sku": "TEH", "quantity": "1", "restock": True},
            {"sku": "APEL", "quantity": "0.5", "restock": False},
        ]
    )
    assert [(m.sku, m.quantity, m.kind, m.position, m.part, m.reason) for m in back] == [
        ("TEH", 1000, REFUND, 1, 1, ""),
        ("APEL", 500, REFUND, 2, 1, ""),
        ("APEL", -500, DAMAGE, 2, 2, NOT_RESTOCKED),
    ]


@given(
    st.lists(line, max_size=12),
    st.lists(st.tuples(line, st.booleans()), max_size=12),
)
def test_the_stock_is_what_was_sold_and_restocked_whatever_the_day(sales, refunds):
    """A randomised day: the sum of the movements is minus what was sold plus what was
    put back; every refund not restocked is counted as damage of the same quantity."""
    refund_lines = [{**item, "restock": restock} for item, restock in refunds]
    moves = sale_movements(sales) + refund_movements(refund_lines)
    for sku in ("TEH", "AQUA", "APEL"):
        sold = sum(Decimal(s["quantity"]) for s in sales if s["sku"] == sku)
        restocked = sum(
            Decimal(r["quantity"]) for r in refund_lines if r["sku"] == sku and r["restock"]
        )
        assert sum(m.quantity for m in moves if m.sku == sku) == int((restocked - sold) * 1000)
    damaged = [m for m in moves if m.kind == DAMAGE]
    assert sum(-m.quantity for m in damaged) == sum(
        milli(r["quantity"]) for r in refund_lines if not r["restock"]
    )


def test_a_quantity_that_is_not_one_is_refused():
    for bad in ("", "two", "NaN", "Infinity"):
        with pytest.raises(ValueError, match="is not a quantity"):
            milli(bad)


def test_moving_average_cost_after_several_deliveries():
    """By hand: 10 at Rp 5.000; 30 more at Rp 5.400 -> (50.000 + 162.000) / 40 = 5.300;
    12 sold (the average stays); 12 more at Rp 6.000 -> (28 x 5.300 + 12 x 6.000) / 40
    = (148.400 + 72.000) / 40 = 5.510."""
    average = moving_average(0, 0, 10_000, 5_000)
    assert average == 5_000
    average = moving_average(10_000, average, 30_000, 5_400)
    assert average == 5_300
    average = moving_average(28_000, average, 12_000, 6_000)
    assert average == 5_510
    # sold before it was received (on hand below zero): the delivery's own cost
    assert moving_average(-2_000, 5_510, 10_000, 6_200) == 6_200
    with pytest.raises(ValueError):
        moving_average(10_000, 5_000, 0, 5_000)


@pytest.mark.parametrize(
    ("on_hand", "minimum", "sold_28_days", "reorder"),
    [
        (12_000, 10_000, 56_000, 0),  # not below the minimum: nothing to order
        (10_000, 10_000, 56_000, 0),  # at it: not low
        (4_000, 10_000, 56_000, 30_000),  # 20 + 7 days x 2 a day - 4
        (-3_000, 10_000, 0, 23_000),  # sold before received: the gap is ordered too
        (4_000, 10_000, 1_000, 17_000),  # 20 + 0,25 - 4 = 16,25: whole units, up
        (500, 2_500, 0, 5_000),  # weighed: 5 kg - 0,5 kg = 4,5 kg, ordered as 5 kg
        (0, 0, 99_000, 0),  # no minimum set: never low
    ],
)
def test_reorder_suggestion(on_hand, minimum, sold_28_days, reorder):
    """Twice the minimum plus a week at the last four weeks' rate, less the stock."""
    assert reorder_quantity(on_hand, minimum, sold_28_days) == reorder
    assert below_minimum(on_hand, minimum) == (reorder > 0)


@pytest.mark.parametrize(
    ("typed", "counted"),
    [("12", 12_000), ("2,5", 2_500), ("2.5", 2_500), (" 0 ", 0), ("100000", 100_000_000)],
)
def test_a_count_as_typed(typed, counted):
    assert check_counted(typed) == counted


@pytest.mark.parametrize("typed", ["", "-1", "lots", "1e999999", "100000.001", "1,2,3", "NaN"])
def test_what_is_not_a_count_is_refused(typed):
    with pytest.raises(ValueError):
        check_counted(typed)
