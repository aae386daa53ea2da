"""The online orders' end-of-day and end-of-month figures, per shop (store) and overall.

What is counted, each in the period:

- **drop orders** of a shop's desk: requested, handed over, returned (by when each
  happened);
- **book orders** made (count and price), cancelled and released (by when they closed);
- **online sales**: the terminals' sales that sold a booking (the sale's label is on the
  booking, written when its journal entry arrived: ``desk._sell``), and the refunds of
  those sales;
- **statement lines** (by their booking date): matched (a booking's ``paid_line``: the
  booking's shop) and unmatched (no shop: in the overall figures, and only for a viewer
  who sees every shop);
- **the other transactions**: the shop's sales and refunds that are not online ones.

Online and other sales are read from the central sale and refund rows by their business
day (the store's, as the terminals keep it), so that online net + other net is the
shop's net sales as its Z reports of those days say: :attr:`ShopFigures.agrees`.
Drop orders and bookings are counted by the days of ``timezone`` (the online orders'
``[orders] timezone``). Nothing personal is read: no customer, no description.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import peewee
from peewee import fn

from fleet.central import store_currencies
from fleet.models import Booking, DropOrder, Refund, Sale, StatementLineRow, ZReport
from terminal.core.errors import N_

if TYPE_CHECKING:  # the console's viewer: whose shops (its store clause)
    from fleet.console.access import Viewer

OVERALL = ""  # the store of the overall figures


@dataclass
class ShopFigures:
    """One shop's figures in a period (``store`` "": every shop the viewer sees)."""

    store: str
    currency: str = "IDR"
    drops_requested: int = 0
    drops_handed: int = 0
    drops_returned: int = 0
    bookings: int = 0
    bookings_amount: int = 0
    cancelled: int = 0
    cancelled_amount: int = 0
    released: int = 0
    released_amount: int = 0
    online_sales: int = 0
    online_amount: int = 0
    online_refunds: int = 0
    online_refunded: int = 0
    lines_matched: int = 0
    lines_matched_amount: int = 0
    lines_unmatched: int = 0
    lines_unmatched_amount: int = 0
    other_sales: int = 0
    other_amount: int = 0
    other_refunds: int = 0
    other_refunded: int = 0
    z_reports: int = 0
    z_net_sales: int = 0

    @property
    def online_net(self) -> int:
        return self.online_amount - self.online_refunded

    @property
    def other_net(self) -> int:
        return self.other_amount - self.other_refunded

    @property
    def net_sales(self) -> int:
        """Online and other transactions together: the shop's net sales."""
        return self.online_net + self.other_net

    @property
    def agrees(self) -> bool | None:
        """Whether online + other is the net sales of the period's Z reports (None: no Z
        report yet, the day is not closed)."""
        return None if not self.z_reports else self.net_sales == self.z_net_sales

    def row(self) -> dict:
        """The figures as one CSV row (amounts in minor units, the currency beside)."""
        values = asdict(self)
        values.update(
            online_net=self.online_net,
            other_net=self.other_net,
            net_sales=self.net_sales,
            agrees="" if self.agrees is None else ("yes" if self.agrees else "no"),
        )
        values["store"] = self.store or "ALL"
        return values

    def add(self, other: ShopFigures) -> None:
        for f in fields(self):
            if f.name not in ("store", "currency"):
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class OnlineReport:
    kind: str  # day | month
    first: date
    last: date
    shops: list[ShopFigures]
    overall: ShopFigures

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m}" if self.kind == "month" else self.first.isoformat()

    @property
    def columns(self) -> list[ShopFigures]:
        """The shops, then the overall figures: only where every shop counts in one
        currency (tögrög and rupiah are never added together)."""
        if len({shop.currency for shop in self.shops}) > 1:
            return list(self.shops)
        return [*self.shops, self.overall]


def _bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The period's local days as UTC without a zone, as the fleet stores times."""
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    return (start.astimezone(UTC).replace(tzinfo=None), end.astimezone(UTC).replace(tzinfo=None))


def _shop(shops: dict[str, ShopFigures], store: str) -> ShopFigures:
    if store not in shops:
        shops[store] = ShopFigures(store)
    return shops[store]


def build(
    db: peewee.Database,
    viewer: Viewer,
    kind: str,
    first: date,
    last: date,
    timezone: ZoneInfo,
    store: str | None = None,
) -> OnlineReport:
    """The figures of the shops ``viewer`` sees (only ``store``'s, given one: NotFound
    when the viewer does not see it) from ``first`` to ``last``."""
    if store:
        viewer.require_store(store)
    start, end = _bounds(first, last, timezone)
    shops: dict[str, ShopFigures] = {}

    def mine(column: peewee.Field) -> peewee.Expression:
        clause = viewer.stores_clause(column)
        if clause is True:
            clause = column.is_null(False)
        return clause & (column == store) if store else clause

    def within(column: peewee.Field) -> peewee.Expression:
        return (column >= start) & (column < end)

    for name, column in (
        ("drops_requested", DropOrder.requested_at),
        ("drops_handed", DropOrder.handed_at),
        ("drops_returned", DropOrder.returned_at),
    ):
        query = (
            DropOrder.select(DropOrder.desk, fn.COUNT(DropOrder.id))
            .where(within(column) & mine(DropOrder.desk))
            .group_by(DropOrder.desk)
        )
        for desk, count in query.tuples().bind(db):
            setattr(_shop(shops, desk), name, int(count))
    made = (
        Booking.select(Booking.desk, fn.COUNT(Booking.order_no), fn.SUM(Booking.price))
        .where(within(Booking.booked_at) & mine(Booking.desk))
        .group_by(Booking.desk)
    )
    for desk, count, amount in made.tuples().bind(db):
        shop = _shop(shops, desk)
        shop.bookings, shop.bookings_amount = int(count), int(amount or 0)
    for state in ("cancelled", "released"):
        closed = (
            Booking.select(Booking.desk, fn.COUNT(Booking.order_no), fn.SUM(Booking.price))
            .where((Booking.state == state) & within(Booking.closed_at) & mine(Booking.desk))
            .group_by(Booking.desk)
        )
        for desk, count, amount in closed.tuples().bind(db):
            setattr(_shop(shops, desk), state, int(count))
            setattr(_shop(shops, desk), f"{state}_amount", int(amount or 0))
    _sales(db, shops, first, last, mine)
    _lines(db, shops, first, last, mine)
    overall = ShopFigures(OVERALL)
    if viewer.stores is None and not store:
        unmatched = (
            StatementLineRow.select(fn.COUNT(StatementLineRow.key), fn.SUM(StatementLineRow.amount))
            .join(Booking, peewee.JOIN.LEFT_OUTER, on=(Booking.paid_line == StatementLineRow.key))
            .where(
                (StatementLineRow.booked_on >= first)
                & (StatementLineRow.booked_on <= last)
                & (StatementLineRow.amount > 0)
                & Booking.order_no.is_null()
            )
        )
        count, amount = unmatched.tuples().bind(db).get()
        overall.lines_unmatched, overall.lines_unmatched_amount = int(count), int(amount or 0)
    currency = store_currencies(db, list(shops))
    ordered = [shops[name] for name in sorted(shops)]
    for shop in ordered:
        shop.currency = currency.get(shop.store) or "IDR"
        overall.add(shop)
    if ordered:
        overall.currency = ordered[0].currency
    return OnlineReport(kind, first, last, ordered, overall)


def _sales(db, shops: dict[str, ShopFigures], first: date, last: date, mine) -> None:
    """Sales and refunds of the shops' business days, online or other, and their Z
    reports' net sales."""
    online = Booking.select(Booking.sale).where((Booking.state == "sold") & (Booking.sale != ""))
    days = (Sale.business_day >= first) & (Sale.business_day <= last)
    refund_days = (Refund.business_day >= first) & (Refund.business_day <= last)
    of_online = Refund.sale_label.in_(online)
    counted = (
        (Sale, Sale.total, days, Sale.label.in_(online), ("online_sales", "online_amount")),
        (Sale, Sale.total, days, Sale.label.not_in(online), ("other_sales", "other_amount")),
        (Refund, Refund.amount, refund_days, of_online, ("online_refunds", "online_refunded")),
        (
            Refund,
            Refund.amount,
            refund_days,
            ~of_online | Refund.sale_label.is_null(),
            ("other_refunds", "other_refunded"),
        ),
    )
    for model, amount_of, when, clause, (count_name, amount_name) in counted:
        rows = (
            model.select(model.store, fn.COUNT(model.seq), fn.SUM(amount_of))
            .where(when & mine(model.store) & clause)
            .group_by(model.store)
        )
        for store, count, amount in rows.tuples().bind(db):
            shop = _shop(shops, store)
            setattr(shop, count_name, int(count))
            setattr(shop, amount_name, int(amount or 0))
    z_days = (ZReport.business_day >= first) & (ZReport.business_day <= last)
    for z in ZReport.select().where(z_days & mine(ZReport.store)).bind(db):
        if z.store not in shops:
            continue  # a Z of a shop without any transaction or order in the period
        shop = shops[z.store]
        shop.z_reports += 1
        shop.z_net_sales += int(json.loads(z.figures_json).get("net_sales", 0))


def _lines(db, shops: dict[str, ShopFigures], first: date, last: date, mine) -> None:
    """Statement lines of the period that paid a shop's booking."""
    rows = (
        StatementLineRow.select(
            Booking.desk, fn.COUNT(StatementLineRow.key), fn.SUM(StatementLineRow.amount)
        )
        .join(Booking, on=(Booking.paid_line == StatementLineRow.key))
        .where(
            (StatementLineRow.booked_on >= first)
            & (StatementLineRow.booked_on <= last)
            & mine(Booking.desk)
        )
        .group_by(Booking.desk)
    )
    for desk, count, amount in rows.tuples().bind(db):
        shop = _shop(shops, desk)
        shop.lines_matched, shop.lines_matched_amount = int(count), int(amount or 0)


def csv_text(report: OnlineReport) -> str:
    """The report as CSV: a row per shop, then the overall row (store ``ALL``) where the
    shops share one currency."""
    out = io.StringIO()
    rows = [shop.row() for shop in report.columns]
    writer = csv.DictWriter(out, fieldnames=["period", *rows[0]], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({"period": report.label, **row})
    return out.getvalue()


# the figures as the page, the PDF and the CSV's readers name them: (field, label, money)
FIGURES: tuple[tuple[str, str, bool], ...] = (
    ("drops_requested", N_("Drop orders requested"), False),
    ("drops_handed", N_("Drop orders handed over"), False),
    ("drops_returned", N_("Drop orders returned"), False),
    ("bookings", N_("Book orders made"), False),
    ("bookings_amount", N_("Book orders made: prices"), True),
    ("cancelled", N_("Book orders cancelled"), False),
    ("cancelled_amount", N_("Book orders cancelled: prices"), True),
    ("released", N_("Book orders released"), False),
    ("released_amount", N_("Book orders released: prices"), True),
    ("lines_matched", N_("Statement lines matched"), False),
    ("lines_matched_amount", N_("Statement lines matched: amount"), True),
    ("lines_unmatched", N_("Statement lines unmatched"), False),
    ("lines_unmatched_amount", N_("Statement lines unmatched: amount"), True),
    ("online_sales", N_("Online sales"), False),
    ("online_amount", N_("Online sales: amount"), True),
    ("online_refunds", N_("Refunds of online sales"), False),
    ("online_refunded", N_("Refunds of online sales: amount"), True),
    ("online_net", N_("Online sales, net"), True),
    ("other_sales", N_("Other sales"), False),
    ("other_amount", N_("Other sales: amount"), True),
    ("other_refunds", N_("Other refunds"), False),
    ("other_refunded", N_("Other refunds: amount"), True),
    ("other_net", N_("Other transactions, net"), True),
    ("net_sales", N_("Net sales: online + other"), True),
    ("z_reports", N_("Z reports"), False),
    ("z_net_sales", N_("Net sales as the Z reports say"), True),
)
SHOPLESS = frozenset({"lines_unmatched", "lines_unmatched_amount"})  # no shop's: overall only
