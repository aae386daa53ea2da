"""A store's stock from its ledger (:class:`fleet.models.StockMovement`): the stock on
hand of each product is the sum of its movements, asked of the database each time (one
indexed aggregate), never kept as a figure of its own; and the movements behind any
figure, for a person to check it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee
from peewee import fn

from fleet.db import is_postgres
from fleet.models import ProductCost, StockMovement
from terminal.core.inventory import moving_average


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
        StockMovement.select(
            StockMovement.sku, fn.SUM(StockMovement.quantity), fn.COUNT(StockMovement.seq)
        )
        .where(StockMovement.store == store)
        .group_by(StockMovement.sku)
        .tuples()
        .bind(db)
    )
    return {sku: OnHand(sku, int(total or 0), int(count)) for sku, total, count in query}


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


def update_costs(db: peewee.Database, receipts: list[Receipt]) -> None:
    """Each product's moving-average cost after these deliveries (inside the ingest's
    transaction, after their movements are written). The stock a delivery finds is
    what the ledger held before it: earlier in time, or earlier in its terminal's
    journal."""
    for r in receipts:
        before = (
            StockMovement.select(fn.COALESCE(fn.SUM(StockMovement.quantity), 0))
            .where(
                (StockMovement.store == r.store)
                & (StockMovement.sku == r.sku)
                & (
                    (StockMovement.ts < r.ts)
                    | ((StockMovement.terminal_id == r.terminal_id) & (StockMovement.seq < r.seq))
                )
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
        average = moving_average(int(before), held.average if held else 0, r.quantity, r.unit_cost)
        if held is None:
            ProductCost.insert(
                store=r.store, sku=r.sku, average=average, receipts=1, updated_at=r.ts
            ).execute(db)
        else:
            ProductCost.update(
                average=average, receipts=ProductCost.receipts + 1, updated_at=r.ts
            ).where((ProductCost.store == r.store) & (ProductCost.sku == r.sku)).execute(db)


def cost_of(db: peewee.Database, store: str, sku: str) -> int | None:
    """A product's moving-average cost per unit at a store (None: never received)."""
    held = (
        ProductCost.select(ProductCost.average)
        .where((ProductCost.store == store) & (ProductCost.sku == sku))
        .bind(db)
        .first()
    )
    return held.average if held else None
