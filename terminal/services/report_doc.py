"""X, shift and Z reports laid out for the receipt printer (and, as text lines, for the
screen). Every figure comes from :class:`terminal.core.reconcile.Figures`, and each
section adds up on its face: amounts taken off print with a minus, so a column's lines
add to the total printed under them."""

from __future__ import annotations

from datetime import datetime

from hal.printer.document import Document
from terminal.config import StoreSettings, cash_reason_label
from terminal.core.errors import N_
from terminal.core.reconcile import Drawer, Figures
from terminal.core.shift_report import FRAUD_SIGNALS
from terminal.i18n import Gettext

TENDER_NAMES = {
    "cash": N_("Cash"),
    "card": N_("Card"),
    "points": N_("Points"),
    "bank_transfer": N_("Bank transfer"),
}


def build_report_doc(
    figures: Figures,
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
    show_expected: bool = True,
    cashier_names: dict[int, str] | None = None,
) -> Document:
    """``show_expected``: False on an X report a cashier prints or looks at, so the
    blind count at the shift's close stays blind."""
    _ = gettext
    f = figures
    names = cashier_names or {}
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
    if f.first_ts:  # from the first entry it covers to the report
        start = datetime.fromisoformat(f.first_ts).astimezone(store.timezone)
        end = at.astimezone(store.timezone)
        shown = end.strftime("%H:%M" if end.date() == start.date() else "%d-%m %H:%M")
        doc.pair(_("Period"), f"{start:%d-%m-%Y %H:%M} - {shown}")
    doc.pair(_("Journal entries"), f"{f.first_seq}-{f.last_seq}")

    # sales: gross - discounts - refunds = net
    doc.rule()
    doc.line(_("SALES"), bold=True)
    doc.pair(_("Sales"), str(f.sales))
    doc.pair(_("Gross sales"), money(f.gross_sales))
    doc.pair(_("Discounts"), money(-f.discounts))
    doc.pair(_("Refunds ({n})").format(n=f.refunds), money(-f.refunds_total))
    doc.pair(_("Net sales"), money(f.net_sales), bold=True)

    # tax on the same basis as net sales
    doc.rule()
    doc.line(
        _("TAX IN NET SALES (INCLUDED IN PRICES)")
        if f.prices_include_tax
        else _("TAX ON NET SALES (ADDED TO PRICES)"),
        bold=True,
    )
    for rate in f.rates_in_order():
        doc.pair(
            f"{rate.code} {rate.rate}% " + _("of {base}").format(base=money(rate.base)),
            money(rate.tax),
        )
    doc.pair(_("Tax total"), money(f.tax))
    doc.pair(_("Net sales before tax"), money(f.net_sales_before_tax))

    # payments: per tender taken - refunded = net; their sum = net sales + cash rounding
    doc.rule()
    doc.line(_("PAYMENTS"), bold=True)
    for tender, totals in f.tenders_in_order():
        name = _(TENDER_NAMES.get(tender, tender))
        doc.pair(_("{tender} taken").format(tender=name), money(totals.taken))
        doc.pair(_("{tender} refunded").format(tender=name), money(-totals.refunded))
        doc.pair(_("{tender} net").format(tender=name), money(totals.net), bold=True)
    doc.pair(_("Payments net"), money(f.payments_net), bold=True)
    doc.pair("  = " + _("Net sales"), money(f.net_sales))
    doc.pair("  + " + _("Cash rounding"), money(f.cash_rounding))

    # the drawer of each shift
    drawers = f.drawers_in_order()
    for drawer in drawers:
        doc.rule()
        _drawer(doc, drawer, _, money, names, show_expected=show_expected)
    if len(drawers) > 1 and show_expected:
        doc.rule()
        doc.line(_("ALL SHIFTS"), bold=True)
        doc.pair(_("Expected cash"), money(f.expected_cash))
        if f.counted_cash is not None:
            doc.pair(_("Counted cash"), money(f.counted_cash))
            doc.pair(_("Variance"), money(f.variance or 0), bold=True)

    # what is counted, not summed
    doc.rule()
    doc.line(_("EVENTS"), bold=True)
    doc.pair(
        _("Voids ({late} late)").format(late=f.late_voids),
        f"{f.voids}  {money(f.voids_amount)}",
    )
    doc.pair(_("Cancellations"), f"{f.cancellations}  {money(f.cancellations_amount)}")
    doc.pair(_("No-sale opens"), str(f.no_sale_opens))
    doc.pair(_("Receipt reprints"), str(f.reprints))
    doc.pair(_("Discount overrides"), str(f.discount_overrides))

    # who and when: each adds up to the payments taken
    doc.rule()
    doc.line(_("By hour"), bold=True)
    for hour, (count, total) in sorted(f.by_hour.items()):
        doc.pair(f"  {hour:02d}:00  x{count}", money(total))
    doc.line(_("By cashier"), bold=True)
    for cashier, (count, total) in sorted(f.by_cashier.items()):
        who = f"#{cashier} {names.get(cashier, '')}".rstrip()
        doc.pair(f"  {who}  x{count}", money(total))
    if f.fraud:
        doc.rule()
        doc.line(_("FRAUD SIGNALS"), bold=True)
        for signal in f.fraud:
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


def _drawer(doc: Document, d: Drawer, _, money, names, *, show_expected: bool) -> None:
    """float + cash net + cash in - cash out = expected; the count; counted - expected."""
    title = _("CASH DRAWER, SHIFT {n}").format(n=d.shift)
    who = f"#{d.cashier} {names.get(d.cashier, '')}".rstrip() if d.cashier else ""
    doc.pair(title, who, bold=True)
    doc.pair(_("Opening float"), money(d.opening_float))
    doc.pair(_("{tender} net").format(tender=_("Cash")), money(d.cash_net))
    doc.pair(_("Cash in"), money(d.cash_in_total))
    for reason, amount in sorted(d.cash_in.items()):
        doc.pair("  " + cash_reason_label(reason, _), money(amount))
    doc.pair(_("Cash out"), money(-d.cash_out_total))
    for reason, amount in sorted(d.cash_out.items()):
        doc.pair("  " + cash_reason_label(reason, _), money(-amount))
    if show_expected:
        doc.pair(_("Expected cash"), money(d.expected), bold=True)
    if d.closed:
        doc.line(_("Counted by denomination"))
        for value, count in sorted(d.counts.items(), reverse=True):
            doc.pair(f"  {money(value)} x {count}", money(value * count))
        doc.pair(_("Counted cash"), money(d.counted or 0), bold=True)
        if show_expected:
            doc.pair(_("Variance"), money(d.variance or 0), bold=True)
