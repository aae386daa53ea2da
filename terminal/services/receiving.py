"""Goods received at a terminal, and goods written off (issue 19): a supervisor scans the
delivered items with each one's quantity and cost per unit, or the damaged, expired or
lost ones with a reason; each is journaled like a sale - on the terminal first (it works
offline), reaching the fleet with the rest of the journal, where it moves the store's
stock (and, for a delivery, updates each product's moving-average cost)."""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.errors import N_, PosError
from terminal.core.inventory import WRITE_OFF_REASONS, check_received, quantity_text
from terminal.services.action_lines import log_action

MAX_LINES = 500


@dataclass(frozen=True)
class ReceivedLine:
    code: str  # as scanned or typed
    quantity: str  # "12", "2.5" (kg)
    unit_cost: int  # minor units per unit (per kg for weighed goods)


@dataclass(frozen=True)
class Received:
    seq: int  # the journal entry
    lines: int
    value: int  # the delivery at cost, in minor units


class Receiving:
    def __init__(self, pos) -> None:
        self.pos = pos

    def receive(self, lines: list[ReceivedLine], supplier: str = "", note: str = "") -> Received:
        """Journal one delivery. Refused, with nothing journaled: not a supervisor, no
        line, an unknown code, a quantity or cost that makes no sense (named by line)."""
        pos = self.pos
        who = pos.require_cashier()
        if not who.is_supervisor:
            raise PosError(N_("Receiving goods is a supervisor's"))
        if not lines:
            raise PosError(N_("Scan the delivered items first"))
        if len(lines) > MAX_LINES:
            raise PosError(N_("At most {n} lines in one delivery"), n=str(MAX_LINES))
        payload_lines, value = [], 0
        for n, line in enumerate(lines, start=1):
            product = pos.catalogue.lookup(line.code.strip()).product  # UnknownCode: said
            try:
                received = check_received(line.quantity, line.unit_cost)
            except ValueError:
                raise PosError(
                    N_("Line {n}: {quantity} of {sku} at {cost} is not a delivery"),
                    n=str(n),
                    quantity=line.quantity[:20],
                    sku=product.sku,
                    cost=str(line.unit_cost),
                ) from None
            payload_lines.append(
                {
                    "sku": product.sku,
                    "quantity": quantity_text(received),
                    "unit_cost": line.unit_cost,
                }
            )
            value += received * line.unit_cost // 1000
        payload = {
            "cashier": who.id,
            "supplier": supplier.strip()[:100],
            "note": note.strip()[:200],
            "lines": payload_lines,
            "value": value,
        }
        entry = pos.journal.append("receiving", payload, pos.clock())
        log_action(
            "goods received",
            "receiving",
            cashier=who.id,
            lines=len(payload_lines),
            value=value,
            seq=entry.seq,
        )
        return Received(entry.seq, len(payload_lines), value)

    def write_off(self, lines: list[tuple[str, str]], reason: str, note: str = "") -> int:
        """Goods out of stock without a sale: (code, quantity) each, with the reason
        (:data:`terminal.core.inventory.WRITE_OFF_REASONS`). A supervisor's; refused with
        nothing journaled as a delivery is. Returns the journal entry's number."""
        pos = self.pos
        who = pos.require_cashier()
        if not who.is_supervisor:
            raise PosError(N_("Writing goods off is a supervisor's"))
        if reason not in WRITE_OFF_REASONS:
            raise PosError(N_("Choose why the goods leave the stock"))
        if not lines:
            raise PosError(N_("Scan the goods first"))
        if len(lines) > MAX_LINES:
            raise PosError(N_("At most {n} lines in one delivery"), n=str(MAX_LINES))
        payload_lines = []
        for n, (code, quantity) in enumerate(lines, start=1):
            product = pos.catalogue.lookup(code.strip()).product
            try:
                taken = check_received(quantity, 0)
            except ValueError:
                raise PosError(
                    N_("Line {n}: {quantity} is not a quantity"), n=str(n), quantity=quantity[:20]
                ) from None
            payload_lines.append({"sku": product.sku, "quantity": quantity_text(taken)})
        payload = {
            "cashier": who.id,
            "reason": reason,
            "note": note.strip()[:200],
            "lines": payload_lines,
        }
        entry = pos.journal.append("write_off", payload, pos.clock())
        log_action(
            "goods written off",
            "write_off",
            cashier=who.id,
            reason=reason,
            lines=len(payload_lines),
            seq=entry.seq,
        )
        return entry.seq
