"""What may still be refunded of a paid sale, and how much money each refund gives back.

A sale line is refunded by quantity, over as many refunds as the customer likes, never
beyond what was sold. The money for a quantity is the line's *paid* amount (after its
promotion and its share of every discount) in proportion, computed on the running total
so that the refunds of a whole line add up to exactly what was paid for it:

    refund(q) = round(paid * (already + q) / sold) - refunded so far

Money goes back to the sale's own tenders: card first, up to what the card paid less
what was already refunded to it, then cash (a cash refund is the easy way to take money
out of a drawer; a card refund leaves a trace at the bank).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from terminal.core.errors import N_, PosError
from terminal.core.money import round_half_up

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

    @property
    def refundable_quantity(self) -> Decimal:
        return self.quantity - self.refunded_quantity

    @property
    def refundable_amount(self) -> int:
        return self.amount - self.refunded_amount

    def refund_amount(self, quantity: Decimal) -> int:
        if quantity <= 0:
            raise RefundError(N_("A refund quantity is more than zero"))
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


def split_to_tenders(amount: int, tenders: Iterable[PaidTender]) -> dict[str, int]:
    """How much of ``amount`` goes back to each tender kind: card first, then cash."""
    left = amount
    split: dict[str, int] = {}
    ordered = sorted(tenders, key=lambda t: t.kind != "card")
    for tender in ordered:
        part = min(left, tender.refundable)
        if part > 0:
            split[tender.kind] = split.get(tender.kind, 0) + part
            left -= part
    if left > 0:
        raise RefundError(N_("This is more than what was paid and is not yet refunded"))
    return split
