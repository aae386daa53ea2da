"""X, shift and Z reports laid out for the receipt printer."""

from __future__ import annotations

from datetime import datetime

from hal.printer.document import Document
from terminal.config import StoreSettings
from terminal.core.errors import N_
from terminal.core.shift_report import FRAUD_SIGNALS, Report
from terminal.i18n import Gettext

TENDER_NAMES = {"cash": N_("Cash"), "card": N_("Card"), "points": N_("Points")}


def build_report_doc(
    report: Report,
    *,
    kind: str,  # X | SHIFT | Z
    number: int | None,
    journal_seq: int | str | None,  # as printed: 154, or 2/154 in a later epoch
    at: datetime,
    journal_hash: str = "",
    store: StoreSettings,
    terminal_id: str,
    gettext: Gettext,
    columns: int = 48,
    counted: int | None = None,
    show_expected: bool = True,
) -> Document:
    """``show_expected``: False on an X report a cashier prints, so the blind count at
    the shift's close stays blind."""
    _ = gettext
    money = lambda amount: store.currency.format(amount, receipt=True)  # noqa: E731
    doc = Document(columns=columns)
    doc.line(store.name, align="center", bold=True)
    titles = {
        "X": _("X REPORT (no reset)"),
        "SHIFT": _("SHIFT CLOSE {n}").format(n=number),
        "Z": _("Z REPORT {n}").format(n=number),
    }
    doc.line(titles[kind], align="center", bold=True, size="tall")
    doc.pair(
        _("Terminal {id}").format(id=terminal_id),
        at.astimezone(store.timezone).strftime("%d-%m-%Y %H:%M"),
    )
    doc.pair(_("Journal entries"), f"{report.first_seq}-{report.last_seq}")
    doc.rule()
    doc.pair(_("Sales"), str(report.sales))
    doc.pair(_("Sales total"), money(report.sales_total), bold=True)
    for tender, amount in sorted(report.by_tender.items()):
        doc.pair("  " + _(TENDER_NAMES.get(tender, tender)), money(amount))
    doc.line(_("By tax rate"))
    for rate, (base, tax) in sorted(report.by_tax.items()):
        code, pct = rate.split(" ")
        doc.pair(f"  {code} {pct}% " + _("of {base}").format(base=money(base)), money(tax))
    doc.line(_("By hour"))
    for hour, (count, total) in sorted(report.by_hour.items()):
        doc.pair(f"  {hour:02d}:00  x{count}", money(total))
    doc.line(_("By cashier"))
    for cashier, (count, total) in sorted(report.by_cashier.items()):
        doc.pair(f"  #{cashier}  x{count}", money(total))
    doc.rule()
    doc.pair(_("Discounts given"), money(report.discounts))
    doc.pair(_("Discount overrides"), str(report.discount_overrides))
    doc.pair(
        _("Voids ({late} late)").format(late=report.late_voids),
        f"{report.voids}  {money(report.voids_amount)}",
    )
    doc.pair(_("Cancellations"), f"{report.cancellations}  {money(report.cancellations_amount)}")
    doc.pair(_("Refunds"), f"{report.refunds}  {money(report.refunds_total)}")
    doc.pair(_("No-sale opens"), str(report.no_sale_opens))
    doc.rule()
    if kind != "Z":
        doc.pair(_("Opening float"), money(report.opening_float))
    doc.pair(_("Cash in"), money(report.cash_in))
    doc.pair(_("Cash out"), money(report.cash_out))
    if kind == "Z":  # several shifts: each was counted at its close
        doc.pair(_("Shifts closed"), str(report.shifts_closed))
        doc.pair(_("Counted cash"), money(report.counted_total))
        doc.pair(_("Variance"), money(report.variance_total), bold=True)
    elif show_expected:
        doc.pair(_("Expected cash"), money(report.expected_cash), bold=True)
    if counted is not None:
        doc.pair(_("Counted cash"), money(counted), bold=True)
        doc.pair(_("Variance"), money(counted - report.expected_cash), bold=True)
    if report.fraud:
        doc.rule()
        doc.line(_("FRAUD SIGNALS"), bold=True)
        for signal in report.fraud:
            doc.line(
                "  #{cashier}: {what} {count} > {threshold}".format(
                    cashier=signal["cashier"],
                    what=_(FRAUD_SIGNALS.get(signal["signal"], signal["signal"])),
                    count=signal["count"],
                    threshold=signal["threshold"],
                )
            )
    if journal_seq is not None:
        doc.rule()
        doc.pair(_("Journal {seq}").format(seq=journal_seq), journal_hash or _("signed"))
    doc.feed()
    return doc
