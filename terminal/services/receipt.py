"""The customer receipt, laid out as a printer document."""

from __future__ import annotations

from decimal import Decimal

from hal.printer.document import Document
from terminal.config import StoreSettings
from terminal.core.catalogue import format_quantity
from terminal.core.sale import CommittedSale
from terminal.i18n import Gettext
from terminal.services.fiscal_receipt import FiscalBlock, add_fiscal_block


def build_receipt(
    done: CommittedSale,
    store: StoreSettings,
    gettext: Gettext,
    *,
    columns: int = 48,
    logo: str = "",
    copy: int = 0,
    fiscal: FiscalBlock | None = None,
) -> Document:
    """The receipt of ``done``. ``copy``: 0 for the original, n for the n-th reprint: the
    same document, marked COPY n (a copy is built from the stored sale, which keeps all
    that the original printed: the card terminal's slip, the member's points).
    ``fiscal``: the e-barimt block, in a shop that registers its receipts."""
    _ = gettext
    sale = done.sale
    cur = store.currency
    money = lambda amount: cur.format(amount, receipt=True)  # noqa: E731
    doc = Document(columns=columns)
    if logo:
        doc.logo(logo)
    if copy:
        doc.line(_("COPY {n}").format(n=copy), align="center", bold=True, size="tall")
    doc.line(store.name, align="center", bold=True, size="tall")
    for text in store.address:
        doc.line(text, align="center")
    if store.tax_id:
        doc.line(store.tax_id, align="center")
    doc.rule()
    when = sale.created_at.astimezone(store.timezone).strftime("%d-%m-%Y %H:%M")
    doc.pair(_("No. {number}").format(number=done.label), when)
    doc.pair(
        _("Cashier: {name}").format(name=sale.cashier_name),
        _("Terminal {id}").format(id=sale.terminal_id),
    )
    doc.rule()
    for line in sale.lines:
        # the line at its regular price, then what came off it
        shown = line.regular_amount or line.amount
        if line.quantity == 1 and not line.sold_by_weight:
            doc.pair(line.name, money(shown))
        else:
            doc.line(line.name)
            qty = format_quantity(line.quantity, line.sold_by_weight, cur.decimal_sep)
            doc.pair(f"  {qty} x {money(line.unit_price)}", money(shown))
        promo = shown - line.amount - line.discount
        if line.promotion and promo:
            doc.pair(f"  {line.promotion}", money(-promo))
        own = line.own_discount
        if own:
            doc.pair("  " + _("Discount"), money(-own))
    if sale.transaction_discount:
        doc.pair(_("Discount on the sale"), money(-sale.transaction_discount))
    doc.rule()
    taxes = sale.taxes
    if not sale.prices_include_tax:
        doc.pair(_("Subtotal"), money(taxes.net))
        for r in taxes.per_rate:
            doc.pair(f"{r.tax.name} {_rate(r.tax.rate)}%", money(r.amount))
    doc.pair(_("TOTAL"), money(taxes.gross), bold=True, size="tall")
    payment = sale.payment
    if payment.rounding:
        doc.pair(_("Cash rounding"), money(payment.rounding))
        doc.pair(_("To pay"), money(payment.payable), bold=True)
    for tender in payment.tenders:
        if tender.kind == "card":
            pan = tender.card.masked_pan if tender.card else ""
            doc.pair(_("Card") + (f" {pan[-8:]}" if pan else ""), money(tender.amount))
        elif tender.kind == "points":
            doc.pair(_("Points ({n})").format(n=tender.points), money(tender.amount))
        elif tender.kind == "bank_transfer":
            doc.pair(_("Bank transfer"), money(tender.amount))
            doc.line("  " + _("Online order {order}").format(order=tender.reference))
    if payment.paid_by("cash"):
        doc.pair(_("Cash"), money(payment.tendered))
        doc.pair(_("Change"), money(payment.change), bold=True)
    savings = sum((line.regular_amount or line.amount) - line.amount for line in sale.lines)
    if savings > 0:
        doc.line(_("You saved {amount}").format(amount=money(savings)), align="center")
    if sale.prices_include_tax and taxes.per_rate:
        doc.rule()
        doc.line(_("Prices include tax:"))
        for r in taxes.per_rate:
            doc.pair(
                f"  {r.tax.name} {_rate(r.tax.rate)}% " + _("of {base}").format(base=money(r.base)),
                money(r.amount),
            )
    if sale.points_balance is not None:
        doc.rule()
        doc.pair(_("Points earned"), str(sale.points_earned))
        doc.pair(_("Points balance"), str(sale.points_balance))
    for tender in payment.tenders:
        if tender.card and tender.card.receipt_lines:
            doc.rule()
            for text in tender.card.receipt_lines:
                doc.line(text)
    if fiscal is not None:
        add_fiscal_block(doc, fiscal, gettext)
    doc.rule()
    doc.pair(_("Journal {seq}").format(seq=done.journal_label), done.journal_hash)
    doc.line(_("Return code"), align="center")
    doc.barcode(done.return_code)
    doc.qr(done.return_code)
    doc.feed()
    for text in store.receipt_footer:
        doc.line(text, align="center")
    return doc


def _rate(rate: Decimal) -> str:
    return f"{rate.normalize():f}"
