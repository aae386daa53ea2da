"""Currencies and amounts.

Amounts are integers in the terminal's minor unit of the currency. For IDR and MNT
that unit is the whole rupiah / tögrög (ISO 4217 lists two decimals, but neither
currency has coins below the unit in circulation, and receipts show none), for CNY
it is the fen (0.01 yuan).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from terminal.core.digits import is_digits
from terminal.core.errors import ConfigError

MAX_DIGITS = 15  # an amount typed has at most this many digits before the point


@dataclass(frozen=True)
class Currency:
    code: str
    exponent: int  # decimals of the terminal's minor unit
    symbol: str  # shown on screen
    receipt_symbol: str  # printable in the printer's basic codepage
    symbol_after: bool
    thousands_sep: str
    decimal_sep: str
    denominations: tuple[int, ...]  # banknotes and coins, in minor units, ascending

    def format(self, amount: int, *, receipt: bool = False) -> str:
        """``12500`` IDR -> ``Rp 12.500``; ``1250`` CNY -> ``¥12.50``."""
        sign = "-" if amount < 0 else ""
        units, minor = divmod(abs(amount), 10**self.exponent)
        digits = f"{units:,}".replace(",", self.thousands_sep)
        if self.exponent:
            digits += self.decimal_sep + str(minor).zfill(self.exponent)
        return self._with_symbol(sign + digits, receipt=receipt)

    def _with_symbol(self, digits: str, *, receipt: bool = False) -> str:
        sign, digits = ("-", digits[1:]) if digits.startswith("-") else ("", digits)
        symbol = self.receipt_symbol if receipt else self.symbol
        if self.symbol_after:
            return f"{sign}{digits} {symbol}"
        sep = " " if symbol[-1].isalpha() else ""
        return f"{sign}{symbol}{sep}{digits}"

    def format_typed(self, text: str) -> str:
        """An amount as it is being typed, shown as the currency is: ``500000`` ->
        ``Rp 500.000``, ``12.5`` -> ``¥12.5`` (the decimals typed so far, no more).
        What is not (yet) an amount is shown as typed."""
        cleaned = text.replace(" ", "").replace(self.thousands_sep, "")
        whole, point, decimals = cleaned.partition(self.decimal_sep)
        if (
            not cleaned
            or not is_digits(whole)
            or not (is_digits(decimals) or decimals == "")
            or len(decimals) > self.exponent
            or len(whole.lstrip("0")) > MAX_DIGITS
        ):
            return text
        digits = f"{int(whole):,}".replace(",", self.thousands_sep)
        return self._with_symbol(digits + (point + decimals if point else ""))

    def parse(self, text: str) -> int:
        """Parse an amount typed by the cashier in major units ("12500", "12.50")."""
        cleaned = text.strip().replace(self.thousands_sep, "")
        cleaned = cleaned.replace(self.decimal_sep, ".").replace(" ", "")
        value = Decimal(cleaned)
        if not value.is_finite() or value.adjusted() >= MAX_DIGITS:
            # NaN, Infinity, or "1e999999": no amount (and turning an exponent that large
            # into an integer would hold the terminal for minutes)
            raise InvalidOperation(f"{text!r}: not an amount")
        if -value.as_tuple().exponent > self.exponent:
            # "50,000" in rupiah is not Rp 50: more decimals typed than the currency has
            raise InvalidOperation(f"{text!r}: more decimals than {self.code} has")
        return int(value * 10**self.exponent)


CURRENCIES: dict[str, Currency] = {
    "IDR": Currency(
        "IDR",
        0,
        "Rp",
        "Rp",
        False,
        ".",
        ",",
        (100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000),
    ),
    "MNT": Currency(
        "MNT",
        0,
        "₮",
        "MNT",
        True,
        ",",
        ".",
        (10, 20, 50, 100, 200, 500, 1000, 5000, 10000, 20000),
    ),
    "CNY": Currency(
        "CNY",
        2,
        "¥",
        "RMB",
        False,
        ",",
        ".",
        (10, 50, 100, 500, 1000, 2000, 5000, 10000),
    ),
}


def currency(code: str) -> Currency:
    try:
        return CURRENCIES[code]
    except KeyError:
        known = ", ".join(sorted(CURRENCIES))
        raise ConfigError(f"unknown currency {code!r}; known: {known}") from None


def round_half_up(value: Decimal) -> int:
    """Round to a whole minor unit, halves away from zero (the commercial rule)."""
    return int(value.to_integral_value(ROUND_HALF_UP))


def round_to_step(amount: int, step: int) -> int:
    """Round to the nearest multiple of ``step`` (cash rounding), halves up."""
    if step <= 1:
        return amount
    return round_half_up(Decimal(amount) / step) * step


def apportion(total: int, exact: list[Decimal]) -> list[int]:
    """Split ``total`` units into parts close to ``exact`` (largest-remainder method):
    each part is its exact share rounded down or up, ties to the first listed."""
    parts = [int(share) for share in exact]  # shares are >= 0: int() is floor
    left = total - sum(parts)
    by_fraction = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_fraction[: max(0, left)]:
        parts[i] += 1
    return parts


def split_by_weight(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (>= 0), exactly, by largest remainder."""
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    return apportion(total, [Decimal(total) * w / whole for w in weights])
