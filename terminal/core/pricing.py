"""Promotions, member prices and discounts: what a line really costs.

The order, for each line (documented in the README):

1. **Promotion** - of the promotions running when the line was added that cover its
   product (by SKU or category) and the customer (member-only ones need a member of at
   least the promotion's tier), the *single* one giving the lowest price applies; ties go
   to the promotion listed first. Promotions never stack, and never raise a price.
   Member prices are member-only promotions.
2. **Line discount** - percent or amount, given by the cashier, on the promoted amount.
3. **Transaction discount** - percent or amount on the sum after 1 and 2, spread over
   the lines in proportion to their amounts (largest remainder, exact to the unit), so
   every line carries its share: taxes are computed on what is really paid, and a
   refund of one line gives back its share of the discount.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from terminal.core.errors import N_, PosError
from terminal.core.money import round_half_up

PERCENT, AMOUNT = "percent", "amount"
DISCOUNT_REASONS = {
    "damaged": N_("Damaged packaging"),
    "expiring": N_("Near expiry date"),
    "loyal": N_("Loyal customer"),
    "price_match": N_("Price match"),
    "staff": N_("Staff purchase"),
}


class DiscountError(PosError):
    pass


def parse_discount(text: str, currency) -> tuple[str, Decimal]:
    """What the cashier typed: ``10%`` (a percent) or an amount in the currency."""
    try:
        if text.strip().endswith("%"):
            percent = Decimal(text.strip()[:-1].replace(",", "."))
            if not percent.is_finite() or percent.adjusted() > 2:  # NaN, 1e999999
                raise InvalidOperation(text)
            return PERCENT, percent
        return AMOUNT, Decimal(currency.parse(text))
    except (ArithmeticError, ValueError):
        raise DiscountError(N_("{text} is not a discount"), text=text) from None


@dataclass(frozen=True)
class Promotion:
    code: str
    name: str
    start: datetime
    end: datetime  # exclusive
    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    percent: Decimal | None = None  # percent off
    fixed_price: int | None = None  # the unit price while it runs
    members_only: bool = False
    min_tier: int = 0  # members of this tier rank or above (0: any member)

    def __post_init__(self) -> None:
        if (self.percent is None) == (self.fixed_price is None):
            raise ValueError(f"promotion {self.code}: give either percent or fixed_price")
        if self.percent is not None and not 0 < self.percent <= 100:
            raise ValueError(f"promotion {self.code}: percent must be above 0, at most 100")
        if self.fixed_price is not None and self.fixed_price < 0:
            raise ValueError(f"promotion {self.code}: fixed_price below zero")
        if not self.start < self.end:
            raise ValueError(f"promotion {self.code}: ends before it starts")
        if not (self.skus or self.categories):
            raise ValueError(f"promotion {self.code}: names no product or category")

    def covers(self, sku: str, category: str, at: datetime, tier: int | None) -> bool:
        """``tier``: the customer's tier rank, None when the customer is not a member."""
        if not self.start <= at < self.end:
            return False
        if self.members_only and (tier is None or tier < self.min_tier):
            return False
        return sku in self.skus or (bool(category) and category in self.categories)

    def promoted_amount(self, regular: int, unit_price: int, quantity: Decimal) -> int | None:
        """The line amount under this promotion; None when it cannot apply (a fixed price
        on a line whose amount came from a scale label)."""
        if self.percent is not None:
            return regular - round_half_up(Decimal(regular) * self.percent / 100)
        if unit_price is None:
            return None
        return round_half_up(Decimal(self.fixed_price) * quantity)


def best_promotion(
    promotions: Iterable[Promotion],
    *,
    sku: str,
    category: str,
    at: datetime,
    tier: int | None,
    regular: int,
    unit_price: int | None,
    quantity: Decimal,
) -> tuple[Promotion | None, int]:
    """The one promotion that gives the lowest line amount, and that amount."""
    best, best_amount = None, regular
    for promo in promotions:
        if not promo.covers(sku, category, at, tier):
            continue
        amount = promo.promoted_amount(regular, unit_price, quantity)
        if amount is not None and amount < best_amount:
            best, best_amount = promo, amount
    return best, best_amount


@dataclass(frozen=True)
class Discount:
    """A discount the cashier gives: ``value`` is a percent or an amount in minor units.

    An amount stays that amount as the sale changes (spread over the lines for tax),
    never more than what it is taken from. ``limit_percent``: the share it may reach
    at most - the cashier's own limit, for a discount given without a supervisor's
    approval, so that voiding lines afterwards cannot raise it beyond that limit."""

    kind: str
    value: Decimal
    reason: str
    limit_percent: Decimal | None = None

    def __post_init__(self) -> None:
        if self.kind not in (PERCENT, AMOUNT):
            raise ValueError(f"discount kind {self.kind!r}")
        if self.reason not in DISCOUNT_REASONS:
            raise DiscountError(N_("Choose a reason for the discount"))
        if self.kind == PERCENT and not 0 < self.value <= 100:
            raise DiscountError(N_("A discount is more than 0% and at most 100%"))
        if self.kind == AMOUNT and (self.value <= 0 or self.value != int(self.value)):
            raise DiscountError(N_("A discount amount is a whole number of minor units above 0"))

    def amount_off(self, base: int) -> int:
        """What this discount takes off ``base``; an amount above ``base`` is refused."""
        if self.kind == PERCENT:
            return round_half_up(Decimal(base) * self.value / 100)
        if self.value > base:
            raise DiscountError(N_("The discount is more than the amount it is taken from"))
        return int(self.value)

    def more_than(self, base: int) -> bool:
        """An amount off larger than ``base``: it no longer fits what it was given on."""
        return self.kind == AMOUNT and self.value > base

    def taken_off(self, base: int) -> int:
        """What it takes off ``base`` as the sale stands now: a percentage of it, or the
        amount, capped at ``base`` and at ``limit_percent`` of it."""
        if base <= 0:
            return 0
        off = self.amount_off(base) if self.kind == PERCENT else min(int(self.value), base)
        if self.limit_percent is not None:
            off = min(off, round_half_up(Decimal(base) * self.limit_percent / 100))
        return off

    def percent_of(self, base: int) -> Decimal:
        """The discount as a share of ``base``, to compare with the cashier's limit."""
        if self.kind == PERCENT:
            return self.value
        return Decimal(100) if base <= 0 else Decimal(int(self.value)) * 100 / base

    def journal_fields(self) -> dict:
        return {"kind": self.kind, "value": str(self.value), "reason": self.reason}
