""" "Sales now": today's takings of the stores a viewer sees, from the rollups the ingest
keeps (:class:`~fleet.models.SalesHour`, :class:`~fleet.models.PaymentDay`,
:class:`~fleet.models.ProductDay`), never from the sales themselves.

"Today" is each store's own business day, in its time zone (a chain across Indonesia's
three zones, or in Mongolia and China). Amounts are summed per currency: a fleet with
stores in several countries shows one total per currency, never a sum of rupiah and
tögrög. Last week's figures are the same weekday's, up to the same local hour, and the
whole of that day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

import peewee
from peewee import fn

from fleet.console.access import Viewer
from fleet.inventory import low_count
from fleet.models import ConfigDocument, PaymentDay, ProductDay, SalesHour, Terminal
from fleet.rollout import document_of

TOP_PRODUCTS = 10


@dataclass
class TerminalTakings:
    terminal_id: str
    sales: int = 0
    paid: int = 0
    refunds: int = 0
    refunded: int = 0
    voids: int = 0


@dataclass
class StoreTakings:
    store: str
    day: date
    currency: str = ""
    sales: int = 0
    paid: int = 0
    refunds: int = 0
    refunded: int = 0
    voids: int = 0
    terminals: dict[str, TerminalTakings] = field(default_factory=dict)


@dataclass
class CurrencyTotals:
    currency: str
    sales: int = 0
    paid: int = 0
    refunds: int = 0
    refunded: int = 0
    voids: int = 0
    by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    payments: dict[str, int] = field(default_factory=dict)
    top: list[tuple[str, str, int, int]] = field(default_factory=list)  # sku, name, milli, amount
    last_week_so_far: int = 0
    last_week_day: int = 0

    @property
    def change(self) -> float | None:
        """Today against last week's same weekday up to the same hour (None: no base)."""
        if not self.last_week_so_far:
            return None
        return (self.paid - self.last_week_so_far) / self.last_week_so_far

    @property
    def hour_peak(self) -> int:
        return max(self.by_hour) or 1


@dataclass
class SalesNow:
    stores: list[StoreTakings]
    totals: list[CurrencyTotals]
    version: tuple  # changes when anything of today changes (the live stream's cue)
    low_stock: int = 0  # products below their minimum in the visible stores


def store_days(db: peewee.Database, viewer: Viewer, now: datetime) -> dict[str, tuple[date, int]]:
    """Each visible store's business day and local hour at ``now`` (naive UTC)."""
    zones: dict[str, str] = {}
    for store, timezone in (
        Terminal.select(Terminal.store, Terminal.timezone)
        .where(viewer.stores_clause(Terminal.store))
        .order_by(Terminal.store, Terminal.id)
        .tuples()
        .bind(db)
    ):
        zones.setdefault(store, timezone)
    moment = now.replace(tzinfo=UTC)
    result = {}
    for store, timezone in zones.items():
        local = moment.astimezone(ZoneInfo(timezone))
        result[store] = (local.date(), local.hour)
    return result


def _clause(model, days: dict[str, date]) -> peewee.Expression | None:
    """(business_day, store) of the given days, grouped by day (one IN per day)."""
    by_day: dict[date, list[str]] = {}
    for store, day in days.items():
        by_day.setdefault(day, []).append(store)
    parts = [
        (model.business_day == day) & model.store.in_(sorted(stores))
        for day, stores in sorted(by_day.items())
    ]
    return reduce(or_, parts) if parts else None


def today_version(db: peewee.Database, viewer: Viewer, now: datetime) -> tuple:
    """A cheap fingerprint of today's figures (one aggregate over the hour rollups)."""
    days = {store: day for store, (day, _hour) in store_days(db, viewer, now).items()}
    clause = _clause(SalesHour, days)
    if clause is None:
        return ()
    row = (
        SalesHour.select(
            fn.COALESCE(fn.SUM(SalesHour.sales), 0),
            fn.COALESCE(fn.SUM(SalesHour.paid), 0),
            fn.COALESCE(fn.SUM(SalesHour.refunds), 0),
            fn.COALESCE(fn.SUM(SalesHour.voids), 0),
        )
        .where(clause)
        .tuples()
        .bind(db)
        .get()
    )
    low = low_count(db, sorted(days)) if viewer.sees("stock") else 0
    return (tuple(sorted(days.items())), *(int(x) for x in row), low)


def sales_now(db: peewee.Database, viewer: Viewer, now: datetime) -> SalesNow:
    local = store_days(db, viewer, now)
    days = {store: day for store, (day, _hour) in local.items()}
    stores = {store: StoreTakings(store, day) for store, day in days.items()}
    totals: dict[str, CurrencyTotals] = {}
    clause = _clause(SalesHour, days)
    if clause is None:
        return SalesNow([], [], ())
    rows = (
        SalesHour.select(
            SalesHour.store,
            SalesHour.terminal_id,
            SalesHour.hour,
            SalesHour.currency,
            SalesHour.sales,
            SalesHour.paid,
            SalesHour.refunds,
            SalesHour.refunded,
            SalesHour.voids,
        )
        .where(clause)
        .tuples()
        .bind(db)
    )
    currency_of: dict[str, str] = {}
    for store, tid, hour, currency, sales, paid, refunds, refunded, voids in rows:
        s = stores[store]
        if currency:
            s.currency = currency_of[store] = currency
        t = s.terminals.setdefault(tid, TerminalTakings(tid))
        for target in (s, t):
            target.sales += sales
            target.paid += paid
            target.refunds += refunds
            target.refunded += refunded
            target.voids += voids
        c = totals.setdefault(currency_of.get(store, currency), CurrencyTotals(currency))
        c.by_hour[hour] += paid
    for s in stores.values():
        c = totals.setdefault(s.currency, CurrencyTotals(s.currency))
        c.sales += s.sales
        c.paid += s.paid
        c.refunds += s.refunds
        c.refunded += s.refunded
        c.voids += s.voids
    _payments(db, days, currency_of, totals)
    _top_products(db, days, currency_of, totals)
    _last_week(db, local, currency_of, totals)
    version = today_version(db, viewer, now)
    shown = [c for c in totals.values() if c.currency or c.sales or c.refunds or c.voids]
    return SalesNow(
        sorted(stores.values(), key=lambda s: s.store),
        sorted(shown, key=lambda c: c.currency),
        version,
        version[-1],
    )


def _payments(db, days, currency_of, totals) -> None:
    clause = _clause(PaymentDay, days)
    rows = (
        PaymentDay.select(PaymentDay.store, PaymentDay.kind, fn.SUM(PaymentDay.paid))
        .where(clause)
        .group_by(PaymentDay.store, PaymentDay.kind)
        .tuples()
        .bind(db)
    )
    for store, kind, paid in rows:
        c = totals.get(currency_of.get(store, ""))
        if c is not None:
            c.payments[kind] = c.payments.get(kind, 0) + int(paid)


def _top_products(db, days, currency_of, totals) -> None:
    names = product_names(db)
    for currency, c in totals.items():
        stores = {s: d for s, d in days.items() if currency_of.get(s, "") == currency}
        clause = _clause(ProductDay, stores)
        if clause is None:
            continue
        amount = fn.SUM(ProductDay.amount)
        rows = (
            ProductDay.select(ProductDay.sku, fn.SUM(ProductDay.quantity_milli), amount)
            .where(clause)
            .group_by(ProductDay.sku)
            .order_by(amount.desc(), ProductDay.sku)
            .limit(TOP_PRODUCTS)
            .tuples()
            .bind(db)
        )
        c.top = [(sku, names.get(sku, ""), int(q), int(a)) for sku, q, a in rows]


def _last_week(db, local, currency_of, totals) -> None:
    """Last week's same weekday: up to this hour (each store's own), and the whole day."""
    days = {store: day - timedelta(days=7) for store, (day, _hour) in local.items()}
    clause = _clause(SalesHour, days)
    rows = (
        SalesHour.select(SalesHour.store, SalesHour.hour, fn.SUM(SalesHour.paid))
        .where(clause)
        .group_by(SalesHour.store, SalesHour.hour)
        .tuples()
        .bind(db)
    )
    for store, hour, paid in rows:
        c = totals.get(currency_of.get(store, ""))
        if c is None:
            continue
        c.last_week_day += int(paid)
        if hour <= local[store][1]:
            c.last_week_so_far += int(paid)


_Catalogue = tuple[dict[str, str], dict[str, str], dict[str, str]]
_catalogue_cache: dict[str, tuple[int, _Catalogue]] = {}


def _catalogue(db: peewee.Database) -> _Catalogue:
    """(SKU -> name, barcode -> SKU, SKU -> category) from the newest signed document of
    each scope (as the terminals' catalogues have them; the journal keeps no product
    names). Made again only when a new document is signed."""
    newest = ConfigDocument.select(fn.MAX(ConfigDocument.id)).bind(db).scalar() or 0
    key = str(db.database)
    held = _catalogue_cache.get(key)
    if held is not None and held[0] == newest:
        return held[1]
    names: dict[str, str] = {}
    codes: dict[str, str] = {}
    categories: dict[str, str] = {}
    latest = (
        ConfigDocument.select(ConfigDocument.scope, fn.MAX(ConfigDocument.version))
        .group_by(ConfigDocument.scope)
        .tuples()
        .bind(db)
    )
    for scope, version in latest:
        document = (
            ConfigDocument.select(ConfigDocument.envelope)
            .where((ConfigDocument.scope == scope) & (ConfigDocument.version == version))
            .bind(db)
            .scalar()
        )
        try:
            for product in document_of(document).get("products", []):
                sku = str(product["sku"])
                names.setdefault(sku, str(product.get("name", "")))
                categories.setdefault(sku, str(product.get("category") or ""))
                for code in product.get("barcodes", []):
                    codes.setdefault(str(code), sku)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    _catalogue_cache[key] = (newest, (names, codes, categories))
    return names, codes, categories


def product_names(db: peewee.Database) -> dict[str, str]:
    """SKU -> name, from the signed catalogues (see :func:`_catalogue`)."""
    return _catalogue(db)[0]


def product_codes(db: peewee.Database) -> dict[str, str]:
    """Barcode -> SKU, from the signed catalogues (see :func:`_catalogue`)."""
    return _catalogue(db)[1]


def product_categories(db: peewee.Database) -> dict[str, str]:
    """SKU -> category ("" where the catalogue gives none), from the signed catalogues."""
    return _catalogue(db)[2]
