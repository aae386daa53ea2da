"""The online shop's demo (``make run-online``): ``pos-fleet orders seed`` stocks the
warehouse, brings items to the desk and leaves drop orders waiting; ``pos-fleet orders
statement`` writes a KlikBCA statement that the payments page reads and matches to every
open booking, and to nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from random import Random
from zoneinfo import ZoneInfo

from fleet.cli import main
from fleet.db import connect, create_tables
from fleet.models import DropOrder
from fleet.orders import desk as orders
from fleet.orders.bank_formats import read_statement
from fleet.orders.desk import Customer, DeskRules
from fleet.orders.keys import orders_sealer
from fleet.orders.matching import MATCHED, UNMATCHED
from fleet.orders.reconcile import proposals
from terminal.core.online_orders import DeadlineRule

JAKARTA = ZoneInfo("Asia/Jakarta")
DESK = "Toko Demo Sejahtera"


def test_the_seeded_shop_and_its_statement_pay_every_open_booking(tmp_path):
    config = tmp_path / "fleet.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "fleet.db"}"\n'
        f'[signing]\ndir = "{tmp_path / "signing"}"\n'
        '[orders]\nenabled = true\nwarehouses = ["GUDANG"]\n'
    )
    assert main(["orders", "seed", "--desk", DESK, "--config", str(config)]) == 0
    # a second seed on the same database changes nothing
    assert main(["orders", "seed", "--desk", DESK, "--config", str(config)]) == 1
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    assert orders.stock(db, "TEH-BTL", DESK) == (2, 0, 0)
    waiting = DropOrder.select().where(DropOrder.state == "requested").bind(db)
    assert sorted(d.sku for d in waiting) == ["BERAS-5KG", "PASTA-PSD", "SABUN-LFB"]
    assert orders.stock(db, "NASI-GRG", "GUDANG") == (0, 0, 0)  # cooked: not shipped

    sealer = orders_sealer(tmp_path / "signing")
    rules = DeskRules(DeadlineRule.parse("17:00"), JAKARTA)
    rng = Random(3)
    booked = []
    # booked now: the demo's bank pays today, within the bookings' window
    for sku, name in (("TEH-BTL", "Dewi Lestari"), ("AQUA-600", "Budi Santoso")):
        customer = Customer(name, "0812 3456 7890", "Jl. Melati 5, Jakarta 10310")
        booked.append(
            orders.book(
                db,
                sealer,
                desk=DESK,
                sku=sku,
                price=5_500,
                customer=customer,
                rules=rules,
                at=datetime.now(UTC),
                actor="cs.demo",
                rng=rng,
                series="T21",
            ).order_no
        )
    out = tmp_path / "statement.csv"
    assert main(["orders", "statement", "--out", str(out), "--config", str(config)]) == 0
    lines = read_statement(out.read_bytes(), "bca", None, "statement.csv")
    found = proposals(db, sealer, lines, JAKARTA)
    matched = sorted(p.booking.order for p in found if p.outcome == MATCHED)
    assert matched == sorted(booked)
    assert [p.outcome for p in found if p.booking is None] == [UNMATCHED, UNMATCHED]
