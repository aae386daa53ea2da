"""Trends (issue 19): when the customers come (weekday by local hour), takings against a
period compared, the best and worst movers, the basket, the share of each tender, and
how members come back. Everything is read from the rollups the ingest keeps
(:class:`~fleet.models.SalesHour`, :class:`~fleet.models.ProductDay`,
:class:`~fleet.models.PaymentDay`), one grouped aggregate each over their
``(business_day, store)`` indexes, except the members' figures, which need the sales'
customer ids (:class:`~fleet.models.Sale`, by its ``business_day`` index).

A :class:`Scope` is stores all of one currency: amounts of different currencies are
never added. Every figure comes as the rows of its CSV (:func:`csv_text`); the page
draws its charts from those same rows, so a chart and its CSV cannot disagree.

Members: the only personal datum the fleet holds is the customer id a terminal journaled
with a sale. :func:`members` gives aggregates, and the lapsed members' ids separately,
for the page to show only to those who may see them.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import peewee
from peewee import fn

from fleet.console.access import Viewer
from fleet.console.sales_now import product_categories, product_names
from fleet.models import PaymentDay, ProductDay, Sale, SalesHour
from terminal.core.inventory import quantity_text

CHARTS = ("heatmap", "growth", "movers", "basket", "tenders", "members")
COMPARISONS = ("previous", "year")
DEFAULT_DAYS = 28  # four of each weekday: the heat map's weekdays weigh the same
LONGEST = 366  # days: a longer period is refused (a year against the year before is the most)
BY_WEEK_AFTER = 62  # days: a longer period is drawn by week, not by day
LAPSED_AFTER = 90  # days before the period in which a member who did not come back bought
MOVERS = 10
EARLIEST = date(2000, 1, 1)  # and what is compared with it and the lapsed members' days
VISITS = (("1", 1, 1), ("2", 2, 2), ("3-5", 3, 5), ("6+", 6, None))  # members by visits


@dataclass(frozen=True)
class Scope:
    """Stores (all of one currency), the period and the period it is compared with."""

    stores: tuple[str, ...]
    currency: str
    first: date
    last: date
    compare: str = "previous"  # previous | year

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("the period ends before it starts")
        if self.days > LONGEST:
            raise ValueError(f"a period of at most {LONGEST} days")
        if self.compare not in COMPARISONS:
            raise ValueError(f"compare: one of {', '.join(COMPARISONS)}")
        if self.first < EARLIEST:
            raise ValueError(f"a period from {EARLIEST} on")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def shift(self) -> timedelta:
        """How far back the compared period lies: right before this one, or 52 weeks
        (364 days, not a calendar year: Saturdays are compared with Saturdays)."""
        return timedelta(days=self.days if self.compare == "previous" else 364)

    @property
    def base_first(self) -> date:
        return self.first - self.shift

    @property
    def base_last(self) -> date:
        return self.last - self.shift

    @property
    def step(self) -> int:
        """Days per column of the charts by day: 1, or 7 for a long period."""
        return 1 if self.days <= BY_WEEK_AFTER else 7

    def buckets(self) -> list[date]:
        return [self.first + timedelta(days=d) for d in range(0, self.days, self.step)]


@dataclass(frozen=True)
class Net:
    """A product's sales less what came back: takings (minor units) and thousandths."""

    amount: int
    milli: int


def default_period(today: date) -> tuple[date, date]:
    """The last :data:`DEFAULT_DAYS` business days up to today."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def _where(model, viewer: Viewer, scope: Scope, first: date, last: date) -> peewee.Expression:
    clause = (model.business_day >= first) & (model.business_day <= last)
    return clause & model.store.in_(sorted(scope.stores)) & viewer.stores_clause(model.store)


def percent_change(now: float, base: float) -> float | None:
    """The change from ``base`` to ``now`` in percent (None: nothing to compare with)."""
    return None if not base else round((now - base) * 100 / base, 1)


def average(amount: int, count: int) -> int:
    """``amount / count`` rounded half up, in minor units (0 when nothing was counted)."""
    return (2 * amount + count) // (2 * count) if count else 0


def _hours(db, viewer: Viewer, scope: Scope, first: date, last: date) -> list[tuple]:
    """(business day, local hour, sales, paid) of the stores."""
    return list(
        SalesHour.select(
            SalesHour.business_day,
            SalesHour.hour,
            fn.SUM(SalesHour.sales),
            fn.SUM(SalesHour.paid),
        )
        .where(_where(SalesHour, viewer, scope, first, last))
        .group_by(SalesHour.business_day, SalesHour.hour)
        .tuples()
        .bind(db)
    )


def _daily(db, viewer: Viewer, scope: Scope, first: date, last: date) -> list[tuple[int, int]]:
    """(sales, paid) per column of the period starting at ``first``."""
    columns = [[0, 0] for _ in range(-(-scope.days // scope.step))]
    for day, _hour, sales, paid in _hours(db, viewer, scope, first, last):
        column = columns[(_day(day) - first).days // scope.step]
        column[0] += int(sales or 0)
        column[1] += int(paid or 0)
    return [(s, p) for s, p in columns]


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def heatmap(db: peewee.Database, viewer: Viewer, scope: Scope) -> list[dict]:
    """Sales and takings by weekday (1 Monday ... 7 Sunday) and the store's local hour,
    summed over the period: 168 rows, Monday 00:00 first."""
    cells = {(w, h): [0, 0] for w in range(1, 8) for h in range(24)}
    for day, hour, sales, paid in _hours(db, viewer, scope, scope.first, scope.last):
        cell = cells[(_day(day).isoweekday(), int(hour))]
        cell[0] += int(sales or 0)
        cell[1] += int(paid or 0)
    return [
        {"weekday": w, "hour": h, "currency": scope.currency, "sales": s, "paid": p}
        for (w, h), (s, p) in cells.items()
    ]


def growth(db: peewee.Database, viewer: Viewer, scope: Scope) -> list[dict]:
    """Takings per day (per week in a long period) against the same day of the period
    compared, the one as many days into it."""
    now = _daily(db, viewer, scope, scope.first, scope.last)
    base = _daily(db, viewer, scope, scope.base_first, scope.base_last)
    return [
        {
            "day": day.isoformat(),
            "currency": scope.currency,
            "paid": paid,
            "compared_day": (day - scope.shift).isoformat(),
            "compared_paid": base_paid,
            "change_percent": percent_change(paid, base_paid),
        }
        for day, (_s, paid), (_bs, base_paid) in zip(scope.buckets(), now, base, strict=True)
    ]


def _items(db, viewer: Viewer, scope: Scope, first: date, last: date) -> list[int]:
    """Thousandths of items sold per column of the period starting at ``first``."""
    columns = [0] * -(-scope.days // scope.step)
    for day, milli in (
        ProductDay.select(ProductDay.business_day, fn.SUM(ProductDay.quantity_milli))
        .where(_where(ProductDay, viewer, scope, first, last))
        .group_by(ProductDay.business_day)
        .tuples()
        .bind(db)
    ):
        columns[(_day(day) - first).days // scope.step] += int(milli or 0)
    return columns


def basket(db: peewee.Database, viewer: Viewer, scope: Scope) -> list[dict]:
    """The average basket (takings per sale) and the items per basket per day (per week
    in a long period), against the period compared."""
    rows = []
    now = _daily(db, viewer, scope, scope.first, scope.last)
    items = _items(db, viewer, scope, scope.first, scope.last)
    base = _daily(db, viewer, scope, scope.base_first, scope.base_last)
    base_items = _items(db, viewer, scope, scope.base_first, scope.base_last)
    for i, day in enumerate(scope.buckets()):
        (sales, paid), (base_sales, base_paid) = now[i], base[i]
        rows.append(
            {
                "day": day.isoformat(),
                "currency": scope.currency,
                "sales": sales,
                "paid": paid,
                "average_basket": average(paid, sales),
                "items": quantity_text(items[i]),
                "items_per_basket": round(items[i] / 1000 / sales, 2) if sales else 0,
                "compared_day": (day - scope.shift).isoformat(),
                "compared_sales": base_sales,
                "compared_paid": base_paid,
                "compared_average_basket": average(base_paid, base_sales),
                "compared_items": quantity_text(base_items[i]),
                "compared_items_per_basket": (
                    round(base_items[i] / 1000 / base_sales, 2) if base_sales else 0
                ),
            }
        )
    return rows


def _net_sales(db, viewer: Viewer, scope: Scope, first: date, last: date) -> dict[str, Net]:
    """SKU -> its takings and thousandths sold, each less what came back."""
    return {
        sku: Net(int(amount or 0), int(milli or 0))
        for sku, amount, milli in ProductDay.select(
            ProductDay.sku,
            fn.SUM(ProductDay.amount - ProductDay.returned_amount),
            fn.SUM(ProductDay.quantity_milli - ProductDay.returned_milli),
        )
        .where(_where(ProductDay, viewer, scope, first, last))
        .group_by(ProductDay.sku)
        .tuples()
        .bind(db)
    }


def movers(db: peewee.Database, viewer: Viewer, scope: Scope) -> list[dict]:
    """The :data:`MOVERS` products that took most (net of refunds) and those that took
    least, each with the period compared and the quantity sold net of returns. Ranked by
    takings, not quantity: a kilo of beef and a bag of rice are not the same unit, money
    is (the scope is one currency). The least are chosen among the products sold in
    either period, so one that stopped selling is among them; none is in both (with
    fewer than twice :data:`MOVERS` products, the better half are the best)."""
    now = _net_sales(db, viewer, scope, scope.first, scope.last)
    base = _net_sales(db, viewer, scope, scope.base_first, scope.base_last)
    names, categories = product_names(db), product_categories(db)
    skus = set(now) | set(base)
    nothing = Net(0, 0)

    def takings(sku: str) -> int:
        return now.get(sku, nothing).amount

    def change(sku: str) -> int:
        return takings(sku) - base.get(sku, nothing).amount

    # ties: the larger rise first among the best, the larger fall first among the worst
    best = sorted(skus, key=lambda s: (-takings(s), -change(s), s))
    best = best[: min(MOVERS, (len(skus) + 1) // 2)]  # a few products: half and half
    rest = sorted(skus - set(best), key=lambda s: (takings(s), change(s), s))
    rows = []
    for group, chosen in (("best", best), ("worst", rest[:MOVERS])):
        for rank, sku in enumerate(chosen, start=1):
            sold, compared = now.get(sku, nothing), base.get(sku, nothing)
            rows.append(
                {
                    "group": group,
                    "rank": rank,
                    "sku": sku,
                    "name": names.get(sku, ""),
                    "category": categories.get(sku, ""),
                    "takings": sold.amount,
                    "compared_takings": compared.amount,
                    "change": sold.amount - compared.amount,
                    "change_percent": percent_change(sold.amount, compared.amount),
                    "quantity": quantity_text(sold.milli),
                }
            )
    return rows


def tenders(db: peewee.Database, viewer: Viewer, scope: Scope) -> list[dict]:
    """Each kind of tender's share of the takings, in tenths of a percent that add up to
    exactly 100 (the largest remainders get the rounding's tenths)."""
    taken = [
        (kind, int(payments or 0), int(paid or 0))
        for kind, payments, paid in PaymentDay.select(
            PaymentDay.kind, fn.SUM(PaymentDay.payments), fn.SUM(PaymentDay.paid)
        )
        .where(_where(PaymentDay, viewer, scope, scope.first, scope.last))
        .group_by(PaymentDay.kind)
        .tuples()
        .bind(db)
    ]
    taken = [t for t in taken if t[2] > 0]
    total = sum(paid for _k, _n, paid in taken)
    tenths = {kind: paid * 1000 // total for kind, _n, paid in taken}
    short = 1000 - sum(tenths.values()) if taken else 0
    by_remainder = sorted(taken, key=lambda t: (-(t[2] * 1000 % total), t[0]))
    for kind, _n, _paid in by_remainder[:short]:
        tenths[kind] += 1
    return [
        {
            "kind": kind,
            "currency": scope.currency,
            "payments": payments,
            "paid": paid,
            "share_percent": f"{tenths[kind] / 10:.1f}",
        }
        for kind, payments, paid in sorted(taken, key=lambda t: (-t[2], t[0]))
    ]


@dataclass
class Members:
    """How members came in the period (aggregates), and the lapsed ones by id."""

    currency: str
    members: int = 0  # members who bought in the period
    visits: dict[str, int] = field(default_factory=lambda: {v[0]: 0 for v in VISITS})
    member_visits: int = 0
    member_paid: int = 0
    other_visits: int = 0  # sales without a member
    other_paid: int = 0
    lapsed: list[dict] = field(default_factory=list)  # ids: only for who sees "members"

    @property
    def member_average(self) -> int:
        return average(self.member_paid, self.member_visits)

    @property
    def other_average(self) -> int:
        return average(self.other_paid, self.other_visits)

    def figures(self) -> list[dict]:
        """The aggregates, as the CSV and the page give them (no id among them)."""
        values = {
            "members": self.members,
            **{f"visits_{key}": count for key, count in self.visits.items()},
            "member_visits": self.member_visits,
            "member_paid": self.member_paid,
            "member_average_spend": self.member_average,
            "other_visits": self.other_visits,
            "other_paid": self.other_paid,
            "other_average_spend": self.other_average,
            "lapsed_members": len(self.lapsed),
        }
        amounts = {"member_paid", "member_average_spend", "other_paid", "other_average_spend"}
        return [
            {"figure": k, "currency": self.currency if k in amounts else "", "value": v}
            for k, v in values.items()
        ]


def _by_customer(db, viewer: Viewer, scope: Scope, first: date, last: date) -> list[tuple]:
    """(customer id or None, visits, paid, last visit) of the stores' sales."""
    return list(
        Sale.select(Sale.customer, fn.COUNT(Sale.seq), fn.SUM(Sale.paid), fn.MAX(Sale.business_day))
        .where(_where(Sale, viewer, scope, first, last))
        .group_by(Sale.customer)
        .tuples()
        .bind(db)
    )


def members(db: peewee.Database, viewer: Viewer, scope: Scope) -> Members:
    """Visits per member, the average spend per visit of members and of everyone else,
    and the members who bought in the :data:`LAPSED_AFTER` days before the period but
    not in it (with their last visit and what they spent in those days)."""
    result = Members(scope.currency)
    seen = set()
    for customer, visits, paid, _last in _by_customer(db, viewer, scope, scope.first, scope.last):
        if not customer:
            result.other_visits += int(visits)
            result.other_paid += int(paid or 0)
            continue
        seen.add(customer)
        result.members += 1
        result.member_visits += int(visits)
        result.member_paid += int(paid or 0)
        for key, low, high in VISITS:
            if visits >= low and (high is None or visits <= high):
                result.visits[key] += 1
    before = scope.first - timedelta(days=LAPSED_AFTER)
    earlier = _by_customer(db, viewer, scope, before, scope.first - timedelta(days=1))
    result.lapsed = sorted(
        (
            {"customer": c, "last_visit": _day(last), "visits": int(v), "paid": int(p or 0)}
            for c, v, p, last in earlier
            if c and c not in seen
        ),
        key=lambda m: (-m["paid"], m["customer"]),
    )
    return result


def chart_rows(db: peewee.Database, viewer: Viewer, scope: Scope, chart: str) -> list[dict]:
    """The rows of one chart's CSV (ValueError: no such chart)."""
    if chart not in CHARTS:
        raise ValueError(f"chart: one of {', '.join(CHARTS)}")
    if chart == "members":
        return members(db, viewer, scope).figures()
    tables = {
        "heatmap": heatmap,
        "growth": growth,
        "movers": movers,
        "basket": basket,
        "tenders": tenders,
    }
    return tables[chart](db, viewer, scope)


def csv_text(rows: list[dict]) -> str:
    """Rows as CSV: amounts in minor units with the currency in its own column, quantities
    as the journal writes them ("2", "1.234"), percentages with one decimal."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return out.getvalue()


def group_stores(currency_of: dict[str, str], stores: list[str]) -> dict[str, list[str]]:
    """Currency -> the stores that take it (a store that sold nothing yet has none)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for store in stores:
        if currency_of.get(store):
            groups[currency_of[store]].append(store)
    return dict(sorted(groups.items()))
