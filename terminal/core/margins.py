"""Gross margin (issue 19, seed 003): what each sold line earned over what its goods cost.
Shared by the fleet's ingest (which keeps a line's revenue and cost beside it) and its
reports; no I/O here.

- **Revenue** is net of tax and of the sale's own discounts: a sale's ``net`` (what the
  journal records before tax, after every discount) shared over its lines by their
  amounts, by largest remainder, so the lines add up to the sale exactly.
- **Cost** is the product's moving-average cost per unit at its store as the deliveries
  journaled before the sale left it (:func:`terminal.core.inventory.moving_average`),
  times the quantity.
  Moving average rather than FIFO: a till scans a product, not a lot, so the units on the
  shelf cannot be told apart; the average of what is on hand is the cost of any one of
  them, and it needs one figure per product instead of a list of lots (PSAK 14 and IAS 2
  allow either). A product never received has no cost: its lines count as *uncosted*,
  and a report says how many there are instead of showing a margin of 100 %.
- **A refund** takes back the share of its sale line's revenue that it returns. The cost
  comes back only with goods put back on the shelf (``restock``), at the cost they left
  with: goods not restocked are written off (damage), so their cost stays a cost of the
  period. A return without a receipt (or whose sale the fleet does not hold) takes its
  revenue from its own taxes and its cost, when restocked, from the average of the day.
  A return does not change the product's average: the units come back at the cost they
  left with, which was the average then.
"""

from __future__ import annotations

from decimal import Decimal

from terminal.core.money import round_half_up, split_by_weight


def line_nets(net: int, amounts: list[int]) -> list[int]:
    """A sale's ``net`` (before tax, after every discount) shared over its lines by their
    amounts; the parts add up to ``net``."""
    return split_by_weight(net, [max(0, amount) for amount in amounts])


def cost_of(quantity: int, unit_cost: int) -> int:
    """The cost of ``quantity`` thousandths at ``unit_cost`` minor units per unit."""
    return round_half_up(Decimal(quantity) * unit_cost / 1000)


def share_back(value: int, sold: int, returned: int) -> int:
    """The part of a sold line's ``value`` (revenue or cost) that ``returned`` of its
    ``sold`` thousandths take back; all of it when everything comes back."""
    if sold <= 0 or returned >= sold:
        return value
    return round_half_up(Decimal(value) * returned / sold)


def refund_net(amount: int, taxes: list[dict]) -> int:
    """A refund's revenue before tax when its sale is not known: the goods' ``amount``
    less the tax it gave back when that tax is inside the amount (prices include tax:
    the bases and the taxes make the amount), else the amount itself (prices exclude
    tax: the tax was paid on top)."""
    tax = sum(int(t["amount"]) for t in taxes)
    base = sum(int(t["base"]) for t in taxes)
    return amount - tax if taxes and base + tax == amount else amount


def margin_percent(net: int, cost: int) -> Decimal | None:
    """Margin over revenue, to one decimal (None when nothing was earned)."""
    if net == 0:
        return None
    return (Decimal(net - cost) * 100 / net).quantize(Decimal("0.1"))
