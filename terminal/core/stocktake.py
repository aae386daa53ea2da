"""Stocktake (issue 19): counting the shelf. Shared by the terminal (which counts) and the
fleet (which opens a count, reviews it and posts its adjustments); no I/O here.

- A count is opened in the console for one store, for all products or some categories.
  The fleet hands it to the store's terminals as a job (``count_open``, its text made by
  :func:`job_text`); closing it (``count_close``) ends the counting there.
- A supervisor counts at any of those terminals, several at once: scans each item and
  types how many are on the shelf. **Blind**: the terminal never shows what the books
  expect, so the count is what is there, not what should be. Each list sent is one
  journal entry (``stock_count``); a product counted on two shelves, or at two
  terminals, is the sum of its counts.
- **Sales during the count**: the shop stays open. A product's expected figure is the
  ledger *at the moment it was counted* (its last count), so a sale before the count is
  out of both figures and a sale after it in neither; the movements between a
  product's first and last count are shown beside it for the reviewer (the shelf's
  parts were counted at different moments).
- The review shows each product's counted and expected figures and the difference; a
  person who may change stock posts the differences as ``stocktake`` movements (the
  approval: who and when, in the console's audit); a product of the count's scope that
  nobody counted is listed and left as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

COUNT_ID = re.compile(r"^C[0-9]{1,9}$")  # as the fleet numbers its counts
MAX_CATEGORIES_TEXT = 180  # the job's text is at most 200 characters
STOCKTAKE = "stocktake"  # the kind of an adjustment's movement


@dataclass(frozen=True)
class OpenCount:
    """A count the fleet opened: its id and the categories in it (none: every product)."""

    id: str
    categories: tuple[str, ...] = ()

    def covers(self, category: str) -> bool:
        return not self.categories or category in self.categories


def job_text(count_id: str, categories: list[str]) -> str:
    """The ``count_open`` job's text: ``C12`` or ``C12:Drinks,Snacks``. ValueError when
    a category holds a comma or a colon, or the list is too long for a job."""
    if not COUNT_ID.match(count_id):
        raise ValueError(f"{count_id!r} is not a count's id")
    clean = [c.strip() for c in categories if c.strip()]
    if any("," in c or ":" in c for c in clean):
        raise ValueError("a category's name holds a comma or a colon")
    listed = ",".join(clean)
    if len(listed) > MAX_CATEGORIES_TEXT:
        raise ValueError(f"at most {MAX_CATEGORIES_TEXT} characters of categories")
    return f"{count_id}:{listed}" if listed else count_id


def parse_job_text(text: str) -> OpenCount:
    """The count a ``count_open`` job names; ValueError for what is not one."""
    count_id, _, listed = text.partition(":")
    if not COUNT_ID.match(count_id):
        raise ValueError(f"{text[:40]!r} does not name a count")
    return OpenCount(count_id, tuple(c for c in listed.split(",") if c))


@dataclass(frozen=True)
class Counted:
    """One product's count in a journal entry: ``quantity`` in thousandths, at ``ts``."""

    sku: str
    quantity: int
    ts: datetime


@dataclass(frozen=True)
class Difference:
    """A product of the review: what was counted, what the ledger held at its last count,
    and the movements between its first and last count (for the reviewer)."""

    sku: str
    counted: int | None  # None: in the count's scope, not counted
    expected: int
    moved_during: int = 0

    @property
    def adjustment(self) -> int:
        """What posting moves: the shelf made to agree with the count (0: not counted)."""
        return 0 if self.counted is None else self.counted - self.expected


def review(
    counts: list[Counted],
    expected_at: dict[str, int],
    moved_during: dict[str, int],
    uncounted: dict[str, int],
) -> list[Difference]:
    """The review's rows: each counted product (its counts added up) against the ledger
    at its last count (``expected_at``), then the products of the scope nobody counted
    (``uncounted``: their stock now), by SKU."""
    totals: dict[str, int] = {}
    for c in counts:
        totals[c.sku] = totals.get(c.sku, 0) + c.quantity
    rows = [
        Difference(sku, total, expected_at.get(sku, 0), moved_during.get(sku, 0))
        for sku, total in sorted(totals.items())
    ]
    rows += [
        Difference(sku, None, held) for sku, held in sorted(uncounted.items()) if sku not in totals
    ]
    return rows
