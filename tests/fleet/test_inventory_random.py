"""The stock ledger after a randomised day (hypothesis): a terminal's sales, refunds with
and without restock, deliveries and write-offs, journaled and ingested in batches cut
anywhere, and the online flow's goods received at the warehouse, handed over to the
terminal's desk, booked, cancelled and taken back. Every product's stock on hand (the
levels the ingest keeps) equals the sum of its movements in the ledger and what the day
did, counted here from the operations themselves."""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from random import Random
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.db import connect, create_tables
from fleet.ingest import Ingest
from fleet.inventory import ledger_sums, on_hand
from fleet.orders import desk as orders
from fleet.orders.desk import Customer, DeskRules
from fleet.registry import register_terminal
from terminal.core.online_orders import DeadlineRule, OrderError
from terminal.core.sealing import Sealer
from tests.fleet.conftest import BareTerminal, batch

STORE, WAREHOUSE = "Toko Demo Sejahtera", "Gudang Pusat"
SKUS = ("TEH-BTL", "AQUA-600", "APEL-FUJI")
RULES = DeskRules(DeadlineRule.parse("17:00"), ZoneInfo("Asia/Jakarta"))

quantities = st.one_of(st.integers(1, 5).map(str), st.decimals("0.250", "2.500", places=3).map(str))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("sale"), st.sampled_from(SKUS), quantities),
        st.tuples(st.just("refund"), st.integers(0, 50), st.booleans()),
        st.tuples(st.just("receive"), st.sampled_from(SKUS), quantities),
        st.tuples(st.just("write_off"), st.sampled_from(SKUS), quantities),
        st.tuples(st.just("online_receive"), st.sampled_from(SKUS), st.integers(1, 3)),
        st.tuples(st.just("hand_over"), st.sampled_from(SKUS)),
        st.tuples(st.just("book"), st.sampled_from(SKUS)),
        st.tuples(st.just("cancel"), st.integers(0, 50)),
        st.tuples(st.just("take_back"), st.integers(0, 50)),
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations, st.lists(st.integers(1, 6), min_size=1, max_size=8))
def test_on_hand_is_the_sum_of_the_movements_after_a_random_day(tmp_path_factory, ops, cuts):
    directory = tmp_path_factory.mktemp("day")
    term = BareTerminal(directory / "T01")
    db = connect(f"sqlite:///{directory / 'fleet.db'}")
    create_tables(db)
    register_terminal(
        db, "T01", store=STORE, group="g", public_key_pem=term.journal.public_key_pem()
    )
    sealer, rng = Sealer(os.urandom(32)), Random(1)
    expected: dict[str, Counter] = {STORE: Counter(), WAREHOUSE: Counter()}
    sold: list[tuple[str, int, str, str]] = []  # (sale, position, quantity, sku) to refund
    drops: list[int] = []  # handed over to the desk, not taken back
    bookings: list[str] = []  # open
    number = 0
    for op in ops:
        term.at += timedelta(minutes=3)
        at = term.at
        kind = op[0]
        if kind == "sale":
            number += 1
            line = {"sku": op[1], "quantity": op[2], "unit_price": 1000, "amount": 1000}
            sale = {"number": number, "total": 1000, "lines": [line], "tenders": []}
            term.journal.append("sale", sale, at)
            sold.append((f"T01-{number:06d}", 1, op[2], op[1]))
            expected[STORE][op[1]] -= Decimal(op[2])
        elif kind == "refund" and sold:
            label, position, quantity, sku = sold.pop(op[1] % len(sold))
            number += 1
            line = {"sku": sku, "quantity": quantity, "amount": 1000, "restock": op[2]}
            line["position"] = position
            refund = {"number": number, "sale": label, "amount": 1000, "tenders": {}}
            term.journal.append("refund", {**refund, "lines": [line]}, at)
            if op[2]:  # back on the shelf; else in and out again as damage
                expected[STORE][sku] += Decimal(quantity)
        elif kind == "receive":
            line = {"sku": op[1], "quantity": op[2], "unit_cost": 700}
            term.journal.append("receiving", {"lines": [line]}, at)
            expected[STORE][op[1]] += Decimal(op[2])
        elif kind == "write_off":
            line = {"sku": op[1], "quantity": op[2]}
            term.journal.append("write_off", {"reason": "expired", "lines": [line]}, at)
            expected[STORE][op[1]] -= Decimal(op[2])
        elif kind == "online_receive":
            orders.receive(db, op[1], WAREHOUSE, op[2], at, "wh")
            expected[WAREHOUSE][op[1]] += op[2]
        elif kind == "hand_over":
            drop = orders.request_drop(db, "T01", WAREHOUSE, op[1], at, "cs")
            try:
                orders.hand_over(db, drop, op[1], at, "wh")
            except OrderError:  # none at the warehouse: nothing moves
                continue
            drops.append(drop)
            expected[WAREHOUSE][op[1]] -= 1
            expected[STORE][op[1]] += 1
        elif kind == "book":
            try:
                booking = orders.book(
                    db,
                    sealer,
                    desk="T01",
                    sku=op[1],
                    price=1000,
                    customer=Customer("Dewi", "0812-3456-7890", "Jl. Melati 5, Jakarta"),
                    rules=RULES,
                    at=at,
                    actor="cs",
                    rng=rng,
                )
            except OrderError:  # no unit at the desk
                continue
            bookings.append(booking.order_no)  # on the shelf still: the ledger is unmoved
        elif kind == "cancel" and bookings:
            orders.cancel(db, bookings.pop(op[1] % len(bookings)), at, "cs")
        elif kind == "take_back" and drops:
            drop = drops[op[1] % len(drops)]
            row = db.execute_sql("SELECT sku FROM drop_order WHERE id = ?", (drop,)).fetchone()
            try:
                orders.take_back(db, drop, row[0], at, "wh")
            except OrderError:  # its unit is booked (or not available): it stays
                continue
            drops.remove(drop)
            expected[WAREHOUSE][row[0]] += 1
            expected[STORE][row[0]] -= 1
    entries = term.entries()
    ingest, start, n = Ingest(db), 0, 0
    while start < len(entries):
        size = cuts[n % len(cuts)]
        ingest.journal("T01", batch(entries[start : start + size]))
        start, n = start + size, n + 1
    for store, counted in expected.items():
        held = {sku: h.quantity for sku, h in on_hand(db, store).items() if h.quantity}
        assert held == {sku: int(q * 1000) for sku, q in counted.items() if q}, store
        assert on_hand(db, store) == ledger_sums(db, store), store
    db.close()
