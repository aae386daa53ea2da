"""Whatever is typed at a prompt: a clear refusal (a PosError, with a message for the
cashier) or a valid result; never another exception, and nothing saved by a refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from terminal.core.errors import PosError
from terminal.core.pricing import parse_discount

# what a keyboard, a keypad, a scanner or a confused cashier sends
typed = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "NaN",
            "NaN%",
            "sNaN%",
            "-Infinity",
            "1e999999",
            "1e999999%",
            "-5",
            "0",
            "",
            " ",
            "3*",
            "12.5%",
            "%",
            "1,5",
            "1.234,56",
            "9" * 40,
            "R",
            "T01-",
            "\x00",
            "٣",
        ]
    ),
)
LOOSE = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def saved(pos) -> tuple[int, int]:
    db = pos.db
    return (
        db.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0],
        db.execute_sql("SELECT COUNT(*) FROM refund").fetchone()[0],
    )


@pytest.fixture
def signed_in(terminal):
    terminal.pos.sign_in("1", "1357")
    return terminal.pos


@LOOSE
@given(text=typed)
@example(text="\u00b2")  # a digit to str.isdigit, not to int(): found by this test
def test_every_prompt_refuses_clearly_or_takes_it(signed_in, text):
    pos = signed_in
    before = saved(pos)
    calls = [
        lambda: pos.scan(text),
        lambda: pos.search(text),
        lambda: pos.parse_amount(text),
        lambda: parse_discount(text, pos.currency),
        lambda: pos.customers.find(text),
        lambda: pos.refunds.find(text),
        lambda: pos.approvals.approve("discounts", pos.cashier, text, supervisor=text),
    ]
    if pos.cart.lines:
        calls.append(lambda: pos.set_quantity(0, text))
    for call in calls:
        try:
            call()
        except PosError as exc:
            assert exc.translated(lambda m: m)  # a message, in words
    assert saved(pos) == before  # typing saved nothing


@LOOSE
@given(operator=typed, pin=typed)
@example(operator="\u00b2", pin="")
def test_sign_in_refuses_anything_but_a_cashier_and_a_pin(terminal, operator, pin):
    pos = terminal.pos
    try:
        pos.sign_in(operator, pin)
    except PosError:
        return
    assert (operator.strip(), pin) in {("1", "1357"), ("2", "2580")}


@LOOSE
@given(text=typed)
def test_a_discount_typed_is_refused_or_applied_within_its_bounds(signed_in, text):
    pos = signed_in
    if not pos.cart.lines:
        pos.scan("GULA-1KG")
    try:
        kind, value = parse_discount(text, pos.currency)
        from terminal.core.pricing import Discount  # noqa: PLC0415

        off = pos.discount(Discount(kind, value, "staff"), 0)
    except PosError:
        return
    assert 0 <= off <= pos.cart.lines[0].promoted
    assert isinstance(value, Decimal) and value.is_finite()
