"""A store's stock from its ledger (:class:`fleet.models.StockMovement`): the stock on
hand of each product is the sum of its movements, kept beside them as the ingest adds
them (:class:`fleet.models.StockLevel`, in the movements' transaction, made again from
the ledger by :func:`rebuild_levels`), so a store with years of sales is read in one
indexed lookup; the movements behind any figure, for a person to check it; minimums
and what to reorder (:mod:`terminal.core.inventory`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import peewee
from peewee import fn

from fleet.db import is_postgres
from fleet.models import (
    ProductCost,
    ProductDay,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
    StockLevel,
    StockMinimum,
    StockMovement,
)
from terminal.core.inventory import (
    RATE_DAYS,
    below_minimum,
    moving_average,
    refund_movements,
    reorder_quantity,
    sale_movements,
)


@dataclass(frozen=True)
class OnHand:
    sku: str
    quantity: int  # thousandths
    movements: int

    @property
    def negative(self) -> bool:
        """Sold before it was received (a sale never waits for stock): flagged."""
        return self.quantity < 0


def on_hand(db: peewee.Database, store: str) -> dict[str, OnHand]:
    """Each product's stock at ``store``, by SKU."""
    query = (
        StockLevel.select(StockLevel.sku, StockLevel.quantity, StockLevel.movements)
        .where(StockLevel.store == store)
        .tuples()
        .bind(db)
    )
    return {sku: OnHand(sku, int(total), int(count)) for sku, total, count in query}


def locations(db: peewee.Database) -> list[str]:
    """Every location the ledger holds stock for: the stores, and the places without a
    terminal of their own (the online flow's warehouse)."""
    query = StockLevel.select(StockLevel.store).distinct().order_by(StockLevel.store)
    return [store for (store,) in query.tuples().bind(db)]


def ledger_sums(db: peewee.Database, store: str) -> dict[str, OnHand]:
    """The same figures added up from the ledger itself (a check of :func:`on_hand`)."""
    query = (
        StockMovement.select(
            StockMovement.sku, fn.SUM(StockMovement.quantity), fn.COUNT(StockMovement.seq)
        )
        .where(StockMovement.store == store)
        .group_by(StockMovement.sku)
        .tuples()
        .bind(db)
    )
    return {sku: OnHand(sku, int(total or 0), int(count)) for sku, total, count in query}


def add_to_levels(db: peewee.Database, movements: list[dict]) -> None:
    """Add a batch's movement rows (as the ingest inserts them) to the stock levels."""
    sums: dict[tuple[str, str], list[int]] = {}
    for move in movements:
        held = sums.setdefault((move["store"], move["sku"]), [0, 0])
        held[0] += move["quantity"]
        held[1] += 1
    rows = [
        {"store": store, "sku": sku, "quantity": quantity, "movements": count}
        for (store, sku), (quantity, count) in sorted(sums.items())
    ]
    for start in range(0, len(rows), 500):
        StockLevel.insert_many(rows[start : start + 500]).on_conflict(
            conflict_target=[StockLevel.store, StockLevel.sku],
            update={
                StockLevel.quantity: StockLevel.quantity + peewee.EXCLUDED.quantity,
                StockLevel.movements: StockLevel.movements + peewee.EXCLUDED.movements,
            },
        ).execute(db)


def record(db: peewee.Database, rows: list[dict]) -> None:
    """Movements made at the fleet (a count's adjustments, a delivery note, a transfer,
    the online flow's goods): into the ledger and the stock levels, in the caller's
    transaction."""
    if rows:
        StockMovement.insert_many(rows).execute(db)
        add_to_levels(db, rows)


def rebuild_levels(db: peewee.Database) -> None:
    """Make the stock levels again from the whole ledger (inside a transaction)."""
    StockLevel.delete().execute(db)
    totals = (
        StockMovement.select(
            StockMovement.store,
            StockMovement.sku,
            fn.SUM(StockMovement.quantity),
            fn.COUNT(StockMovement.seq),
        )
        .group_by(StockMovement.store, StockMovement.sku)
        .tuples()
        .bind(db)
    )
    rows = [
        {"store": store, "sku": sku, "quantity": int(total), "movements": int(count)}
        for store, sku, total, count in totals
    ]
    for start in range(0, len(rows), 500):
        StockLevel.insert_many(rows[start : start + 500]).execute(db)


def movements(db: peewee.Database, store: str, sku: str) -> list[StockMovement]:
    """The movements behind a product's stock at a store, oldest first."""
    return list(
        StockMovement.select()
        .where((StockMovement.store == store) & (StockMovement.sku == sku))
        .order_by(StockMovement.ts, StockMovement.terminal_id, StockMovement.seq)
        .bind(db)
    )


@dataclass(frozen=True)
class Receipt:
    """A delivered line, as the ingest took it: its movement's place in the ledger."""

    store: str
    sku: str
    quantity: int  # thousandths
    unit_cost: int
    terminal_id: str
    seq: int
    ts: datetime
    position: int = 1  # its line in the entry (a product twice in one delivery)


def update_costs(db: peewee.Database, receipts: list[Receipt]) -> None:
    """Each product's moving-average cost after these deliveries (inside the ingest's
    transaction, after their movements are written). The stock a delivery finds is
    what the ledger held before it: earlier in time, or earlier in its terminal's
    journal (or its line earlier in the same entry). Stock that carries no known cost
    (never received: sold first, the online flow's goods, a count's surplus) does not pull
    the average down: the first known cost is the delivery's own."""
    for r in receipts:
        earlier_here = (StockMovement.terminal_id == r.terminal_id) & (
            (StockMovement.seq < r.seq)
            | ((StockMovement.seq == r.seq) & (StockMovement.position < r.position))
        )
        before = (
            StockMovement.select(fn.COALESCE(fn.SUM(StockMovement.quantity), 0))
            .where(
                (StockMovement.store == r.store)
                & (StockMovement.sku == r.sku)
                & ((StockMovement.ts < r.ts) | earlier_here)
            )
            .bind(db)
            .scalar()
        )
        query = ProductCost.select().where(
            (ProductCost.store == r.store) & (ProductCost.sku == r.sku)
        )
        if is_postgres(db):  # two ingest instances of one store: one after the other
            query = query.for_update()
        held = query.bind(db).first()
        if held is None:
            average = moving_average(0, 0, r.quantity, r.unit_cost)
        else:
            average = moving_average(int(before), held.average, r.quantity, r.unit_cost)
        ProductCost.insert(
            store=r.store, sku=r.sku, average=average, receipts=1, updated_at=r.ts
        ).on_conflict(  # a first cost written meanwhile by another ingest: this one's wins
            conflict_target=[ProductCost.store, ProductCost.sku],
            update={
                ProductCost.average: average,
                ProductCost.receipts: ProductCost.receipts + 1,
                ProductCost.updated_at: r.ts,
            },
        ).execute(db)


def cost_of(db: peewee.Database, store: str, sku: str) -> int | None:
    """A product's moving-average cost per unit at a store (None: never received)."""
    held = (
        ProductCost.select(ProductCost.average)
        .where((ProductCost.store == store) & (ProductCost.sku == sku))
        .bind(db)
        .first()
    )
    return held.average if held else None


# -- low stock ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Low:
    """A product below its minimum at a store, and what to reorder."""

    store: str
    sku: str
    on_hand: int  # thousandths
    minimum: int
    sold: int  # in the last RATE_DAYS days, net of returns
    reorder: int  # thousandths of whole units


def minimums(db: peewee.Database, store: str) -> dict[str, int]:
    """SKU -> the least ``store`` should hold (thousandths)."""
    query = StockMinimum.select(StockMinimum.sku, StockMinimum.minimum)
    return dict(query.where(StockMinimum.store == store).tuples().bind(db))


def set_minimum(
    db: peewee.Database, store: str, sku: str, minimum: int, by: str, at: datetime
) -> None:
    """Set (or, with 0, clear) a product's minimum at a store."""
    if minimum < 0:
        raise ValueError("a minimum is not below zero")
    where = (StockMinimum.store == store) & (StockMinimum.sku == sku)
    if minimum == 0:
        StockMinimum.delete().where(where).execute(db)
        return
    StockMinimum.insert(store=store, sku=sku, minimum=minimum, set_by=by, set_at=at).on_conflict(
        conflict_target=[StockMinimum.store, StockMinimum.sku],
        update={StockMinimum.minimum: minimum, StockMinimum.set_by: by, StockMinimum.set_at: at},
    ).execute(db)


def sold_recently(db: peewee.Database, store: str, today: date) -> dict[str, int]:
    """Each product's sales at ``store`` over the :data:`RATE_DAYS` days before ``today``
    (thousandths, net of returns), from the product rollups."""
    query = (
        ProductDay.select(
            ProductDay.sku, fn.SUM(ProductDay.quantity_milli - ProductDay.returned_milli)
        )
        .where(
            (ProductDay.store == store)
            & (ProductDay.business_day >= today - timedelta(days=RATE_DAYS))
            & (ProductDay.business_day < today)
        )
        .group_by(ProductDay.sku)
        .tuples()
        .bind(db)
    )
    return {sku: int(total or 0) for sku, total in query}


def low_stock(db: peewee.Database, stores: list[str], today: date) -> list[Low]:
    """The products below their minimum at these stores, with what to reorder."""
    found = []
    for store in stores:
        wanted = minimums(db, store)
        if not wanted:
            continue
        levels = on_hand(db, store)
        sold = sold_recently(db, store, today)
        for sku, minimum in sorted(wanted.items()):
            held = levels[sku].quantity if sku in levels else 0
            if below_minimum(held, minimum):
                recent = sold.get(sku, 0)
                reorder = reorder_quantity(held, minimum, recent)
                found.append(Low(store, sku, held, minimum, recent, reorder))
    return found


def low_count(db: peewee.Database, stores: list[str]) -> int:
    """How many products are below their minimum at these stores (for "Sales now")."""
    if not stores:
        return 0
    return (
        StockMinimum.select()
        .join(
            StockLevel,
            peewee.JOIN.LEFT_OUTER,
            on=(StockLevel.store == StockMinimum.store) & (StockLevel.sku == StockMinimum.sku),
        )
        .where(
            StockMinimum.store.in_(stores)
            & (fn.COALESCE(StockLevel.quantity, 0) < StockMinimum.minimum)
        )
        .bind(db)
        .count()
    )


# -- an upgraded fleet ------------------------------------------------------------------------
def backfill(db: peewee.Database) -> tuple[int, int]:
    """The ledger's movements of the sales and refunds ingested before it existed (an
    upgraded fleet): each entry with lines and no movement gets those its lines make
    (``terminal.core.inventory``), at its store and time; then the stock levels are made
    again from the whole ledger. Safe to run again: an entry with movements is skipped.
    Returns (sales, refunds) filled in. Their lines stay uncosted: no average was known."""
    done = [0, 0]
    for n, (parent, line_model, key, build) in enumerate(
        (
            (Sale, SaleLine, SaleLine.sale_seq, sale_movements),
            (Refund, RefundLine, RefundLine.refund_seq, refund_movements),
        )
    ):
        has_moves = StockMovement.select().where(
            (StockMovement.terminal_id == parent.terminal_id) & (StockMovement.seq == parent.seq)
        )
        missing = parent.select().where(~fn.EXISTS(has_moves)).bind(db)
        for entry in missing.iterator():
            lines = list(
                line_model.select()
                .where((line_model.terminal_id == entry.terminal_id) & (key == entry.seq))
                .order_by(line_model.position)
                .dicts()
                .bind(db)
            )
            if not lines:
                continue
            rows = [
                {
                    "terminal_id": entry.terminal_id,
                    "seq": entry.seq,
                    "position": move.position,
                    "part": move.part,
                    "store": entry.store,
                    "sku": move.sku,
                    "quantity": move.quantity,
                    "kind": move.kind,
                    "reason": move.reason,
                    "ts": entry.ts,
                    "business_day": entry.business_day,
                }
                for move in build(lines)
            ]
            StockMovement.insert_many(rows).execute(db)
            done[n] += 1
    rebuild_levels(db)
    return done[0], done[1]
