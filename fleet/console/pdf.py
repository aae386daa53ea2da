"""A report as a printable PDF (fpdf2, pure Python), with the DejaVu font the receipt
printer's preview bundles, so names in any Latin or Cyrillic script print."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fpdf import FPDF

from fleet.console.period_report import Report
from fleet.console.web import money
from terminal.core.errors import N_

FONT = Path(__file__).resolve().parents[2] / "hal" / "printer" / "fonts" / "DejaVuSansMono.ttf"
BOLD = FONT.with_name("DejaVuSansMono-Bold.ttf")

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


def report_pdf(report: Report, store: str, _: Callable[[str], str]) -> bytes:
    pdf = FPDF(orientation="L", format="A4")
    pdf.add_font("Mono", "", str(FONT))
    pdf.add_font("Mono", "B", str(BOLD))
    pdf.set_auto_page_break(True, 12)
    pdf.add_page()
    pdf.set_font("Mono", "B", 13)
    what = _(N_("End of month")) if report.period.kind == "month" else _(N_("End of day"))
    title = f"{what} {report.period.label}" + (f" · {store}" if store else "")
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
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
