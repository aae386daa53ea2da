"""Loyalty points and member tiers (seeds 002 and 003).

- Points are earned on what the customer paid (after discounts, cash, card and points
  alike except the points part itself): one point per ``earn_per`` minor units, rounded down.
- Points are redeemed as a tender, each worth ``point_value`` minor units; never more
  than the customer has, never more than what is left to pay.
- The tier is the highest whose ``min_points`` the customer's lifetime points reach;
  member-only promotions name the lowest tier they are for (member prices).
- A refund takes back the points earned in proportion to the money refunded (running
  total, so a fully refunded sale takes back exactly what it earned), and gives back the
  points spent on it in the same proportion.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from terminal.core.errors import N_, PosError
from terminal.core.money import round_half_up


class LoyaltyError(PosError):
    pass


@dataclass(frozen=True)
class Tier:
    rank: int
    name: str
    min_points: int


@dataclass(frozen=True)
class LoyaltyRules:
    earn_per: int = 10000  # minor units spent per point
    point_value: int = 100  # minor units a point is worth when redeemed
    tiers: tuple[Tier, ...] = (Tier(1, "Member", 0),)

    def earned(self, paid: int) -> int:
        return max(0, paid) // self.earn_per

    def tier_for(self, lifetime_points: int) -> Tier:
        reached = [t for t in self.tiers if lifetime_points >= t.min_points]
        return max(reached, key=lambda t: t.rank) if reached else self.tiers[0]

    def points_to_cover(self, balance: int, due: int) -> int:
        """As many points as pay for what is left, without paying more than it."""
        return min(balance, due // self.point_value)

    def redeem(self, points: int, balance: int, due: int) -> int:
        """The amount ``points`` pay; refused beyond the balance or beyond what is due."""
        if points <= 0:
            raise LoyaltyError(N_("Redeem at least one point"))
        if points > balance:
            raise LoyaltyError(N_("The customer has only {balance} points"), balance=balance)
        value = points * self.point_value
        if value > due:
            raise LoyaltyError(
                N_("{points} points are worth more than what is left to pay"), points=points
            )
        return value


def proportional_back(total: int, sale_amount: int, refunded_before: int, refund: int) -> int:
    """The part of ``total`` (points earned or spent on a sale) that a refund of ``refund``
    takes back, after refunds of ``refunded_before``: exact over a series of refunds."""
    if sale_amount <= 0:
        return 0
    before = round_half_up(Decimal(total) * refunded_before / sale_amount)
    after = round_half_up(Decimal(total) * min(sale_amount, refunded_before + refund) / sale_amount)
    return after - before
