"""The stock ledger kept from the terminals' journals (issue 19): the demo shop's two
days (sales, weighed goods, refunds with and without restock) ingested on each fleet
database; every product's stock on hand is the sum of its movements and equals what the
journal says was sold and put back, computed here from the entries themselves."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

from fleet.ingest import Ingest
from fleet.inventory import cost_of, movements, on_hand
from fleet.models import StockMovement
from fleet.registry import register_terminal
from terminal.services.receiving import ReceivedLine
from terminal.store.journal import read_entries
from tests.fleet.conftest import batch, to_entry
from tests.fleet.test_central import ingest_days

STORE = "Minimarket Sari"
SHOP = "Toko Demo Sejahtera"
TEA = "8991002101111"  # Teh Botol Sosro (TEH-BTL)


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


def test_deliveries_set_the_moving_average_cost_on_each_backend(terminal, fleet_db):
    """A delivery, sales, another delivery at another cost, a write-off, ingested on
    SQLite and PostgreSQL (where the cost's row is locked for the update): the same
    stock and the hand-computed cost."""
    pos = terminal.pos
    pos.sign_in("2", "2580")
    pos.receiving.receive([ReceivedLine(TEA, "24", 4_100)])
    pos.sign_in("1", "1357")
    for _ in range(4):
        pos.scan(TEA)
    pos.pay_cash(50_000)
    pos.sign_in("2", "2580")
    pos.receiving.receive([ReceivedLine(TEA, "20", 4_600)])
    pos.receiving.write_off([(TEA, "1")], "expired")
    register_terminal(
        fleet_db, "T01", store=SHOP, group="g", public_key_pem=pos.journal.public_key_pem()
    )
    Ingest(fleet_db).journal(
        "T01", batch([to_entry(e) for e in read_entries(pos.db, decode=False)])
    )
    assert on_hand(fleet_db, SHOP)["TEH-BTL"].quantity == (24 - 4 + 20 - 1) * 1000
    assert cost_of(fleet_db, SHOP, "TEH-BTL") == 4_350  # (20 x 4.100 + 20 x 4.600) / 40
