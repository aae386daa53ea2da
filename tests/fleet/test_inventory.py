"""The stock ledger kept from the terminals' journals (issue 19): the demo shop's two
days (sales, weighed goods, refunds with and without restock) ingested on each fleet
database; every product's stock on hand is the sum of its movements and equals what the
journal says was sold and put back, computed here from the entries themselves."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

from fleet.inventory import movements, on_hand
from fleet.models import StockMovement
from tests.fleet.test_central import ingest_days

STORE = "Minimarket Sari"


def expected_stock(entries) -> dict[str, int]:
    """Minus what the journal's sales sold, plus what its refunds restocked (thousandths)."""
    stock: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        payload = json.loads(entry.payload_json)
        if entry.type == "sale":
            for line in payload["lines"]:
                stock[line["sku"]] -= Decimal(line["quantity"])
        elif entry.type == "refund":
            for line in payload["lines"]:
                if line.get("restock"):
                    stock[line["sku"]] += Decimal(line["quantity"])
    return {sku: int(q * 1000) for sku, q in stock.items()}


def test_stock_on_hand_is_the_sum_of_the_journaled_movements(fleet_db, ingest, shop_days):
    ingest_days(fleet_db, ingest, shop_days, 100)
    held = on_hand(fleet_db, STORE)
    assert {sku: h.quantity for sku, h in held.items()} == expected_stock(shop_days.entries)
    assert all(h.negative for h in held.values() if h.quantity < 0)  # sold, never received
    kinds = {m.kind for m in StockMovement.select().bind(fleet_db)}
    assert kinds == {"sale", "refund", "damage"}  # the day has refunds of both kinds
    # every figure with the movements behind it
    for sku, figure in held.items():
        behind = movements(fleet_db, STORE, sku)
        assert len(behind) == figure.movements
        assert sum(m.quantity for m in behind) == figure.quantity
    # a refund not put back on the shelf: in, and out again as damage
    for damage in StockMovement.select().where(StockMovement.kind == "damage").bind(fleet_db):
        back = (
            StockMovement.select()
            .where(
                (StockMovement.terminal_id == damage.terminal_id)
                & (StockMovement.seq == damage.seq)
                & (StockMovement.position == damage.position)
                & (StockMovement.part == 1)
            )
            .bind(fleet_db)
            .get()
        )
        assert (back.kind, back.quantity) == ("refund", -damage.quantity)
    assert on_hand(fleet_db, "another store") == {}
