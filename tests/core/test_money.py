import pytest

from terminal.core.digits import is_digits
from terminal.core.errors import ConfigError
from terminal.core.money import currency, round_to_step


@pytest.mark.parametrize(
    ("code", "amount", "screen", "receipt"),
    [
        ("IDR", 12500, "Rp 12.500", "Rp 12.500"),
        ("IDR", 1250000, "Rp 1.250.000", "Rp 1.250.000"),
        ("IDR", -500, "-Rp 500", "-Rp 500"),
        ("MNT", 12500, "12,500 ₮", "12,500 MNT"),
        ("CNY", 1250, "¥12.50", "RMB 12.50"),
        ("CNY", 5, "¥0.05", "RMB 0.05"),
        ("CNY", 0, "¥0.00", "RMB 0.00"),
    ],
)
def test_format(code, amount, screen, receipt):
    cur = currency(code)
    assert cur.format(amount) == screen
    assert cur.format(amount, receipt=True) == receipt


@pytest.mark.parametrize(
    ("code", "text", "minor"),
    [("IDR", "12500", 12500), ("IDR", "12.500", 12500), ("CNY", "12.5", 1250), ("CNY", "7", 700)],
)
def test_parse_typed_amount(code, text, minor):
    assert currency(code).parse(text) == minor


@pytest.mark.parametrize(
    ("code", "typed", "shown"),
    [
        ("IDR", "500000", "Rp 500.000"),
        ("IDR", "50.000", "Rp 50.000"),  # the cashier's own separator, grouped again
        ("IDR", "0005", "Rp 5"),
        ("IDR", "5,5", "5,5"),  # rupiah have no decimals: shown as typed, parse refuses
        ("MNT", "25000", "25,000 ₮"),
        ("CNY", "1234.56", "¥1,234.56"),
        ("CNY", "12.", "¥12."),  # the point just typed stays
        ("CNY", "12.5", "¥12.5"),  # the decimals typed so far, not yet 12.50
        ("CNY", "1.234", "1.234"),  # more decimals than the yuan has
        ("IDR", "", ""),
        ("IDR", "12%", "12%"),
        ("IDR", "9" * 16, "9" * 16),
    ],
)
def test_an_amount_is_formatted_while_typed(code, typed, shown):
    assert currency(code).format_typed(typed) == shown


@pytest.mark.parametrize(
    ("amount", "step", "rounded"),
    [
        (12450, 100, 12500),  # IDR to 100: half up
        (12449, 100, 12400),
        (12550, 100, 12600),  # half up, not to even
        (1234, 10, 1230),  # CNY to 0.10
        (1235, 10, 1240),
        (1234, 1, 1234),  # no cash rounding
    ],
)
def test_cash_rounding(amount, step, rounded):
    assert round_to_step(amount, step) == rounded


def test_unknown_currency_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown currency 'USD'"):
        currency("USD")


@pytest.mark.parametrize(
    ("text", "digits"),
    [("0813", True), ("", False), ("\u00b2", False), ("\u0661\u0662", False), ("12a", False)],
)
def test_digits_are_ascii_digits_only(text, digits):
    """``²`` passes ``str.isdigit`` but not ``int()``: a PIN or a code is 0-9 only."""
    assert is_digits(text) is digits
    if digits:
        int(text)
