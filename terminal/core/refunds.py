"""What may still be refunded of a paid sale, and how much money each refund gives back.

A sale line is refunded by quantity, over as many refunds as the customer likes, never
beyond what was sold. The money for a quantity is the line's *paid* amount (after its
promotion and its share of every discount) in proportion, computed on the running total
so that the refunds of a whole line add up to exactly what was paid for it:

    refund(q) = round(paid * (already + q) / sold) - refunded so far

Money goes back to the sale's own tenders (see :func:`refund_money`): points in
proportion to what they paid, then the card up to what it paid less what was already
refunded to it, then cash (a cash refund is the easy way to take money out of a drawer;
a card refund leaves a trace at the bank).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from terminal.core.errors import N_, PosError
from terminal.core.money import round_half_up, round_to_step

REFUND_REASONS = {
    "defective": N_("Defective"),
    "wrong_item": N_("Wrong item"),
    "changed_mind": N_("Customer changed mind"),
    "expired": N_("Expired"),
    "overcharged": N_("Charged wrongly"),
}


class RefundError(PosError):
    pass


@dataclass(frozen=True)
class SoldLine:
    position: int
    sku: str
    name: str
    quantity: Decimal
    amount: int  # what the customer paid for the line
    tax_class: str
    refunded_quantity: Decimal = Decimal(0)
    refunded_amount: int = 0
    by_weight: bool = False

    @property
    def refundable_quantity(self) -> Decimal:
        return self.quantity - self.refunded_quantity

    @property
    def refundable_amount(self) -> int:
        return self.amount - self.refunded_amount

    def refund_amount(self, quantity: Decimal) -> int:
        if quantity <= 0:
            raise RefundError(N_("A refund quantity is more than zero"))
        step = Decimal("0.001") if self.by_weight else Decimal(1)
        if quantity % step:
            raise RefundError(
                N_("{name} is refunded in whole pieces")
                if not self.by_weight
                else N_("{name} is refunded in steps of 1 g"),
                name=self.name,
            )
        if quantity > self.refundable_quantity:
            raise RefundError(
                N_("Only {left} of {name} can still be refunded"),
                left=str(self.refundable_quantity.normalize()),
                name=self.name,
            )
        after = self.refunded_quantity + quantity
        if after == self.quantity:
            return self.refundable_amount
        return round_half_up(Decimal(self.amount) * after / self.quantity) - self.refunded_amount


@dataclass(frozen=True)
class RefundLine:
    line: SoldLine
    quantity: Decimal
    amount: int
    restock: bool  # the item goes back on the shelf (damaged goods do not)


@dataclass(frozen=True)
class PaidTender:
    kind: str  # cash | card
    amount: int
    refunded: int = 0

    @property
    def refundable(self) -> int:
        return self.amount - self.refunded


def plan_refund(
    lines: Iterable[SoldLine], wanted: Iterable[tuple[int, Decimal, bool]]
) -> list[RefundLine]:
    """Refund lines for (position, quantity, restock) requests; all or nothing."""
    by_position = {line.position: line for line in lines}
    plan: list[RefundLine] = []
    seen: set[int] = set()
    for position, quantity, restock in wanted:
        line = by_position.get(position)
        if line is None or position in seen:
            raise RefundError(N_("Line {n} is not on this sale"), n=position)
        seen.add(position)
        plan.append(RefundLine(line, quantity, line.refund_amount(quantity), restock))
    if not plan:
        raise RefundError(N_("Choose what to refund"))
    return plan


def refund_money(
    amount: int,
    tenders: Iterable[PaidTender],
    *,
    lines_total: int,
    lines_refunded: int,
    completes: bool,
    points_spent: int = 0,
    point_value: int = 1,
    cash_step: int = 1,
) -> tuple[dict[str, int], int]:
    """How ``amount`` (the refunded lines' money) goes back: ({tender: amount}, points).

    - Points paid part of the sale: that part comes back as points, in proportion (on the
      running total, so a whole refund gives back exactly the points spent).
    - Then the card, up to what it paid and was not yet given back.
    - Then cash, rounded to the cash step, never more than the sale's cash not yet given
      back; the refund that completes the sale gives exactly what is left of its cash, so
      rounding never leaves a refund impossible or a few rupiah owed.
    """
    by_kind: dict[str, PaidTender] = {}
    for t in tenders:
        known = by_kind.get(t.kind)
        by_kind[t.kind] = (
            PaidTender(t.kind, known.amount + t.amount, known.refunded + t.refunded) if known else t
        )
    split: dict[str, int] = {}
    points_back = 0
    if points_spent and "points" in by_kind:
        before = round_half_up(Decimal(points_spent) * lines_refunded / lines_total)
        after = round_half_up(Decimal(points_spent) * (lines_refunded + amount) / lines_total)
        points_back = min(after - before, by_kind["points"].refundable // point_value)
        if completes:
            points_back = by_kind["points"].refundable // point_value
        if points_back:
            split["points"] = points_back * point_value
    rest = max(0, amount - split.get("points", 0))
    card = by_kind.get("card")
    if card and card.refundable > 0 and rest > 0:
        split["card"] = min(rest, card.refundable)
        rest -= split["card"]
    cash = by_kind.get("cash")
    if rest > 0 or (completes and cash and cash.refundable > 0):
        if cash is None:
            raise RefundError(N_("This is more than what was paid and is not yet refunded"))
        if completes:
            given = cash.refundable
        else:
            given = round_to_step(rest, cash_step)
            while given > cash.refundable:
                given -= cash_step
            given = max(0, given)
        if given:
            split["cash"] = given
    return split, points_back
