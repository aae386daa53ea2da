"""Counting the shelf at a terminal (issue 19, :mod:`terminal.core.stocktake`): a
supervisor counts for a count the fleet opened (``count_open`` job), blind - what the
books expect is never shown - scanning each item and typing how many there are. Each
list sent is journaled as a ``stock_count`` entry, like a sale: on the terminal first
(counting works offline), reaching the fleet with the rest of the journal, where the
count is reviewed and its differences posted."""

from __future__ import annotations

from terminal.core.errors import N_, PosError
from terminal.core.inventory import check_counted, quantity_text
from terminal.core.stocktake import OpenCount
from terminal.services.action_lines import log_action
from terminal.store import stock_counts

MAX_LINES = 500


class StockCounting:
    def __init__(self, pos) -> None:
        self.pos = pos

    def open_counts(self) -> list[OpenCount]:
        return stock_counts.open_counts(self.pos.db)

    def count_for(self, count_id: str) -> OpenCount:
        for count in self.open_counts():
            if count.id == count_id:
                return count
        raise PosError(N_("Count {count} is not open at this terminal"), count=count_id[:12])

    def product(self, count: OpenCount, code: str):
        """The product a scanned code names, when the count covers it; PosError (or
        UnknownCode) with the reason otherwise."""
        product = self.pos.catalogue.lookup(code.strip()).product
        if not count.covers(product.category):
            raise PosError(
                N_("{name} is not in this count ({categories})"),
                name=product.name,
                categories=", ".join(count.categories),
            )
        return product

    def count(self, count_id: str, lines: list[tuple[str, str]]) -> int:
        """Journal one counted list: (code, quantity on the shelf) each; 0 is a count
        (the shelf is empty). A supervisor's; refused with nothing journaled for a code
        out of the count, a quantity that is not one, no line. Returns the entry's seq."""
        pos = self.pos
        who = pos.require_cashier()
        if not who.is_supervisor:
            raise PosError(N_("Counting stock is a supervisor's"))
        count = self.count_for(count_id)
        if not lines:
            raise PosError(N_("Scan the goods first"))
        if len(lines) > MAX_LINES:
            raise PosError(N_("At most {n} lines in one list"), n=str(MAX_LINES))
        payload_lines = []
        for n, (code, quantity) in enumerate(lines, start=1):
            product = self.product(count, code)
            try:
                counted = check_counted(quantity)
            except ValueError:
                raise PosError(
                    N_("Line {n}: {quantity} is not a quantity"), n=str(n), quantity=quantity[:20]
                ) from None
            payload_lines.append({"sku": product.sku, "quantity": quantity_text(counted)})
        payload = {"count": count.id, "cashier": who.id, "lines": payload_lines}
        entry = pos.journal.append("stock_count", payload, pos.clock())
        log_action(
            "stock counted",
            "stock_count",
            cashier=who.id,
            count=count.id,
            lines=len(payload_lines),
            seq=entry.seq,
        )
        return entry.seq
