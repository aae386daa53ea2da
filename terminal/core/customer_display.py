"""What the customer sees on a 2-line pole display as the sale goes (issue 20), one screen
per moment of the sale; pure text, no device. The service translates the words
(:data:`WORDS`) and sends the lines; the display cuts them to its width in columns.

- a line added: the product's name, then its quantity and amount;
- a line voided: "Void" and the name, then the new total;
- the total due (payment begins, or part of it is paid): "Total" and what is left;
- paid: what was paid, then the change (or "Thank you" when there is none);
- idle: the shop's two greeting lines.

Amounts are written as the receipt writes them (``Currency.format(..., receipt=True)``:
"Rp 57.300", "57,300 MNT", "RMB 12.50"): every display's character set has those
characters, which is not so of "₮" and "¥".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from terminal.core.errors import N_
from terminal.core.money import Currency

WORDS = {
    "total": N_("Total"),
    "void": N_("Void"),
    "paid": N_("Paid"),
    "change": N_("Change"),
    "thanks": N_("Thank you"),
    "welcome": N_("Welcome"),
    "cash": N_("Cash"),
}


def columns(text: str) -> int:
    """The columns ``text`` takes on a display (a Chinese character takes two)."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def cut(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns."""
    out, used = [], 0
    for char in text:
        wide = columns(char)
        if used + wide > width:
            break
        out.append(char)
        used += wide
    return "".join(out)


def spread(left: str, right: str, width: int) -> str:
    """``left`` and ``right`` on one line, ``right`` against the right edge; the amount
    wins when both do not fit (the words are cut)."""
    right = cut(right, width)
    room = width - columns(right)
    left = cut(left, max(0, room - 1)) if room > 0 else ""
    return left + " " * (width - columns(left) - columns(right)) + right


@dataclass(frozen=True)
class Screens:
    """The screens of one shop: its currency, its words (translated), its greeting."""

    currency: Currency
    words: dict[str, str]  # WORDS' keys, in the shop's language
    greeting: tuple[str, str] = ("", "")
    width: int = 20

    def money(self, amount: int) -> str:
        return self.currency.format(amount, receipt=True)

    def line_added(self, name: str, quantity: str, amount: int) -> tuple[str, str]:
        """The line's amount, its quantity beside it: "2 x" for pieces, "0,456 kg" for a
        weighed line (its amount is the line's, not a price per kilogram)."""
        if quantity in ("1", ""):
            left = ""
        elif quantity.endswith("kg"):
            left = quantity
        else:
            left = f"{quantity} x"
        return cut(name, self.width), spread(left, self.money(amount), self.width)

    def line_voided(self, name: str, total: int) -> tuple[str, str]:
        upper = cut(f"{self.words['void']} {name}", self.width)
        return upper, spread(self.words["total"], self.money(total), self.width)

    def total(self, due: int, cash_due: int | None = None) -> tuple[str, str]:
        """What is due; when cash rounding makes cash differ, the cash figure below."""
        upper = spread(self.words["total"], self.money(due), self.width)
        if cash_due is None or cash_due == due:
            return self.words["total"], spread("", self.money(due), self.width)
        return upper, spread(self.words["cash"], self.money(cash_due), self.width)

    def paid(self, paid: int, change: int) -> tuple[str, str]:
        upper = spread(self.words["paid"], self.money(paid), self.width)
        if change <= 0:
            return upper, cut(self.words["thanks"], self.width)
        return upper, spread(self.words["change"], self.money(change), self.width)

    def idle(self) -> tuple[str, str]:
        upper, lower = self.greeting
        if not upper and not lower:
            upper = self.words["welcome"]
        return cut(upper, self.width), cut(lower, self.width)
