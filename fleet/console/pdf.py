"""A report as a printable PDF (fpdf2, pure Python), with the DejaVu font the receipt
printer's preview bundles, so names in any Latin or Cyrillic script print."""

from __future__ import annotations

from collections.abc import Callable

from fpdf import FPDF

from fleet.console.period_report import Report
from fleet.console.web import money
from fleet.fonts import BOLD, FONT
from fleet.orders.report import FIGURES, SHOPLESS, OnlineReport
from terminal.core.errors import N_

TABLES = (
    (
        "stores",
        ("store", "sales", "gross_sales", "discounts", "refunds_total", "net_sales", "taken"),
    ),
    (
        "terminals",
        ("terminal", "sales", "gross_sales", "discounts", "refunds_total", "net_sales", "taken"),
    ),
    ("cashiers", ("terminal", "cashier", "sales", "paid", "refunds", "refunded")),
    ("payments", ("store", "kind", "payments", "paid", "refunded")),
    ("taxes", ("store", "code", "rate", "base", "tax")),
    ("z_reports", ("terminal", "number", "business_day", "sales", "gross_sales", "net_sales")),
)
TITLES = {
    "stores": N_("Stores"),
    "terminals": N_("Terminals"),
    "cashiers": N_("Cashiers"),
    "payments": N_("Payments"),
    "taxes": N_("Tax by rate"),
    "z_reports": N_("Z reports as printed"),
}
COLUMNS = {
    "store": N_("Store"),
    "terminal": N_("Terminal"),
    "cashier": N_("Cashier"),
    "sales": N_("Sales"),
    "gross_sales": N_("Gross sales"),
    "discounts": N_("Discounts"),
    "refunds_total": N_("Refunds"),
    "net_sales": N_("Net sales"),
    "taken": N_("Taken"),
    "kind": N_("Type"),
    "payments": N_("Payments"),
    "paid": N_("Taken"),
    "refunded": N_("Given back"),
    "refunds": N_("Refunds"),
    "code": N_("Tax"),
    "rate": N_("Rate %"),
    "base": N_("Base"),
    "tax": N_("Tax"),
    "number": N_("Z"),
    "business_day": N_("Business day"),
}
MONEY = {
    "paid",
    "refunded",
    "tax",
    "discount",
    "base",
    "amount",
    "gross_sales",
    "discounts",
    "refunds_total",
    "net_sales",
    "taken",
}


def _titled(title: str) -> FPDF:
    """A landscape A4 report with its title printed: what every report's PDF starts as."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.add_font("Mono", "", str(FONT))
    pdf.add_font("Mono", "B", str(BOLD))
    pdf.set_auto_page_break(True, 12)
    pdf.add_page()
    pdf.set_font("Mono", "B", 13)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    return pdf


def _period(kind: str, label: str, store: str, _: Callable[[str], str]) -> str:
    what = _(N_("End of month")) if kind == "month" else _(N_("End of day"))
    return f"{what} {label}" + (f" · {store}" if store else "")


def report_pdf(report: Report, store: str, _: Callable[[str], str]) -> bytes:
    pdf = _titled(_period(report.period.kind, report.period.label, store, _))
    for table, columns in TABLES:
        rows = getattr(report, table)
        pdf.ln(3)
        pdf.set_font("Mono", "B", 10)
        pdf.cell(0, 6, _(TITLES[table]), new_x="LMARGIN", new_y="NEXT")
        width = (pdf.w - pdf.l_margin - pdf.r_margin) / len(columns)
        pdf.set_font("Mono", "B", 8)
        for column in columns:
            pdf.cell(width, 5, _(COLUMNS[column]), border="B")
        pdf.ln()
        pdf.set_font("Mono", "", 8)
        for row in rows:
            for column in columns:
                value = row.get(column, "")
                text = money(value, row.get("currency", "")) if column in MONEY else str(value)
                pdf.cell(width, 5, text[:40], align="R" if column in MONEY else "L")
            pdf.ln()
        if not rows:
            pdf.cell(0, 5, "—", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def online_report_pdf(report: OnlineReport, store: str, _: Callable[[str], str]) -> bytes:
    """The online orders' report (:class:`fleet.orders.report.OnlineReport`): a figure a
    line, a column per shop and the overall one, then the check against the Z reports."""
    columns = report.columns
    period = _period(report.kind, report.label, store, _)
    pdf = _titled(f"{_(N_('Online orders'))}: {period}")
    first = 78
    width = (pdf.w - pdf.l_margin - pdf.r_margin - first) / len(columns)
    pdf.set_font("Mono", "B", 8)
    pdf.cell(first, 5, "", border="B")
    for shop in columns:
        pdf.cell(width, 5, (shop.store or _(N_("All")))[:24], border="B", align="R")
    pdf.ln()
    pdf.set_font("Mono", "", 8)
    for key, heading, is_money in FIGURES:
        pdf.cell(first, 5, _(heading)[:44])
        for shop in columns:
            value = getattr(shop, key)
            text = money(value, shop.currency) if is_money else str(value)
            pdf.cell(width, 5, "—" if key in SHOPLESS and shop.store else text, align="R")
        pdf.ln()
    pdf.set_font("Mono", "B", 8)
    pdf.cell(first, 5, _(N_("Agrees with the Z reports")), border="T")
    for shop in columns:
        agrees = {None: N_("no Z report yet"), True: N_("yes"), False: N_("no")}[shop.agrees]
        pdf.cell(width, 5, _(agrees), border="T", align="R")
    pdf.ln()
    return bytes(pdf.output())
