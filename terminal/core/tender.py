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


def quick_tenders(payable: int, currency: Currency, count: int = 5) -> list[int]:
    """Amounts for the quick-tender buttons: the next round amounts a customer hands over.

    For each banknote, the smallest multiple of it that covers ``payable``; the
    distinct ones above ``payable`` (exact is a button of its own). When there are
    more than ``count``, the nearest ones are kept and the last button is the largest
    note's amount (Rp 100.000 for Rp 62.800), because customers most often pay with
    the biggest note they have.
    """
    amounts = set()
    for note in currency.denominations:
        multiple = -(-payable // note) * note
        if multiple > payable and multiple - payable < max(currency.denominations):
            amounts.add(multiple)
    ordered = sorted(amounts)
    if len(ordered) <= count:
        return ordered
    return [*ordered[: count - 1], ordered[-1]]


@dataclass(frozen=True)
class CardDetails:
    """What is kept of an approved card payment: never the full PAN, track data or PIN."""

    masked_pan: str
    auth_code: str
    trace_number: int | None
    receipt_number: int | None
    card_terminal_id: str
    receipt_lines: tuple[str, ...] = ()  # the card terminal's receipt, for the customer's


@dataclass(frozen=True)
class Tender:
    kind: str  # cash | card | points | bank_transfer
    amount: int  # applied to the sale
    tendered: int = 0  # cash handed over
    change: int = 0
    card: CardDetails | None = None
    points: int = 0  # points redeemed
    payment_id: str = ""  # card: the payment's record
    # bank_transfer: the online order it pays (its booking's number), whose transfer the
    # fleet matched to a bank statement line
    reference: str = ""


@dataclass(frozen=True)
class Payment:
    """All tenders of one sale. ``rounding`` is the cash rounding of the cash part."""

    total: int
    tenders: tuple[Tender, ...]

    @property
    def payable(self) -> int:
        return sum(t.amount for t in self.tenders)

    @property
    def rounding(self) -> int:
        return self.payable - self.total

    @property
    def tendered(self) -> int:
        return sum(t.tendered for t in self.tenders if t.kind == "cash")

    @property
    def change(self) -> int:
        return sum(t.change for t in self.tenders if t.kind == "cash")

    def paid_by(self, kind: str) -> int:
        return sum(t.amount for t in self.tenders if t.kind == kind)


def remaining(total: int, tenders: tuple[Tender, ...]) -> int:
    """What is left to pay after the tenders taken so far (card, points)."""
    return total - sum(t.amount for t in tenders)


def check_part_amount(total: int, tenders: tuple[Tender, ...], amount: int, currency: Currency):
    """A card or points part of a split payment: above zero, not above what is left."""
    left = remaining(total, tenders)
    if amount <= 0:
        raise TenderError(N_("An amount above zero, please"))
    if amount > left:
        raise TenderError(
            N_("{amount} is more than the {left} left to pay"),
            amount=currency.format(amount),
            left=currency.format(left),
        )
    return amount


def finish_with_cash(
    total: int, tenders: tuple[Tender, ...], tendered: int, currency: Currency, cash_rounding: int
) -> Payment:
    """The cash that completes a payment; cash rounding applies to the cash part only."""
    cash = take_cash(remaining(total, tenders), tendered, currency, cash_rounding)
    return Payment(total, (*tenders, Tender("cash", cash.payable, cash.tendered, cash.change)))


def finish_without_cash(total: int, tenders: tuple[Tender, ...]) -> Payment:
    if remaining(total, tenders) != 0:
        raise TenderError(N_("The payment is not complete"))
    return Payment(total, tenders)
