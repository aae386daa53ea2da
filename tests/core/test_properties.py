"""Properties that must hold for every input, not just the hand-checked tables."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from terminal.core.barcodes import gs1_check_digit, has_valid_check_digit
from terminal.core.money import currency, round_to_step
from terminal.core.numbering import parse_return_code, return_code
from terminal.core.taxes import Tax, TaxClass, summarize
from terminal.core.tender import cash_payable, take_cash

rates = st.decimals(min_value=0, max_value=30, places=2)
tax_classes = st.lists(rates, min_size=0, max_size=3).map(
    lambda rs: TaxClass(
        "C" + "-".join(map(str, rs)), "c", tuple(Tax(f"T{i}", f"T{i}", r) for i, r in enumerate(rs))
    )
)
amounts = st.integers(min_value=0, max_value=10**10)


@given(st.lists(st.tuples(tax_classes, amounts), max_size=8))
def test_inclusive_taxes_never_change_what_the_customer_pays(lines):
    summary = summarize(lines, prices_include_tax=True)
    assert summary.gross == sum(amount for _cls, amount in lines)
    assert summary.net + summary.tax == summary.gross
    assert summary.tax == sum(r.amount for r in summary.per_rate)


@given(tax_classes, amounts)
def test_each_inclusive_tax_is_within_one_unit_of_exact(tax_class, gross):
    summary = summarize([(tax_class, gross)], prices_include_tax=True)
    exact_net = Decimal(gross) / (1 + tax_class.combined_rate / 100)
    assert abs(summary.net - exact_net) <= Decimal("0.5")
    for rate_total in summary.per_rate:
        exact = exact_net * rate_total.tax.rate / 100
        assert rate_total.amount >= 0
        assert abs(rate_total.amount - exact) <= 1


@given(st.lists(st.tuples(tax_classes, amounts), max_size=8))
def test_exclusive_taxes_are_added_on_top(lines):
    summary = summarize(lines, prices_include_tax=False)
    assert summary.net == sum(amount for _cls, amount in lines)
    assert summary.gross == summary.net + summary.tax >= summary.net


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_ean13_check_digit_matches_the_gs1_definition(body):
    # GS1 for EAN-13, written independently: weights 1,3,1,3... from the left
    weighted = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    assert gs1_check_digit(body) == (10 - weighted % 10) % 10
    assert has_valid_check_digit(body + str((10 - weighted % 10) % 10))


@given(st.from_regex(r"[A-Z0-9]{1,8}", fullmatch=True), st.integers(1, 10**8 - 1))
def test_return_codes_round_trip(terminal_id, number):
    ref = parse_return_code(return_code(terminal_id, number))
    assert (ref.terminal_id, ref.number) == (terminal_id, number)


@given(st.integers(1, 10**9), st.sampled_from([1, 10, 50, 100, 500]), st.integers(0, 99999))
def test_change_is_exact_and_never_negative(total, step, extra):
    idr = currency("IDR")
    payable = cash_payable(total, step)
    payment = take_cash(total, payable + extra, idr, cash_rounding=step)
    assert payment.change == extra >= 0
    assert payment.payable % step == 0 and payment.payable > 0  # never free
    if round_to_step(total, step) > 0:
        assert abs(payment.rounding) <= step // 2
