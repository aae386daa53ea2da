"""Stock as a ledger (issue 19, seeds 001 and 003): what each journaled event moves, and
the cost of a unit by moving average. Shared by the fleet (which keeps the ledger of every
store from the terminals' journals) and the terminal; no I/O here.

A product's stock at a location is the sum of its movements, never a figure kept beside
them: every on-hand number can be shown with the movements behind it. Quantities are in
thousandths (a weighed line of 1,234 kg is 1234; two pieces are 2000), so weighed and
counted goods add up the same way.

What moves stock, and how:

- a **sale** line: its quantity out (a sale never waits for stock: the on-hand may go
  below zero, and the report flags it);
- a **refund** line put back on the shelf (``restock``): its quantity in;
- a **refund** line not put back (damaged, opened, expired): in and out again, as
  ``refund`` then ``damage`` with the reason "not restocked", so the on-hand is
  unchanged and the damaged goods are counted where damage is counted;
- a **receiving** line (goods delivered, scanned by a supervisor at a terminal, with
  their cost per unit): its quantity in, and the product's cost by moving average;
- a **write-off** (a supervisor's, with a reason): damaged or expired goods out as
  ``damage``, stolen, lost or used in the shop out as ``loss``;
- a **transfer** between locations (the console's): out of one as ``transfer``, into the
  other as ``transfer``, at the cost the goods had where they left;
- a **stocktake** adjustment (:mod:`terminal.core.stocktake`): the difference between
  the shelf as counted and the ledger at the moment of counting, posted with approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from terminal.core.errors import N_

SALE, REFUND, DAMAGE, RECEIVING, LOSS = "sale", "refund", "damage", "receiving", "loss"
TRANSFER = "transfer"  # between two locations: out of one, into the other (the console's)
NOT_RESTOCKED = "not restocked"  # the reason of a refund's damage movement
# why goods leave the stock without a sale (a write-off), and the movement each makes
WRITE_OFF_REASONS = {
    "damaged": N_("Damaged"),
    "expired": N_("Expired"),
    "stolen": N_("Stolen"),
    "lost": N_("Lost or missing"),
    "used": N_("Used in the shop"),
}
_WRITE_OFF_KIND = {"damaged": DAMAGE, "expired": DAMAGE}  # the rest: loss


@dataclass(frozen=True)
class Movement:
    """One product's stock moved at the entry's location: ``quantity`` in thousandths,
    positive in, negative out; ``position``: its line in the entry (1, 2, ...), ``part``
    the movement's number within that line (a refund not restocked has two)."""

    sku: str
    quantity: int
    kind: str
    position: int
    part: int = 1
    reason: str = ""


def milli(quantity: str | int | Decimal) -> int:
    """A journaled quantity ("2", "1.234") in thousandths; ValueError for what is not a
    number."""
    try:
        value = Decimal(str(quantity))
        if not value.is_finite():
            raise ValueError(f"{quantity!r} is not a quantity")
        return int((value * 1000).to_integral_value(ROUND_HALF_UP))
    except ArithmeticError:  # not a number, or one too large to hold ("1e999999")
        raise ValueError(f"{str(quantity)[:20]!r} is not a quantity") from None


def quantity_text(thousandths: int) -> str:
    """Thousandths as the journal writes a quantity: "12", "2.5", "1.234"."""
    text = f"{Decimal(thousandths).scaleb(-3):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def sale_movements(lines: list[dict]) -> list[Movement]:
    """A sale's lines out of stock (journal payload ``lines``: sku, quantity)."""
    return [
        Movement(str(line["sku"]), -milli(line["quantity"]), SALE, position)
        for position, line in enumerate(lines, start=1)
    ]


def refund_movements(lines: list[dict]) -> list[Movement]:
    """A refund's lines back in stock, or in and out again as damage (see the module)."""
    moves = []
    for position, line in enumerate(lines, start=1):
        sku, quantity = str(line["sku"]), milli(line["quantity"])
        moves.append(Movement(sku, quantity, REFUND, position))
        if not line.get("restock", False):
            moves.append(Movement(sku, -quantity, DAMAGE, position, 2, NOT_RESTOCKED))
    return moves


def receiving_movements(lines: list[dict]) -> list[Movement]:
    """A delivery's lines into stock (journal payload ``lines``: sku, quantity,
    unit_cost)."""
    return [
        Movement(str(line["sku"]), milli(line["quantity"]), RECEIVING, position)
        for position, line in enumerate(lines, start=1)
    ]


def write_off_movements(lines: list[dict], reason: str) -> list[Movement]:
    """Goods out of stock without a sale (journal payload ``lines``: sku, quantity), as
    damage or loss by ``reason`` (one of :data:`WRITE_OFF_REASONS`)."""
    if reason not in WRITE_OFF_REASONS:
        raise ValueError(f"{reason!r} is not a write-off reason")
    kind = _WRITE_OFF_KIND.get(reason, LOSS)
    return [
        Movement(str(line["sku"]), -milli(line["quantity"]), kind, position, 1, reason)
        for position, line in enumerate(lines, start=1)
    ]


MAX_QUANTITY = 100_000_000  # thousandths: 100.000 units on one line


def parse_quantity(text: str) -> int:
    """A quantity as people type it ("12", "2,5", "2.5", " 3 "), in thousandths; a
    comma is the decimal point when there is no dot. ValueError for what is not one."""
    cleaned = str(text).strip().replace(" ", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not cleaned:
        raise ValueError("no quantity")
    return milli(cleaned)


def check_counted(text: str) -> int:
    """A shelf's count (stocktake) in thousandths: 0 (nothing there) to 100.000 units;
    ValueError otherwise."""
    counted = parse_quantity(text)
    if not 0 <= counted <= MAX_QUANTITY:
        raise ValueError(f"{str(text)[:20]!r}: a quantity from 0 to 100.000")
    return counted


def check_received(quantity: str, unit_cost: int) -> int:
    """A delivered line's quantity in thousandths, when it and its cost make sense: more
    than nothing, at most 100,000 units, a cost not below zero. ValueError otherwise."""
    received = milli(quantity)
    if not 0 < received <= MAX_QUANTITY:
        raise ValueError(f"{quantity!r}: a quantity from 0,001 to 100.000")
    if unit_cost < 0:
        raise ValueError("a cost is not below zero")
    return received


REORDER_DAYS = 7  # a reorder suggestion covers a week of sales beyond the minimum ...
RATE_DAYS = 28  # ... at the rate of the last four weeks (every weekday four times)


def below_minimum(on_hand: int, minimum: int) -> bool:
    """Low stock: a minimum is set (above zero) and the shelf holds less."""
    return minimum > 0 and on_hand < minimum


def reorder_quantity(on_hand: int, minimum: int, sold_in_rate_days: int) -> int:
    """What to order for a product below its minimum, in thousandths of whole units:
    enough to reach twice the minimum plus :data:`REORDER_DAYS` days of sales at the rate
    of the last :data:`RATE_DAYS` days, less what is on hand; rounded up to whole units
    (a supplier sells pieces and kilograms, not thousandths). Zero when not below it.

    Twice the minimum: the minimum is the shop's safety stock, and a delivery that only
    tops it up would have the product low again at the next sale."""
    if not below_minimum(on_hand, minimum):
        return 0
    weekly = Decimal(max(0, sold_in_rate_days)) * REORDER_DAYS / RATE_DAYS
    wanted = Decimal(2 * minimum) + weekly - on_hand
    units = (wanted / 1000).to_integral_value(ROUND_CEILING)
    return max(0, int(units) * 1000)


def moving_average(on_hand: int, average: int, received: int, unit_cost: int) -> int:
    """The cost of a unit after a delivery, by moving average: the stock on hand at its
    average cost and the goods received at theirs, over both. Costs in minor units per
    unit, quantities in thousandths. Stock at or below zero (sold before it was
    received) carries no cost of its own: the delivery's cost is taken."""
    if received <= 0:
        raise ValueError("a delivery brings a positive quantity")
    if on_hand <= 0:
        return unit_cost
    total = Decimal(on_hand) * average + Decimal(received) * unit_cost
    return int((total / (on_hand + received)).to_integral_value(ROUND_HALF_UP))
