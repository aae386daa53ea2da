"""Cash tender: cash rounding, change, and the quick-tender amounts."""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.errors import N_, TenderError
from terminal.core.money import Currency, round_to_step


@dataclass(frozen=True)
class CashPayment:
    total: int  # the sale's total
    payable: int  # after cash rounding
    tendered: int
    change: int

    @property
    def rounding(self) -> int:
        return self.payable - self.total


def cash_payable(total: int, cash_rounding: int = 1) -> int:
    """What the customer pays in cash: the total rounded half-up to the cash step, but
    never rounded down to nothing - a positive total costs at least one step."""
    payable = round_to_step(total, cash_rounding)
    return cash_rounding if total > 0 and payable <= 0 else payable


def take_cash(total: int, tendered: int, currency: Currency, cash_rounding: int = 1) -> CashPayment:
    """Accept ``tendered`` for a sale of ``total``.

    Refused: less than the payable amount, or so much more that the change would be a
    banknote's worth or more beyond the largest note (a typing slip, not a payment).
    """
    payable = cash_payable(total, cash_rounding)
    if tendered < payable:
        raise TenderError(
            N_("Tendered {tendered} is less than the total {total}"),
            tendered=currency.format(tendered),
            total=currency.format(payable),
        )
    largest = max(currency.denominations)
    if tendered - payable >= largest:
        raise TenderError(
            N_("Change of {change} is more than the largest note: check the amount"),
            change=currency.format(tendered - payable),
        )
    return CashPayment(total, payable, tendered, tendered - payable)


def quick_tenders(payable: int, currency: Currency, count: int = 4) -> list[int]:
    """Amounts for the quick-tender buttons: the next round amounts a customer hands over.

    For each banknote, the smallest multiple of it that covers ``payable``; the
    distinct ones above ``payable``, smallest first (exact is a button of its own).
    """
    amounts = set()
    for note in currency.denominations:
        multiple = -(-payable // note) * note
        if multiple > payable and multiple - payable < max(currency.denominations):
            amounts.add(multiple)
    return sorted(amounts)[:count]
