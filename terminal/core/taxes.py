"""Taxes: a tax class is one or more taxes on the same base (Mongolia: VAT 10% +
city tax 1%; Indonesia: PPN 11%; China: VAT 13%).

Rounding rule (documented in the README and tested with hand-checked tables):
taxes are computed per sale, not per line, for each tax class on the sum of its
lines, then added up per rate.

* Prices include tax: the class's tax total is ``gross - round(gross / (1 + sum of
  rates))``. It is split across the class's taxes by largest remainder: each tax gets
  the whole units of its exact share (``exact_net * rate``), and the units left over go
  to the taxes with the largest fractions (ties: the one listed first). So every tax is
  its exact share rounded down or up, never negative, and base + taxes is always exactly
  the gross the customer pays.
* Prices exclude tax: each tax is ``round(net * rate)``; the total is net + taxes.

``round`` is half-up to the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from terminal.core.money import apportion, round_half_up, split_by_weight


@dataclass(frozen=True)
class Tax:
    code: str
    name: str
    rate: Decimal  # percent, e.g. Decimal("10")


@dataclass(frozen=True)
class TaxClass:
    code: str
    name: str
    taxes: tuple[Tax, ...]

    @property
    def combined_rate(self) -> Decimal:
        return sum((t.rate for t in self.taxes), Decimal(0))


@dataclass(frozen=True)
class RateTotal:
    """One line of the receipt's tax breakdown."""

    tax: Tax
    base: int  # net amount the rate applies to
    amount: int


@dataclass(frozen=True)
class TaxSummary:
    net: int
    tax: int
    gross: int  # what the customer pays before cash rounding
    per_rate: tuple[RateTotal, ...]


def _class_taxes(tax_class: TaxClass, amount: int, inclusive: bool) -> tuple[int, list[int]]:
    """Net base and each tax of one class for the sum of its lines."""
    if not tax_class.taxes:
        return amount, []
    factor = tax_class.combined_rate / 100
    if inclusive:
        exact_net = Decimal(amount) / (1 + factor)
        net = round_half_up(exact_net)
        return net, apportion(amount - net, [exact_net * t.rate / 100 for t in tax_class.taxes])
    return amount, [round_half_up(Decimal(amount) * t.rate / 100) for t in tax_class.taxes]


def summarize(lines: Iterable[tuple[TaxClass, int]], *, prices_include_tax: bool) -> TaxSummary:
    """Tax breakdown of a sale from (tax class, line amount) pairs."""
    by_class: dict[str, tuple[TaxClass, int]] = {}
    for tax_class, amount in lines:
        known = by_class.get(tax_class.code)
        by_class[tax_class.code] = (tax_class, amount + (known[1] if known else 0))

    net_total = tax_total = 0
    per_rate: dict[tuple[str, Decimal], list] = {}
    for tax_class, amount in by_class.values():
        net, parts = _class_taxes(tax_class, amount, prices_include_tax)
        net_total += net
        for tax, part in zip(tax_class.taxes, parts, strict=True):
            tax_total += part
            slot = per_rate.setdefault((tax.code, tax.rate), [tax, 0, 0])
            slot[1] += net
            slot[2] += part
    rates = tuple(
        RateTotal(tax, base, amount)
        for tax, base, amount in sorted(per_rate.values(), key=lambda s: (-s[0].rate, s[0].code))
    )
    return TaxSummary(net_total, tax_total, net_total + tax_total, rates)


def line_nets(lines: list[tuple[TaxClass, int]], *, prices_include_tax: bool) -> list[int]:
    """Each line's part of the sale's net (before tax), for the margin: its class's net
    (computed as :func:`summarize` does, on the sum of the class's lines) shared over the
    class's lines by their amounts, so the lines add up to the summary's net exactly."""
    members: dict[str, list[int]] = {}
    classes: dict[str, TaxClass] = {}
    for i, (tax_class, _amount) in enumerate(lines):
        members.setdefault(tax_class.code, []).append(i)
        classes[tax_class.code] = tax_class
    nets = [0] * len(lines)
    for code, positions in members.items():
        amounts = [lines[i][1] for i in positions]
        net, _parts = _class_taxes(classes[code], sum(amounts), prices_include_tax)
        for i, part in zip(positions, split_by_weight(net, amounts), strict=True):
            nets[i] = part
    return nets
