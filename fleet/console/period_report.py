"""End-of-day and end-of-month reports for the stores a viewer sees, from the rollups the
ingest keeps (:class:`~fleet.models.SalesHour`, :class:`~fleet.models.CashierDay`,
:class:`~fleet.models.PaymentDay`, :class:`~fleet.models.TaxDay`,
:class:`~fleet.models.ProductDay`), the Z reports as the terminals journaled them, and
the fraud signals they sent. One period: a business day, or a calendar month of business
days. Every table is also a CSV (:func:`csv_table`)."""

from __future__ import annotations

import calendar
import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime

import peewee
from peewee import fn

from fleet.console.access import Viewer
from fleet.console.sales_now import product_names
from fleet.models import (
    CashierDay,
    DeviceEvent,
    PaymentDay,
    ProductDay,
    SalesHour,
    TaxDay,
    Terminal,
    ZReport,
)


@dataclass(frozen=True)
class Period:
    kind: str  # day | month
    first: date
    last: date

    @classmethod
    def parse(cls, kind: str, text: str, today: date) -> Period:
        """``day`` and ``2026-11-27``, or ``month`` and ``2026-11``; ValueError."""
        if kind == "month":
            year, month = (int(part) for part in (text or f"{today:%Y-%m}").split("-")[:2])
            days = calendar.monthrange(year, month)[1]
            return cls("month", date(year, month, 1), date(year, month, days))
        if kind != "day":
            raise ValueError("period: day or month")
        day = date.fromisoformat(text) if text else today
        return cls("day", day, day)

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m}" if self.kind == "month" else self.first.isoformat()


@dataclass
class Report:
    period: Period
    stores: list[dict] = field(default_factory=list)
    terminals: list[dict] = field(default_factory=list)
    cashiers: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    taxes: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    z_reports: list[dict] = field(default_factory=list)
    fraud: list[dict] = field(default_factory=list)

    TABLES = ("stores", "terminals", "cashiers", "payments", "taxes", "products", "z_reports")


def _figures(sums: tuple, currency: str) -> dict:
    """A store's or terminal's figures, named as the Z report names them: gross sales (the
    goods before discounts), discounts, refunds (count and goods), net sales (gross less
    discounts and refunds), the sales' tax; then what the tenders took and gave back."""
    sales, total, discount, refunds, refund_goods, tax, paid, refunded, voids = (
        int(x or 0) for x in sums
    )
    return {
        "currency": currency,
        "sales": sales,
        "gross_sales": total + discount,
        "discounts": discount,
        "refunds": refunds,
        "refunds_total": refund_goods,
        "net_sales": total - refund_goods,
        "sales_tax": tax,
        "taken": paid,
        "given_back": refunded,
        "voids": voids,
    }


def _within(model, period: Period, viewer: Viewer, store: str | None) -> peewee.Expression:
    clause = (model.business_day >= period.first) & (model.business_day <= period.last)
    clause &= viewer.stores_clause(model.store)
    if store:
        clause &= model.store == viewer.require_store(store)
    return clause


def build(db: peewee.Database, viewer: Viewer, period: Period, store: str | None) -> Report:
    report = Report(period)
    currency = {
        s: c
        for s, c in SalesHour.select(SalesHour.store, fn.MAX(SalesHour.currency))
        .where(_within(SalesHour, period, viewer, store))
        .group_by(SalesHour.store)
        .tuples()
        .bind(db)
    }
    sums = [
        fn.SUM(SalesHour.sales),
        fn.SUM(SalesHour.total),
        fn.SUM(SalesHour.discount),
        fn.SUM(SalesHour.refunds),
        fn.SUM(SalesHour.refund_goods),
        fn.SUM(SalesHour.tax),
        fn.SUM(SalesHour.paid),
        fn.SUM(SalesHour.refunded),
        fn.SUM(SalesHour.voids),
    ]
    for row in (
        SalesHour.select(SalesHour.store, *sums)
        .where(_within(SalesHour, period, viewer, store))
        .group_by(SalesHour.store)
        .order_by(SalesHour.store)
        .tuples()
        .bind(db)
    ):
        report.stores.append({"store": row[0], **_figures(row[1:], currency.get(row[0], ""))})
    for row in (
        SalesHour.select(SalesHour.store, SalesHour.terminal_id, *sums)
        .where(_within(SalesHour, period, viewer, store))
        .group_by(SalesHour.store, SalesHour.terminal_id)
        .order_by(SalesHour.store, SalesHour.terminal_id)
        .tuples()
        .bind(db)
    ):
        report.terminals.append(
            {"store": row[0], "terminal": row[1], **_figures(row[2:], currency.get(row[0], ""))}
        )
    cashier_sums = [
        fn.SUM(CashierDay.sales),
        fn.SUM(CashierDay.paid),
        fn.SUM(CashierDay.discount),
        fn.SUM(CashierDay.refunds),
        fn.SUM(CashierDay.refunded),
    ]
    for row in (
        CashierDay.select(
            CashierDay.store, CashierDay.terminal_id, CashierDay.cashier, *cashier_sums
        )
        .where(_within(CashierDay, period, viewer, store))
        .group_by(CashierDay.store, CashierDay.terminal_id, CashierDay.cashier)
        .order_by(CashierDay.store, CashierDay.terminal_id, CashierDay.cashier)
        .tuples()
        .bind(db)
    ):
        values = [int(x or 0) for x in row[3:]]
        report.cashiers.append(
            {
                "store": row[0],
                "terminal": row[1],
                "cashier": row[2] or "",
                "currency": currency.get(row[0], ""),
                **dict(
                    zip(("sales", "paid", "discount", "refunds", "refunded"), values, strict=True)
                ),
            }
        )
    for row in (
        PaymentDay.select(
            PaymentDay.store,
            PaymentDay.kind,
            fn.SUM(PaymentDay.payments),
            fn.SUM(PaymentDay.paid),
            fn.SUM(PaymentDay.refunded),
        )
        .where(_within(PaymentDay, period, viewer, store))
        .group_by(PaymentDay.store, PaymentDay.kind)
        .order_by(PaymentDay.store, PaymentDay.kind)
        .tuples()
        .bind(db)
    ):
        report.payments.append(
            {
                "store": row[0],
                "kind": row[1],
                "currency": currency.get(row[0], ""),
                "payments": int(row[2] or 0),
                "paid": int(row[3] or 0),
                "refunded": int(row[4] or 0),
            }
        )
    for row in (
        TaxDay.select(
            TaxDay.store,
            TaxDay.code,
            TaxDay.rate,
            fn.SUM(TaxDay.base),
            fn.SUM(TaxDay.amount),
        )
        .where(_within(TaxDay, period, viewer, store))
        .group_by(TaxDay.store, TaxDay.code, TaxDay.rate)
        .order_by(TaxDay.store, TaxDay.code, TaxDay.rate)
        .tuples()
        .bind(db)
    ):
        report.taxes.append(
            {
                "store": row[0],
                "code": row[1],
                "rate": row[2],
                "currency": currency.get(row[0], ""),
                "base": int(row[3] or 0),
                "tax": int(row[4] or 0),
            }
        )
    names_of = product_names(db)
    amount = fn.SUM(ProductDay.amount)
    for row in (
        ProductDay.select(
            ProductDay.store, ProductDay.sku, fn.SUM(ProductDay.quantity_milli), amount
        )
        .where(_within(ProductDay, period, viewer, store))
        .group_by(ProductDay.store, ProductDay.sku)
        .order_by(ProductDay.store, amount.desc(), ProductDay.sku)
        .tuples()
        .bind(db)
    ):
        report.products.append(
            {
                "store": row[0],
                "sku": row[1],
                "name": names_of.get(row[1], ""),
                "currency": currency.get(row[0], ""),
                "quantity": int(row[2] or 0) / 1000,
                "amount": int(row[3] or 0),
            }
        )
    for z in (
        ZReport.select()
        .where(_within(ZReport, period, viewer, store))
        .order_by(ZReport.store, ZReport.terminal_id, ZReport.number)
        .bind(db)
    ):
        figures = json.loads(z.figures_json)
        report.z_reports.append(
            {
                "store": z.store,
                "terminal": z.terminal_id,
                "number": z.number,
                "business_day": z.business_day.isoformat(),
                "currency": currency.get(z.store, ""),
                "sales": figures.get("sales", 0),
                "gross_sales": figures.get("gross_sales", 0),
                "discounts": figures.get("discounts", 0),
                "refunds": (figures.get("refunds") or [0, 0])[0],
                "refunds_total": (figures.get("refunds") or [0, 0])[1],
                "net_sales": figures.get("net_sales", 0),
                "tax": figures.get("tax", 0),
            }
        )
    report.fraud = _fraud(db, viewer, period, store)
    return report


def _fraud(db, viewer: Viewer, period: Period, store: str | None) -> list[dict]:
    """Fraud signals the terminals sent (per cashier and shift, in their detail)."""
    terminals = Terminal.select(Terminal.id).where(viewer.stores_clause(Terminal.store))
    if store:
        terminals = terminals.where(Terminal.store == store)
    start = datetime.combine(period.first, datetime.min.time())
    end = datetime.combine(period.last, datetime.max.time())
    rows = (
        DeviceEvent.select()
        .where(
            (DeviceEvent.kind == "fraud_signal")
            & DeviceEvent.terminal_id.in_(terminals)
            & (DeviceEvent.received_at >= start)
            & (DeviceEvent.received_at <= end)
        )
        .order_by(DeviceEvent.received_at)
        .bind(db)
    )
    return [{"terminal": e.terminal_id, "ts": e.ts, "detail": e.detail, "seq": e.seq} for e in rows]


def csv_table(report: Report, table: str) -> str:
    """One table of the report as CSV (amounts in the currency's minor units, with the
    currency in its own column, as a spreadsheet should get them)."""
    if table not in Report.TABLES:
        raise ValueError(f"table: one of {', '.join(Report.TABLES)}")
    rows = getattr(report, table)
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()
