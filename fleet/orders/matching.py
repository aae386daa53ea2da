"""Bank reconciliation: which credit line of a statement paid which open booking.

Rules (issue 18): credit lines only; a booking is paid by a line of exactly its amount
due (the unique code makes that amount the booking's) dated from the day it was booked
to its deadline's day; when several open bookings are due the same amount in that
window, the payer's name in the description decides (fuzzy, rapidfuzz), if one name
clearly wins; else the line is ambiguous. One line never pays two bookings and no
booking is paid twice; a line already used (the same key, from an earlier upload) is
left out. Nothing is applied here: the result is proposals, which a person confirms.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz

from fleet.orders.statements import StatementLine, payer_words

MATCHED, BY_NAME, AMBIGUOUS, UNMATCHED, USED, DEBIT = (
    "amount",
    "amount and name",
    "ambiguous",
    "no open booking of this amount",
    "already matched",
    "not a credit",
)
NAME_SCORE = 80  # rapidfuzz's token_set_ratio a name must reach
NAME_LEAD = 10  # ... and by how much it must beat the next booking's


@dataclass(frozen=True)
class OpenBooking:
    order: str  # the booking's number
    due: int  # the exact amount to pay, its unique code included (minor units)
    name: str  # the customer's name, to find in a transfer's description
    booked_at: datetime
    deadline: datetime


@dataclass(frozen=True)
class Proposal:
    line: StatementLine
    outcome: str  # one of the constants above
    booking: OpenBooking | None = None
    candidates: tuple[OpenBooking, ...] = field(default=())  # for a person to choose from
    score: float = 0.0


def _in_window(b: OpenBooking, line: StatementLine) -> bool:
    return b.booked_at.date() <= line.booked_on <= b.deadline.date()


def match(
    lines: Iterable[StatementLine],
    bookings: Iterable[OpenBooking],
    used: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[Proposal]:
    """A proposal for every line, in date order (then the file's order)."""
    by_amount: dict[int, list[OpenBooking]] = defaultdict(list)
    for booking in bookings:
        by_amount[booking.due].append(booking)
    taken: set[str] = set()
    proposals = []
    for line in sorted(lines, key=lambda ln: (ln.booked_on, ln.line_no)):
        if not line.is_credit:
            proposals.append(Proposal(line, DEBIT))
            continue
        if line.key in used:
            proposals.append(Proposal(line, USED))
            continue
        open_ = [
            b
            for b in by_amount.get(line.amount, ())
            if b.order not in taken and _in_window(b, line)
        ]
        if not open_:
            proposals.append(Proposal(line, UNMATCHED))
            continue
        if len(open_) == 1:
            taken.add(open_[0].order)
            proposals.append(Proposal(line, MATCHED, open_[0], score=100.0))
            continue
        payer = payer_words(line.description)
        scored = sorted(
            ((fuzz.token_set_ratio(payer, b.name.upper()), b) for b in open_),
            key=lambda sb: -sb[0],
        )
        best, runner_up = scored[0], scored[1]
        if best[0] >= NAME_SCORE and best[0] - runner_up[0] >= NAME_LEAD:
            taken.add(best[1].order)
            proposals.append(Proposal(line, BY_NAME, best[1], score=best[0]))
        else:
            proposals.append(Proposal(line, AMBIGUOUS, candidates=tuple(b for _s, b in scored)))
    return proposals
