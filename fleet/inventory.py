"""A store's stock from its ledger (:class:`fleet.models.StockMovement`): the stock on
hand of each product is the sum of its movements, asked of the database each time (one
indexed aggregate), never kept as a figure of its own; and the movements behind any
figure, for a person to check it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee
from peewee import fn

from fleet.models import StockMovement


@dataclass(frozen=True)
class OnHand:
    sku: str
    quantity: int  # thousandths
    movements: int

    @property
    def negative(self) -> bool:
        """Sold before it was received (a sale never waits for stock): flagged."""
        return self.quantity < 0


def on_hand(db: peewee.Database, store: str, at: datetime | None = None) -> dict[str, OnHand]:
    """Each product's stock at ``store`` (up to ``at``, UTC without a zone: all when
    None), by SKU."""
    where = StockMovement.store == store
    if at is not None:
        where &= StockMovement.ts <= at
    query = (
        StockMovement.select(
            StockMovement.sku, fn.SUM(StockMovement.quantity), fn.COUNT(StockMovement.seq)
        )
        .where(where)
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
