"""Stock moved in the console (issue 19): a supplier's delivery note received at a store
(the goods in, each product's moving-average cost updated as a delivery scanned at a
terminal updates it), and goods transferred from one location to another (out of the
one, into the other at the cost they had there). Each is a :class:`StockDocument` (who,
when, the note) whose lines are movements in the ledger under the fleet's own "terminal"
:data:`DOCUMENTS`, written in one transaction with the stock levels.

A delivery note's file is remembered by its digest: the same file twice for a store is
refused (a second click, a re-upload), so goods are never received twice by mistake."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import peewee

from fleet.db import is_postgres, lock_named, write_transaction
from fleet.inventory import Receipt, on_hand, record, update_costs
from fleet.models import OnlineStock, ProductCost, StockDocument, Terminal
from terminal.core.inventory import RECEIVING, TRANSFER, quantity_text

DOCUMENTS = "fleet:doc"  # the ledger's terminal of the movements made here


class DocumentError(ValueError):
    """Refused as asked; nothing moved."""


@dataclass(frozen=True)
class Goods:
    sku: str
    quantity: int  # thousandths
    unit_cost: int | None = None  # a delivery's


def check_not_online_warehouse(db: peewee.Database, *locations: str) -> None:
    """The online flow's warehouse keeps its units in states of its own (available,
    booked) that the Warehouse page moves; goods moved here would be in its ledger and
    not in those states. DocumentError for such a location."""
    stores = {s for (s,) in Terminal.select(Terminal.store).distinct().tuples().bind(db)}
    for location in locations:
        online = OnlineStock.select().where(OnlineStock.location == location).bind(db).exists()
        if online and location not in stores:
            raise DocumentError(
                f"{location} is the online orders' warehouse: its goods move on the "
                "Warehouse page (received, handed over, taken back)"
            )


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _movement(document, position, part, store, g: Goods, kind, reason, at, sign) -> dict:
    return {
        "terminal_id": DOCUMENTS,
        "seq": document,
        "position": position,
        "part": part,
        "store": store,
        "sku": g.sku,
        "quantity": sign * g.quantity,
        "kind": kind,
        "reason": reason[:100],
        "ts": at,
        "business_day": at.date(),
    }


def receive_delivery(
    db: peewee.Database,
    store: str,
    goods: list[Goods],
    *,
    supplier: str,
    file_digest: str,
    by: str,
    at: datetime,
) -> StockDocument:
    """The delivery's goods into ``store`` and their costs into the averages."""
    if not goods:
        raise DocumentError("a delivery with no line")
    check_not_online_warehouse(db, store)
    with write_transaction(db):
        lock_named(db, f"stock:{store}")
        seen = (
            StockDocument.select()
            .where(
                (StockDocument.store == store)
                & (StockDocument.kind == "delivery")
                & (StockDocument.digest == file_digest)
            )
            .bind(db)
            .first()
        )
        if seen is not None:
            raise DocumentError(
                f"this delivery note was received already: D{seen.id}, "
                f"{seen.at:%Y-%m-%d %H:%M} UTC by {seen.by}"
            )
        document = StockDocument.insert(
            kind="delivery", store=store, note=supplier[:100], digest=file_digest, by=by, at=at
        ).execute(db)
        rows = [
            _movement(document, n, 1, store, g, RECEIVING, supplier, at, 1)
            for n, g in enumerate(goods, start=1)
        ]
        record(db, rows)
        update_costs(
            db,
            [
                Receipt(store, g.sku, g.quantity, g.unit_cost or 0, DOCUMENTS, document, at, n)
                for n, g in enumerate(goods, start=1)
            ],
        )
    return StockDocument.select().where(StockDocument.id == document).bind(db).get()


def transfer(
    db: peewee.Database,
    source: str,
    target: str,
    goods: list[Goods],
    *,
    note: str,
    by: str,
    at: datetime,
) -> StockDocument:
    """Goods out of ``source`` and into ``target``, at the cost they had at the source
    (the target's average takes them in as a delivery at that cost). Refused when the
    source's books do not hold them: a transfer of goods that are not there is a typo."""
    if source == target:
        raise DocumentError("a transfer goes to another location")
    if not goods:
        raise DocumentError("a transfer with no line")
    check_not_online_warehouse(db, source, target)
    with write_transaction(db):
        lock_named(db, f"stock:{source}")
        held = on_hand(db, source)
        asked: dict[str, int] = {}
        for g in goods:  # a product on two lines: both together
            asked[g.sku] = asked.get(g.sku, 0) + g.quantity
        short = [
            f"{sku}: {quantity_text(quantity)} asked, "
            f"{quantity_text(held[sku].quantity if sku in held else 0)} held"
            for sku, quantity in asked.items()
            if quantity > (held[sku].quantity if sku in held else 0)
        ]
        if short:
            raise DocumentError(f"{source} does not hold it: " + "; ".join(short))
        query = ProductCost.select(ProductCost.sku, ProductCost.average).where(
            (ProductCost.store == source) & ProductCost.sku.in_([g.sku for g in goods])
        )
        if is_postgres(db):
            query = query.for_update()
        costs = dict(query.tuples().bind(db))
        document = StockDocument.insert(
            kind="transfer", store=source, other_store=target, note=note[:100], by=by, at=at
        ).execute(db)
        rows = []
        for n, g in enumerate(goods, start=1):
            rows.append(_movement(document, n, 1, source, g, TRANSFER, f"to {target}", at, -1))
            rows.append(_movement(document, n, 2, target, g, TRANSFER, f"from {source}", at, 1))
        record(db, rows)
        update_costs(
            db,
            [
                Receipt(target, g.sku, g.quantity, costs[g.sku], DOCUMENTS, document, at, n)
                for n, g in enumerate(goods, start=1)
                if g.sku in costs
            ],
        )
    return StockDocument.select().where(StockDocument.id == document).bind(db).get()


def documents(db: peewee.Database, stores: list[str], limit: int = 100) -> list[StockDocument]:
    """The documents touching these stores, the newest first."""
    return list(
        StockDocument.select()
        .where(
            StockDocument.store.in_(stores or [""]) | StockDocument.other_store.in_(stores or [""])
        )
        .order_by(StockDocument.id.desc())
        .limit(limit)
        .bind(db)
    )
