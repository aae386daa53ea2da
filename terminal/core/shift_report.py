"""X and Z reports, shift cash and fraud signals, computed from journal entries.

The journal is the terminal's authoritative record (signed, gapless), so the reports are
a pure function of its entries: what a report says can be re-checked from an export of
the journal on another machine. Entries are dicts with ``type``, ``ts`` (ISO, UTC) and
``payload``, as ``terminal.store.journal.read_entries`` gives them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from terminal.core.errors import N_, PosError

# the events watched for fraud (seed 003), with the journal test that counts each
FRAUD_SIGNALS = {
    "late_voids": N_("Voids after the free window"),
    "cancellations": N_("Order cancellations"),
    "refunds_without_receipt": N_("Refunds without a receipt"),
    "no_sale_opens": N_("No-sale drawer opens"),
    "discount_overrides": N_("Discounts beyond the cashier's limit"),
}


class CountError(PosError):
    pass


def fraud_signal_of(entry: dict) -> str | None:
    """Which watched kind an entry is, if any."""
    kind, payload = entry["type"], entry["payload"]
    if kind == "line_void" and payload.get("late"):
        return "late_voids"
    if kind == "order_cancel":
        return "cancellations"
    if kind == "refund" and not payload.get("with_receipt", True):
        return "refunds_without_receipt"
    if kind == "no_sale":
        return "no_sale_opens"
    if kind == "discount_override":
        return "discount_overrides"
    return None


def crossed_threshold(count: int, threshold: int) -> bool:
    """A signal is raised once, when the count first goes beyond the threshold."""
    return threshold > 0 and count == threshold + 1


def count_cash(counts: dict[int, int], denominations: Iterable[int]) -> int:
    """The total of a blind count by denomination; unknown notes or negative counts refused."""
    allowed = set(denominations)
    total = 0
    for value, count in counts.items():
        if value not in allowed:
            raise CountError(N_("{value} is not a note or coin of this currency"), value=value)
        if count < 0:
            raise CountError(N_("A count cannot be negative"))
        total += value * count
    return total


@dataclass
class Report:
    """Totals over a set of journal entries (a shift, or the day since the last Z)."""

    first_seq: int = 0
    last_seq: int = 0
    sales: int = 0
    sales_total: int = 0  # what customers paid (after discounts, with cash rounding)
    by_tender: dict[str, int] = field(default_factory=dict)
    by_tax: dict[str, list[int]] = field(default_factory=dict)  # "PPN 11": [base, tax]
    by_hour: dict[int, list[int]] = field(default_factory=dict)  # local hour: [count, total]
    by_cashier: dict[int, list[int]] = field(default_factory=dict)  # id: [count, total]
    discounts: int = 0  # promotions are prices, not discounts: only what cashiers gave
    discount_overrides: int = 0
    voids: int = 0
    voids_amount: int = 0
    late_voids: int = 0
    cancellations: int = 0
    cancellations_amount: int = 0
    refunds: int = 0
    refunds_total: int = 0
    refunds_by_tender: dict[str, int] = field(default_factory=dict)
    no_sale_opens: int = 0
    cash_in: int = 0
    cash_out: int = 0
    opening_float: int = 0
    shifts_closed: int = 0
    counted_total: int = 0
    variance_total: int = 0
    fraud: list[dict] = field(default_factory=list)

    @property
    def expected_cash(self) -> int:
        """What the drawer should hold: float, cash taken, cash given back, in and out.
        (Meaningful for one shift: a day's Z report shows the shifts' counts instead.)"""
        return (
            self.opening_float
            + self.by_tender.get("cash", 0)
            - self.refunds_by_tender.get("cash", 0)
            + self.cash_in
            - self.cash_out
        )

    def to_payload(self) -> dict:
        """The totals, for the report's journal entry (signed with it)."""
        return {
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "sales": self.sales,
            "sales_total": self.sales_total,
            "by_tender": dict(sorted(self.by_tender.items())),
            "by_tax": {k: v for k, v in sorted(self.by_tax.items())},
            "by_cashier": {str(k): v for k, v in sorted(self.by_cashier.items())},
            "discounts": self.discounts,
            "voids": [self.voids, self.voids_amount],
            "cancellations": [self.cancellations, self.cancellations_amount],
            "refunds": [self.refunds, self.refunds_total],
            "no_sale_opens": self.no_sale_opens,
            "cash_in": self.cash_in,
            "cash_out": self.cash_out,
            "expected_cash": self.expected_cash,
            "shifts_closed": [self.shifts_closed, self.counted_total, self.variance_total],
            "fraud_signals": len(self.fraud),
        }


def _local_hour(ts: str, tz: tzinfo) -> int:
    return datetime.fromisoformat(ts).astimezone(tz).hour


def build_report(entries: Iterable[dict], tz: tzinfo) -> Report:
    report = Report()
    for entry in entries:
        kind, p = entry["type"], entry["payload"]
        report.first_seq = report.first_seq or entry["seq"]
        report.last_seq = entry["seq"]
        if kind == "sale":
            report.sales += 1
            report.sales_total += p["total"]
            for tender in p["tenders"]:
                report.by_tender[tender["kind"]] = (
                    report.by_tender.get(tender["kind"], 0) + tender["amount"]
                )
            for tax in p["taxes"]:
                slot = report.by_tax.setdefault(f"{tax['code']} {tax['rate']}", [0, 0])
                slot[0] += tax["base"]
                slot[1] += tax["amount"]
            hour = report.by_hour.setdefault(_local_hour(entry["ts"], tz), [0, 0])
            hour[0] += 1
            hour[1] += p["total"]
            who = report.by_cashier.setdefault(p["cashier"], [0, 0])
            who[0] += 1
            who[1] += p["total"]
            report.discounts += p.get("discount", 0)
        elif kind == "line_void":
            report.voids += 1
            report.voids_amount += p["amount"]
            report.late_voids += bool(p.get("late"))
        elif kind == "order_cancel":
            report.cancellations += 1
            report.cancellations_amount += p["total"]
        elif kind == "refund":
            report.refunds += 1
            report.refunds_total += p["amount"]
            for tender, amount in p["tenders"].items():
                report.refunds_by_tender[tender] = report.refunds_by_tender.get(tender, 0) + amount
            for tax in p.get("taxes", []):  # the tax totals are of sales less refunds
                slot = report.by_tax.setdefault(f"{tax['code']} {tax['rate']}", [0, 0])
                slot[0] -= tax["base"]
                slot[1] -= tax["amount"]
        elif kind == "discount_override":
            report.discount_overrides += 1
        elif kind == "no_sale":
            report.no_sale_opens += 1
        elif kind == "cash_in":
            report.cash_in += p["amount"]
        elif kind == "cash_out":
            report.cash_out += p["amount"]
        elif kind == "shift_open":
            report.opening_float += p["float"]
        elif kind == "shift_close":
            report.shifts_closed += 1
            report.counted_total += p["counted"]
            report.variance_total += p["variance"]
        elif kind == "fraud_signal":
            report.fraud.append(p)
    return report


def counts_by_cashier(entries: Iterable[dict]) -> dict[int, Counter]:
    """Fraud-watched events per cashier (``payload["cashier"]``)."""
    counts: dict[int, Counter] = defaultdict(Counter)
    for entry in entries:
        signal = fraud_signal_of(entry)
        if signal:
            counts[entry["payload"].get("cashier")][signal] += 1
    return counts
