"""Gross margin (issue 19) from a real terminal's journal, ingested on SQLite and
PostgreSQL: deliveries set the cost, sales carry their lines' revenue net of tax and
their goods' cost, a restocked refund takes both back, a refund not restocked takes back
the revenue only, a product never received is counted as uncosted; the report per
product, cashier, store and day against a table computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from fleet.central import rebuild_rollups
from fleet.ingest import Ingest
from fleet.margins import margin_report
from fleet.models import ProductDay, RefundLine, SaleLine
from fleet.registry import register_terminal
from terminal.core.approval import PAID_ORDERS
from terminal.services.receiving import ReceivedLine
from terminal.store.journal import read_entries
from tests.fleet.conftest import batch, to_entry

SHOP = "Toko Demo Sejahtera"
TEA, SUGAR, WATER = "8991002101111", "8993003000011", "8993992000016"
DAY = date(2026, 11, 23)


def sell_and_refund(pos):
    """Deliveries, two sales, two refunds; the journal's entries split where the refunds
    begin (so a refund finds its sale in the fleet's database, not in its own batch)."""
    pos.sign_in("2", "2580")
    pos.receiving.receive([ReceivedLine(TEA, "24", 4_100), ReceivedLine(SUGAR, "10", 14_000)])
    pos.sign_in("1", "1357")
    for _ in range(4):
        pos.scan(TEA)
    first = pos.pay_cash(50_000).committed
    for code in (TEA, SUGAR, WATER):  # the water was never received
        pos.scan(code)
    second = pos.pay_cash(50_000).committed
    sold = max(e["seq"] for e in read_entries(pos.db, decode=False))
    approval = pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")
    pos.refunds.refund(
        pos.refunds.find(first.return_code), [(1, D(1), True)], "defective", approval
    )
    approval = pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")
    pos.refunds.refund(
        pos.refunds.find(second.return_code), [(2, D(1), False)], "defective", approval
    )
    entries = [to_entry(e) for e in read_entries(pos.db, decode=False)]
    return [e for e in entries if e.seq <= sold], [e for e in entries if e.seq > sold]


def test_the_margin_per_product_cashier_store_and_day_against_a_hand_computed_table(
    terminal, fleet_db
):
    pos = terminal.pos
    register_terminal(
        fleet_db, "T01", store=SHOP, group="g", public_key_pem=pos.journal.public_key_pem()
    )
    sales, refunds = sell_and_refund(pos)
    Ingest(fleet_db).journal("T01", batch(sales))
    Ingest(fleet_db).journal("T01", batch(refunds))

    # the lines as ingested: revenue before PPN 11 % (inside the prices), cost at average
    lines = sorted((line.sku, line.net, line.cost) for line in SaleLine.select().bind(fleet_db))
    assert lines == [
        ("AQUA-600", 3_153, None),  # water: never received; PPN 9.000 -> 8.108 by amounts
        ("GULA-1KG", 17_500, 14_000),  # sugar: no tax
        *[("TEH-BTL", 4_955, 4_100)] * 5,  # 5.500 / 1,11 each; at 4.100
    ]
    back = {line.sku: (line.net, line.cost) for line in RefundLine.select().bind(fleet_db)}
    assert back == {
        "TEH-BTL": (4_955, 4_100),  # a quarter of the first sale's line, put back
        "GULA-1KG": (17_500, 0),  # not restocked: the revenue back, the cost stays
    }

    by_product = {
        row.key: (row.quantity, row.net, row.cost, row.margin, row.uncosted)
        for row in margin_report(fleet_db, [SHOP], DAY, DAY, "product")
    }
    assert by_product == {
        "TEH-BTL": (4_000, 19_820, 16_400, 3_420, 0),
        "AQUA-600": (1_000, 3_153, 0, 0, 1),  # no cost known: its revenue is no margin
        "GULA-1KG": (0, 0, 14_000, -14_000, 0),
    }
    [store] = margin_report(fleet_db, [SHOP], DAY, DAY, "store")
    # the margin over the revenue whose cost is known: 22.973 - 3.153 - 30.400
    assert (store.net, store.cost, store.margin) == (22_973, 30_400, -10_580)
    [cashier] = margin_report(fleet_db, [SHOP], DAY, DAY, "cashier")
    assert (cashier.key, cashier.net, cashier.cost, cashier.uncosted) == (
        f"{SHOP} / 1",
        22_973,
        30_400,
        1,
    )
    assert cashier.margin == -10_580
    [day] = margin_report(fleet_db, [SHOP], DAY, DAY, "day")
    assert (day.key, day.margin) == ("2026-11-23", -10_580)
    assert margin_report(fleet_db, ["another store"], DAY, DAY, "store") == []
    tea = next(
        r for r in margin_report(fleet_db, [SHOP], DAY, DAY, "product") if r.key == "TEH-BTL"
    )
    assert tea.percent == D("17.3")  # 3.420 / 19.820

    # the rollups made again from the central tables agree
    before = sorted(ProductDay.select().tuples().bind(fleet_db))
    with fleet_db.atomic():
        rebuild_rollups(fleet_db)
    assert sorted(ProductDay.select().tuples().bind(fleet_db)) == before
