"""The stock ledger kept from the terminals' journals (issue 19): the demo shop's two
days (sales, weighed goods, refunds with and without restock) ingested on each fleet
database; every product's stock on hand is the sum of its movements and equals what the
journal says was sold and put back, computed here from the entries themselves."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from decimal import Decimal as D

from fleet.central import rebuild_rollups
from fleet.db import create_tables
from fleet.ingest import Ingest
from fleet.inventory import backfill, cost_of, ledger_sums, movements, on_hand
from fleet.margins import backfill_nets, margin_report
from fleet.models import RefundLine, SaleLine, StockLevel, StockMovement
from fleet.registry import register_terminal
from terminal.core.approval import PAID_ORDERS
from terminal.services.receiving import ReceivedLine
from terminal.store.journal import read_entries
from tests.fleet.conftest import batch, to_entry
from tests.fleet.test_central import ingest_days

STORE = "Minimarket Sari"
SHOP = "Toko Demo Sejahtera"
TEA = "8991002101111"  # Teh Botol Sosro (TEH-BTL)
DAYS = (date(2026, 11, 1), date(2026, 11, 30))


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
    stock and the hand-computed cost; then a refund put back on the shelf."""
    pos = terminal.pos
    pos.sign_in("2", "2580")
    pos.receiving.receive([ReceivedLine(TEA, "24", 4_100)])
    pos.sign_in("1", "1357")
    for _ in range(4):
        pos.scan(TEA)
    sold = pos.pay_cash(50_000).committed
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
    # a tea brought back and put on the shelf: in at the cost it left with (4.100); the
    # average stays (terminal.core.margins), the margin takes its revenue and cost back
    approval = pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")
    pos.refunds.refund(pos.refunds.find(sold.return_code), [(1, D(1), True)], "defective", approval)
    Ingest(fleet_db).journal(
        "T01", batch([to_entry(e) for e in read_entries(pos.db, decode=False)])
    )
    assert on_hand(fleet_db, SHOP)["TEH-BTL"].quantity == (24 - 4 + 20 - 1 + 1) * 1000
    assert cost_of(fleet_db, SHOP, "TEH-BTL") == 4_350
    (back,) = RefundLine.select().bind(fleet_db)
    assert (back.restock, back.cost) == (True, 4_100)


def test_a_fleet_upgraded_to_the_ledger_fills_it_from_the_sales_it_held(
    fleet_db, ingest, shop_days
):
    """The demo shop's days ingested, then the ledger emptied as a fleet from before it
    would have it: the backfill makes the same movements and stock again, once."""
    ingest_days(fleet_db, ingest, shop_days, 100)
    before = {sku: (h.quantity, h.movements) for sku, h in on_hand(fleet_db, STORE).items()}
    margins_before = margin_report(fleet_db, [STORE], DAYS[0], DAYS[1], "store")
    StockMovement.delete().execute(fleet_db)
    StockLevel.delete().execute(fleet_db)
    SaleLine.update(net=0).execute(fleet_db)  # as a fleet from before the revenue was kept
    assert on_hand(fleet_db, STORE) == {}
    with fleet_db.atomic():
        sales, refunds = backfill(fleet_db)
        assert backfill_nets(fleet_db) == sales
        rebuild_rollups(fleet_db)
    # the revenue again, each sale's whole (its lines shared by amounts, not per tax class:
    # a product's may differ from what the terminal journals now, the store's may not)
    assert margin_report(fleet_db, [STORE], DAYS[0], DAYS[1], "store") == margins_before
    assert sales == len([e for e in shop_days.entries if e.type == "sale"]) and refunds >= 1
    after = {sku: (h.quantity, h.movements) for sku, h in on_hand(fleet_db, STORE).items()}
    assert after == before
    with fleet_db.atomic():
        assert backfill(fleet_db) == (0, 0)  # again: nothing twice
    assert on_hand(fleet_db, STORE) == ledger_sums(fleet_db, STORE)


def test_a_ledger_older_than_its_levels_has_them_at_the_next_start(fleet_db, ingest, shop_days):
    """A fleet whose ledger was made before the stock levels existed: the first start
    that makes the table fills it with the ledger's sums."""
    ingest_days(fleet_db, ingest, shop_days, 100)
    before = on_hand(fleet_db, STORE)
    fleet_db.execute_sql("DROP TABLE stock_level")
    create_tables(fleet_db)
    assert on_hand(fleet_db, STORE) == before == ledger_sums(fleet_db, STORE)
