"""Book orders' rules: the payment deadline (at the deadline still in time, a second
later released), booking numbers that refuse a misread, the unique code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo

import pytest

from terminal.core.online_orders import (
    DeadlineRule,
    OrderError,
    is_released,
    order_number,
    parse_order_number,
    unique_code,
)

JAKARTA = ZoneInfo("Asia/Jakarta")


def at(hour: int, minute: int = 0, day: int = 27) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=JAKARTA)


def test_a_daily_cutoff_and_hours_after_booking():
    five = DeadlineRule.parse("17:00")
    assert five.deadline(at(9), JAKARTA) == at(17)
    assert five.deadline(at(17, 30), JAKARTA) == at(17, day=28)  # booked after: tomorrow
    assert five.deadline(at(2).astimezone(UTC), JAKARTA) == at(17)  # local time counts
    day = DeadlineRule.parse("24h")
    assert day.deadline(at(9), JAKARTA) == at(9, day=28)


def test_the_deadline_itself_is_in_time_a_second_after_is_released():
    deadline = DeadlineRule.parse("17:00").deadline(at(9), JAKARTA)
    assert not is_released(deadline, deadline - timedelta(seconds=1))
    assert not is_released(deadline, deadline)
    assert is_released(deadline, deadline + timedelta(seconds=1))


@pytest.mark.parametrize("text", ["", "25:00", "17", "0h", "200h", "five"])
def test_a_wrong_deadline_rule_is_refused(text):
    with pytest.raises(ValueError):
        DeadlineRule.parse(text)


def test_booking_numbers_round_trip_and_refuse_misreads():
    number = order_number("JKT01", 42)
    assert number.startswith("BJKT01-0000042") and len(number) == 15
    assert parse_order_number(number.lower()) == ("JKT01", 42)
    wrong = number[:-2] + ("3" if number[-2] != "3" else "4") + number[-1]
    with pytest.raises(OrderError, match="not a booking number"):
        parse_order_number(wrong)
    swapped = number[:-3] + number[-2] + number[-3] + number[-1]
    if swapped != number:
        with pytest.raises(OrderError):
            parse_order_number(swapped)
    with pytest.raises(OrderError):
        parse_order_number("8991002101111")


def test_the_unique_code_makes_every_open_total_distinct():
    rng = Random(7)
    taken: set[int] = set()
    for _ in range(999):
        code = unique_code(150_000, taken, 1, 999, rng)
        assert 1 <= code <= 999 and 150_000 + code not in taken
        taken.add(150_000 + code)
    with pytest.raises(OrderError, match="raise the range"):
        unique_code(150_000, taken, 1, 999, rng)
    assert unique_code(150_000, taken, 0, 0, rng) == 0  # the shop uses no codes
