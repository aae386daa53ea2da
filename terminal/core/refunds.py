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

What is still refundable is counted in what the customer paid (:func:`refund_balance`):
a total of 93,328 paid in cash as 93,300 gives back at most 93,300, never the lines' sum.
The quantity typed for a line (:func:`refund_quantity`) is a weight in kg for a weighed
line, whole pieces otherwise; nothing typed is no quantity at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from terminal.core.catalogue import format_quantity
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

    def quantity_text(self, quantity: Decimal, decimal_sep: str = ".") -> str:
        """``2`` (pieces) or ``0,500 kg`` (a weighed line)."""
        return format_quantity(quantity, self.by_weight, decimal_sep)

    def refund_amount(self, quantity: Decimal, decimal_sep: str = ".") -> int:
        """The money for refunding ``quantity`` more of this line. ``decimal_sep``: how a
        weight left is written in the refusal (``1,234 kg``)."""
        if not quantity.is_finite() or quantity <= 0:
            raise RefundError(N_("A refund quantity is more than zero"))
        # how much is left first: 1e999999 is refused here, before it is divided
        if quantity > self.refundable_quantity:
            raise RefundError(
                N_("Only {left} of {name} can still be refunded"),
                left=self.quantity_text(self.refundable_quantity, decimal_sep),
                name=self.name,
            )
        step = Decimal("0.001") if self.by_weight else Decimal(1)
        if quantity % step:
            raise RefundError(
                N_("{name} is refunded in whole pieces")
                if not self.by_weight
                else N_("{name} is refunded in steps of 1 g"),
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


def refund_quantity(text: str, line: SoldLine, decimal_sep: str = ".") -> Decimal:
    """The quantity the cashier typed to refund of ``line``.

    A weighed line's is a weight in kg with up to 3 decimals (``0,5`` or ``0.5``); a
    line of pieces takes whole numbers; never more than is left. ``0`` takes the line
    out of the refund. Nothing typed is refused: the amount of a refund is never chosen
    for the cashier (the whole line is typed like any other quantity).
    """
    typed = text.strip()
    if not typed:
        raise RefundError(N_("Type the quantity to refund first"))
    try:
        quantity = Decimal(typed.replace(",", "."))
    except InvalidOperation:
        raise RefundError(N_("{text} is not a quantity"), text=typed) from None
    if not quantity.is_finite() or quantity < 0:
        raise RefundError(N_("{text} is not a quantity"), text=typed)
    if quantity == 0:
        return Decimal(0)
    line.refund_amount(quantity, decimal_sep)  # how much is left; whole pieces or grams
    return quantity.quantize(Decimal("0.001") if line.by_weight else Decimal(1))


@dataclass(frozen=True)
class RefundBalance:
    """A paid sale's money, in the terms it was paid: ``paid`` is what its tenders took
    (cash as the drawer took it, after cash rounding; card; points at their value),
    ``refunded`` what went back to them, ``refundable`` what can still go back."""

    paid: int
    refunded: int
    refundable: int


def refund_balance(lines: Iterable[SoldLine], tenders: Iterable[PaidTender]) -> RefundBalance:
    """What can still be refunded of a sale: what was paid less what was given back,
    never more than was paid, and nothing once every line is refunded.

    Not the lines' own amounts: with cash rounding a sale of 93,328 is paid 93,300 in
    cash, and its refunds give back at most that (:func:`refund_money` gives the refund
    that completes the sale exactly what is left of the cash)."""
    tenders = list(tenders)
    paid = sum(t.amount for t in tenders)
    refunded = sum(t.refunded for t in tenders)
    anything_left = any(line.refundable_quantity > 0 for line in lines)
    refundable = min(paid, max(0, paid - refunded)) if anything_left else 0
    return RefundBalance(paid, refunded, refundable)


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
