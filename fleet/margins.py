"""Gross margin at the fleet (issue 19): the ingest gives each sold line its goods' cost
and each refunded line the revenue and cost it takes back (the rules are
:mod:`terminal.core.margins`); the rollups add them up per product, store, cashier and
day, and :func:`margin_report` reads a period's margin from them.

Costing happens in the ingest's transaction, in the journal's order with the batch's
deliveries (:func:`fleet.inventory.update_costs`): a sale is costed at the average the
deliveries before it left, whether they came in the same batch or an earlier one. (A
delivery journaled at another terminal of the store counts from when the fleet
received it.)"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import peewee
from peewee import fn

from fleet.models import CashierDay, ProductCost, ProductDay, Sale, SaleLine
from terminal.core.inventory import milli
from terminal.core.margins import cost_of, line_nets, margin_percent, refund_net, share_back


def averages(db: peewee.Database, store: str, skus: set[str]) -> dict[str, int]:
    """The moving-average cost per unit of these products at ``store`` (those received)."""
    if not skus:
        return {}
    return dict(
        ProductCost.select(ProductCost.sku, ProductCost.average)
        .where((ProductCost.store == store) & ProductCost.sku.in_(sorted(skus)))
        .tuples()
        .bind(db)
    )


def cost_sale_lines(db: peewee.Database, store: str, lines: list[dict]) -> None:
    """Each staged sale line's ``cost`` at the store's average (None: never received)."""
    known = averages(db, store, {line["sku"] for line in lines})
    for line in lines:
        average = known.get(line["sku"])
        line["cost"] = None if average is None else cost_of(milli(line["quantity"]), average)


def sale_line_nets(net: int, lines: list[dict]) -> list[int]:
    """The journal's sale lines' parts of the sale's ``net``: as the terminal journaled
    them (per tax class, ``terminal.core.taxes.line_nets``), or, from a terminal older
    than that, the net shared by the lines' amounts."""
    if lines and all("net" in line for line in lines):
        return [int(line["net"]) for line in lines]
    return line_nets(net, [int(line["amount"]) for line in lines])


@dataclass(frozen=True)
class RefundContext:
    """What a refund's lines need to be costed: its sale's label, its goods' amount and
    the taxes it gave back (for a refund whose sale is not held)."""

    sale_label: str | None
    amount: int
    taxes: list[dict] = field(default_factory=list)


def _sale_lines(db: peewee.Database, label: str) -> dict[int, SaleLine]:
    """The lines of the sale a label names (``T01-000042``), by position; {} when the
    fleet does not hold it."""
    terminal_id, _, number = label.rpartition("-")
    if not terminal_id or not number.isdigit():
        return {}
    seq = (
        Sale.select(Sale.seq)
        .where((Sale.terminal_id == terminal_id) & (Sale.number == int(number)))
        .order_by(Sale.seq.desc())
        .bind(db)
        .scalar()
    )
    if seq is None:
        return {}
    query = SaleLine.select().where(
        (SaleLine.terminal_id == terminal_id) & (SaleLine.sale_seq == seq)
    )
    return {line.position: line for line in query.bind(db)}


def cost_refund_lines(
    db: peewee.Database, store: str, lines: list[dict], refunds: dict[tuple, RefundContext]
) -> None:
    """Each staged refund line's ``net`` and ``cost`` taken back: its sale line's share
    when the fleet holds the sale (inserted before this is called), else from the
    refund's own taxes and the day's average (see :mod:`terminal.core.margins`)."""
    known = averages(db, store, {line["sku"] for line in lines})
    by_refund: dict[tuple, list[dict]] = defaultdict(list)
    for line in lines:
        by_refund[(line["terminal_id"], line["refund_seq"])].append(line)
    for key, own in by_refund.items():
        context = refunds.get(key, RefundContext(None, sum(r["amount"] for r in own)))
        sold = _sale_lines(db, context.sale_label) if context.sale_label else {}
        fallback = line_nets(
            refund_net(context.amount, context.taxes), [max(0, r["amount"]) for r in own]
        )
        for line, net in zip(own, fallback, strict=True):
            returned = milli(line["quantity"])
            sale_line = sold.get(line["sale_position"])
            line["uncosted"] = sale_line is not None and sale_line.cost is None
            if sale_line is not None:
                quantity = milli(sale_line.quantity)
                line["net"] = share_back(sale_line.net, quantity, returned)
            else:
                line["net"] = net
            if not line["restock"]:
                line["cost"] = 0  # written off: its cost stays a cost of the period
            elif sale_line is not None:  # back what it cost (nothing, when uncosted)
                line["cost"] = share_back(sale_line.cost or 0, milli(sale_line.quantity), returned)
            else:
                line["cost"] = cost_of(returned, known.get(line["sku"], 0))


# -- the report ------------------------------------------------------------------------------
BY = ("product", "category", "store", "cashier", "day")


@dataclass
class MarginRow:
    """One group's margin over a period: revenue net of tax less the goods' cost, both
    net of what refunds took back."""

    key: str
    label: str = ""
    quantity: int = 0  # thousandths sold, net of returns (products only)
    net: int = 0
    cost: int = 0
    uncosted: int = 0  # lines sold with no cost known
    uncosted_net: int = 0  # their revenue: in ``net``, out of the margin

    @property
    def margin(self) -> int:
        """Over the revenue whose cost is known: a line with no cost is not all margin."""
        return self.net - self.uncosted_net - self.cost

    @property
    def percent(self) -> Decimal | None:
        return margin_percent(self.net - self.uncosted_net, self.cost)


def margin_report(
    db: peewee.Database,
    stores: list[str],
    start: date,
    end: date,
    by: str,
    *,
    names: dict[str, str] | None = None,
    categories: dict[str, str] | None = None,
) -> list[MarginRow]:
    """The margin of ``stores`` from ``start`` to ``end`` (business days, inclusive),
    grouped ``by`` one of :data:`BY`, largest margin first. One indexed aggregate over
    the rollups (:class:`ProductDay`, or :class:`CashierDay` per cashier)."""
    if by not in BY:
        raise ValueError(f"{by!r}: group by one of {', '.join(BY)}")
    if by == "cashier":
        return _by_cashier(db, stores, start, end)
    key = {
        "product": ProductDay.sku,
        "category": ProductDay.sku,  # grouped again by category below
        "store": ProductDay.store,
        "day": ProductDay.business_day,
    }[by]
    query = (
        ProductDay.select(
            key,
            peewee.fn.SUM(ProductDay.quantity_milli - ProductDay.returned_milli),
            peewee.fn.SUM(ProductDay.net - ProductDay.returned_net),
            peewee.fn.SUM(ProductDay.cost - ProductDay.returned_cost),
            peewee.fn.SUM(ProductDay.uncosted),
            peewee.fn.SUM(ProductDay.uncosted_net),
        )
        .where(
            ProductDay.store.in_(stores or [""])
            & (ProductDay.business_day >= start)
            & (ProductDay.business_day <= end)
        )
        .group_by(key)
        .tuples()
        .bind(db)
    )
    rows: dict[str, MarginRow] = {}
    for group, quantity, net, cost, uncosted, uncosted_net in query:
        name = str(group)
        if by == "category":
            name = (categories or {}).get(name, "")
        row = rows.setdefault(name, MarginRow(name))
        row.quantity += int(quantity or 0)
        row.net += int(net or 0)
        row.cost += int(cost or 0)
        row.uncosted += int(uncosted or 0)
        row.uncosted_net += int(uncosted_net or 0)
    for row in rows.values():
        row.label = (names or {}).get(row.key, "") if by == "product" else row.key
    order = (lambda r: r.key) if by == "day" else (lambda r: (-r.margin, r.key))
    return sorted(rows.values(), key=order)


def _by_cashier(db: peewee.Database, stores: list[str], start: date, end: date):
    query = (
        CashierDay.select(
            CashierDay.store,
            CashierDay.cashier,
            peewee.fn.SUM(CashierDay.net - CashierDay.returned_net),
            peewee.fn.SUM(CashierDay.cost - CashierDay.returned_cost),
            peewee.fn.SUM(CashierDay.uncosted),
            peewee.fn.SUM(CashierDay.uncosted_net),
        )
        .where(
            CashierDay.store.in_(stores or [""])
            & (CashierDay.business_day >= start)
            & (CashierDay.business_day <= end)
        )
        .group_by(CashierDay.store, CashierDay.cashier)
        .tuples()
        .bind(db)
    )
    rows = [
        MarginRow(
            f"{store} / {cashier or '-'}",
            net=int(net or 0),
            cost=int(cost or 0),
            uncosted=int(uncosted or 0),
            uncosted_net=int(uncosted_net or 0),
        )
        for store, cashier, net, cost, uncosted, uncosted_net in query
    ]
    for row in rows:
        row.label = row.key
    return sorted(rows, key=lambda r: (-r.margin, r.key))


def backfill_nets(db: peewee.Database) -> int:
    """The revenue before tax of sale lines ingested before it was kept (an upgraded
    fleet): each such sale's net shared by its lines' amounts (the rollups are made
    again afterwards). Returns how many sales were filled in."""
    filled = 0
    lines_net = SaleLine.select(fn.COALESCE(fn.SUM(SaleLine.net), 0)).where(
        (SaleLine.terminal_id == Sale.terminal_id) & (SaleLine.sale_seq == Sale.seq)
    )
    sales = Sale.select().where((Sale.net != 0) & (lines_net == 0))
    for sale in sales.bind(db).iterator():
        lines = list(
            SaleLine.select()
            .where((SaleLine.terminal_id == sale.terminal_id) & (SaleLine.sale_seq == sale.seq))
            .order_by(SaleLine.position)
            .bind(db)
        )
        nets = line_nets(sale.net, [line.amount for line in lines])
        for line, net in zip(lines, nets, strict=True):
            SaleLine.update(net=net).where(
                (SaleLine.terminal_id == line.terminal_id)
                & (SaleLine.sale_seq == line.sale_seq)
                & (SaleLine.position == line.position)
            ).execute(db)
        filled += 1
    return filled
