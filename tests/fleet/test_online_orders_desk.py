"""Central stock and book orders on each fleet database (SQLite, PostgreSQL): drop
orders handed over and taken back by scanning, bookings with their deadline, the last
unit booked by two desks at once, payments confirmed from a statement, the sale."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fleet.config import ConfigError, load_config
from fleet.db import connect
from fleet.inventory import ledger_sums, movements, on_hand
from fleet.models import Booking, StockMove
from fleet.orders import desk as orders
from fleet.orders.desk import Customer, DeskRules
from fleet.orders.keys import orders_sealer
from fleet.orders.matching import MATCHED
from fleet.orders.reconcile import proposals, upload
from fleet.orders.service import OrderDesk
from fleet.orders.statements import ColumnMapping, read_csv
from fleet.registry import register_terminal
from terminal.core.online_orders import DeadlineRule, OrderError
from terminal.core.sealing import Sealer

JAKARTA = ZoneInfo("Asia/Jakarta")
NINE = datetime(2026, 11, 27, 9, 0, tzinfo=JAKARTA)
RULES = DeskRules(DeadlineRule.parse("17:00"), JAKARTA)
SKU = "TEH-BTL"
DEWI = Customer("Dewi Lestari", "0812-3456-7890", "Jl. Melati 5, Jakarta")


@pytest.fixture
def sealer():
    return Sealer(os.urandom(32))


def book(db, sealer, at=NINE, desk="CS1", customer=DEWI, rng=None, rules=RULES, **more):
    return orders.book(
        db,
        sealer,
        desk=desk,
        sku=SKU,
        price=150_000,
        customer=customer,
        rules=rules,
        at=at,
        actor="cs.ani",
        rng=rng or Random(1),
        **more,
    )


def moved(db, location: str) -> int:
    """A location's units of SKU as the sum of its moves (in and out of stock)."""
    rows = StockMove.select().where((StockMove.sku == SKU) & (StockMove.location == location))
    total = 0
    for m in rows.bind(db):
        if m.from_state and not m.to_state:
            total -= abs(m.quantity)
        elif m.to_state and not m.from_state:
            total += abs(m.quantity)
    return total


def test_a_drop_order_handed_over_booked_cancelled_and_taken_back(fleet_db, sealer):
    orders.receive(fleet_db, SKU, "WH", 3, NINE, "wh.budi")
    drop = orders.request_drop(fleet_db, "CS1", "WH", SKU, NINE, "cs.ani")
    with pytest.raises(OrderError, match="asks for TEH-BTL"):
        orders.hand_over(fleet_db, drop, "AQUA-600", NINE, "wh.budi")
    orders.hand_over(fleet_db, drop, SKU, NINE, "wh.budi")
    assert orders.stock(fleet_db, SKU, "WH") == (2, 0, 0)
    assert orders.stock(fleet_db, SKU, "CS1") == (1, 0, 0)
    other = orders.request_drop(fleet_db, "CS1", "WH", SKU, NINE, "cs.ani")
    orders.hand_over(fleet_db, other, SKU, NINE, "wh.budi")
    booking = book(fleet_db, sealer, drop_order=drop)
    assert orders.stock(fleet_db, SKU, "CS1") == (1, 1, 0)
    # the booked item carries the customer's slip: the warehouse cannot take it back
    # (the desk's other unit, of the other drop order, it can)
    with pytest.raises(OrderError, match="is booked"):
        orders.take_back(fleet_db, drop, SKU, NINE, "wh.budi")
    orders.take_back(fleet_db, other, SKU, NINE, "wh.budi")
    assert orders.stock(fleet_db, SKU, "CS1") == (0, 1, 0)
    assert 1 <= booking.unique_code <= 999 and booking.due == 150_000 + booking.unique_code
    assert booking.deadline == datetime(2026, 11, 27, 10, 0)  # 17:00 in Jakarta, in UTC
    orders.cancel(fleet_db, booking.order_no, NINE + timedelta(hours=1), "cs.ani")
    assert orders.stock(fleet_db, SKU, "CS1") == (1, 0, 0)
    orders.take_back(fleet_db, drop, SKU, NINE + timedelta(hours=2), "wh.budi")
    assert orders.stock(fleet_db, SKU, "WH") == (3, 0, 0)
    assert orders.stock(fleet_db, SKU, "CS1") == (0, 0, 0)
    assert moved(fleet_db, "WH") == 3 and moved(fleet_db, "CS1") == 0
    with pytest.raises(OrderError, match="was cancelled"):
        orders.find(fleet_db, booking.order_no, NINE + timedelta(hours=3))


def test_the_customer_is_sealed_in_the_database(fleet_db, sealer):
    orders.receive(fleet_db, SKU, "CS1", 1, NINE, "wh")
    booking = book(fleet_db, sealer)
    row = Booking.select().where(Booking.order_no == booking.order_no).bind(fleet_db).get()
    assert b"Dewi" not in bytes(row.customer) and b"0812" not in bytes(row.customer)
    assert orders.customer_of(sealer, row) == DEWI
    with pytest.raises(Exception, match="does not belong"):
        orders.customer_of(Sealer(os.urandom(32)), row)


def test_no_unit_no_booking(fleet_db, sealer):
    with pytest.raises(OrderError, match="no unit left to book at CS1"):
        book(fleet_db, sealer)
    assert orders.open_bookings(fleet_db) == []


def test_two_desks_booking_the_last_unit_at_once_get_one_booking_and_one_refusal(
    fleet_url, fleet_db, sealer
):
    orders.receive(fleet_db, SKU, "CS1", 1, NINE, "wh")
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def desk(name: str) -> None:
        db = connect(fleet_url)
        try:
            start.wait()
            outcomes.append(book(db, sealer, customer=Customer(name, "", ""), rng=Random()))
        except OrderError as exc:
            outcomes.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=desk, args=(n,)) for n in ("Ani", "Budi")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    booked = [o for o in outcomes if isinstance(o, Booking)]
    refused = [o for o in outcomes if isinstance(o, OrderError)]
    assert len(booked) == 1 and len(refused) == 1, outcomes
    assert "no unit left" in str(refused[0])
    assert orders.stock(fleet_db, SKU, "CS1") == (0, 1, 0)


def test_unpaid_at_the_deadline_the_booking_is_released_and_its_number_refused(fleet_db, sealer):
    orders.receive(fleet_db, SKU, "CS1", 1, NINE, "wh")
    booking = book(fleet_db, sealer)
    deadline = datetime(2026, 11, 27, 17, 0, tzinfo=JAKARTA)
    assert orders.release_expired(fleet_db, deadline - timedelta(seconds=1)) == []
    assert orders.release_expired(fleet_db, deadline) == []  # the deadline itself: in time
    assert orders.find(fleet_db, booking.order_no, deadline).order_no == booking.order_no
    with pytest.raises(OrderError, match="passed its payment deadline"):
        orders.find(fleet_db, booking.order_no, deadline + timedelta(seconds=1))
    assert orders.release_expired(fleet_db, deadline + timedelta(seconds=1)) == [booking.order_no]
    assert orders.stock(fleet_db, SKU, "CS1") == (1, 0, 0)
    with pytest.raises(OrderError, match="was released"):
        orders.find(fleet_db, booking.order_no, deadline + timedelta(seconds=2))
    with pytest.raises(OrderError, match="not a booking number"):
        orders.find(fleet_db, booking.order_no[:-1] + "?", deadline)


def test_a_statement_pays_a_booking_once_and_the_terminal_sells_it(fleet_db, sealer):
    orders.receive(fleet_db, SKU, "CS1", 2, NINE, "wh")
    dewi = book(fleet_db, sealer)
    budi = book(fleet_db, sealer, customer=Customer("Budi Santoso", "", ""), rng=Random(2))
    assert dewi.due != budi.due
    text = (
        "Tanggal,Keterangan,Jumlah\n"
        f'27/11/2026,TRSF E-BANKING CR DEWI LESTARI,"{dewi.due:,}.00 CR"\n'
        f'27/11/2026,SETORAN TUNAI,"{150_000:,}.00 CR"\n'
    )
    mapping = ColumnMapping(
        date="Tanggal",
        description="Keterangan",
        amount="Jumlah",
        decimal_sep=".",
        thousands_sep=",",
    )
    lines = read_csv(text, mapping)
    at = NINE + timedelta(hours=3)
    assert upload(fleet_db, "BCA 1234567890", lines, at) == 2
    assert upload(fleet_db, "BCA 1234567890", lines, at) == 0  # uploaded twice: kept once
    found = proposals(fleet_db, sealer, lines, JAKARTA)
    assert (found[0].outcome, found[0].booking.order) == (MATCHED, dewi.order_no)
    orders.confirm_payment(fleet_db, dewi.order_no, lines[0].key, at, "finance.sri")
    with pytest.raises(OrderError, match=r"not what .* is due"):
        orders.confirm_payment(fleet_db, budi.order_no, lines[1].key, at, "finance.sri")
    with pytest.raises(OrderError, match="already paid another booking"):
        orders.confirm_payment(
            fleet_db, budi.order_no, lines[0].key, at, "finance.sri", other_amount=True
        )
    row = Booking.select().where(Booking.order_no == dewi.order_no).bind(fleet_db).get()
    assert (row.paid_amount, row.paid_by) == (dewi.due, "finance.sri")
    again = proposals(fleet_db, sealer, read_csv(text, mapping), JAKARTA)
    assert again[0].outcome == "already matched"
    assert [b.order_no for b in orders.paid_bookings(fleet_db, "CS1")] == [dewi.order_no]
    with pytest.raises(OrderError, match="is not paid"):
        orders.sold(fleet_db, budi.order_no, "T01-000009", at, "cs.ani")
    orders.sold(fleet_db, dewi.order_no, "T01-000010", at, "cs.ani")
    assert orders.stock(fleet_db, SKU, "CS1") == (0, 1, 0)  # Budi's unit still booked
    assert orders.paid_bookings(fleet_db, "CS1") == []


def test_the_orders_key_is_made_once_readable_by_the_fleet_only(tmp_path):
    first = orders_sealer(tmp_path / "signing")
    path = tmp_path / "signing" / "orders.key"
    assert path.stat().st_mode & 0o777 == 0o600
    sealed = first.seal("booking", "customer", "B1", "Dewi")
    assert orders_sealer(tmp_path / "signing").open("booking", "customer", "B1", sealed) == "Dewi"
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="not an orders key"):
        orders_sealer(tmp_path / "signing")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('deadline = "25:00"', "a time of day"),
        ("code_low = 500\ncode_high = 10", "code_low"),
        ("warehouses = []", "warehouses"),
        ("refund_days = 3", "refund_days"),
    ],
)
def test_a_wrong_orders_setting_is_named(tmp_path, text, error):
    path = tmp_path / "fleet.toml"
    path.write_text(f"[orders]\n{text}\n")
    with pytest.raises(ConfigError, match=error):
        load_config(path)


def test_the_service_releases_what_passed_its_deadline(fleet_db, sealer):
    orders.receive(fleet_db, SKU, "CS1", 1, NINE, "wh")
    booking = book(fleet_db, sealer)
    now = [datetime(2026, 11, 27, 17, 0, 1, tzinfo=JAKARTA)]
    desk = OrderDesk(fleet_db, sealer, deadline=RULES.deadline, clock=lambda: now[0])
    assert desk.release() == [booking.order_no]
    assert desk.release() == []


def test_a_payment_confirmed_first_is_never_undone_by_the_deadline(fleet_db, sealer):
    orders.receive(fleet_db, SKU, "CS1", 1, NINE, "wh")
    booking = book(fleet_db, sealer)
    line = upload_line(fleet_db, booking.due)
    orders.confirm_payment(fleet_db, booking.order_no, line, NINE, "sri")
    late = datetime(2026, 11, 27, 17, 0, 1, tzinfo=JAKARTA)
    assert orders.release_expired(fleet_db, late) == []  # paid: not released
    assert orders.stock(fleet_db, SKU, "CS1") == (0, 1, 0)
    with pytest.raises(OrderError, match="is paid"):
        orders.cancel(fleet_db, booking.order_no, NINE, "cs")


def test_a_debit_line_pays_nothing_even_by_hand(fleet_db, sealer):
    orders.receive(fleet_db, SKU, "CS1", 1, NINE, "wh")
    booking = book(fleet_db, sealer)
    line = upload_line(fleet_db, -booking.due)
    with pytest.raises(OrderError, match="not money in"):
        orders.confirm_payment(fleet_db, booking.order_no, line, NINE, "sri", other_amount=True)


def test_a_sale_that_names_a_booking_not_paid_or_elsewhere_leaves_the_stock_alone(fleet_db, sealer):
    orders.receive(fleet_db, SKU, "CS1", 1, NINE, "wh")
    booking = book(fleet_db, sealer)
    at = datetime(2026, 11, 27, 3, 0)
    assert not orders.settle_sold(fleet_db, booking.order_no, "T01-000001", at, "CS1")  # open
    line = upload_line(fleet_db, booking.due)
    orders.confirm_payment(fleet_db, booking.order_no, line, NINE, "sri")
    assert not orders.settle_sold(fleet_db, booking.order_no, "T09-000001", at, "Bandung")
    assert not orders.settle_sold(fleet_db, "B\x00", "T01-000002", at, "CS1")
    assert orders.settle_sold(fleet_db, booking.order_no, "T01-000003", at, "CS1")
    assert not orders.settle_sold(fleet_db, booking.order_no, "T01-000004", at, "CS1")  # twice
    assert orders.stock(fleet_db, SKU, "CS1") == (0, 0, 0)


def test_a_released_bookings_amount_is_not_given_to_the_next_one(fleet_db, sealer):
    orders.receive(fleet_db, SKU, "CS1", 2, NINE, "wh")
    rules = DeskRules(DeadlineRule.parse("17:00"), JAKARTA, 1, 2)  # two codes only
    first = book(fleet_db, sealer, rules=rules)
    late = datetime(2026, 11, 27, 17, 0, 1, tzinfo=JAKARTA)
    orders.release_expired(fleet_db, late)
    second = book(fleet_db, sealer, at=late, rules=rules)
    assert second.due != first.due  # a late transfer for the first pays nobody else


def upload_line(db, amount: int) -> str:
    marker = "CR" if amount > 0 else "DB"
    text = f'Tanggal,Keterangan,Jumlah\n27/11/2026,TRSF,"{abs(amount):,}.00 {marker}"\n'
    mapping = ColumnMapping(
        date="Tanggal",
        description="Keterangan",
        amount="Jumlah",
        decimal_sep=".",
        thousands_sep=",",
    )
    lines = read_csv(text, mapping)
    upload(db, "BCA", lines, NINE)
    return lines[0].key


def test_the_online_flows_goods_are_in_the_stock_ledger(fleet_db, sealer):
    """Received at the warehouse, handed over to a CS desk (a terminal: its store's
    stock), taken back: each in the ledger as it happens; booking moves nothing there
    (the unit is still on the desk's shelf), and the sale is the till's own entry."""
    register_terminal(fleet_db, "T21", store="Toko Online", group="g", public_key_pem=_public_pem())
    orders.receive(fleet_db, SKU, "WH", 3, NINE, "wh.budi")
    drop = orders.request_drop(fleet_db, "T21", "WH", SKU, NINE, "cs.ani")
    orders.hand_over(fleet_db, drop, SKU, NINE, "wh.budi")
    assert on_hand(fleet_db, "WH")[SKU].quantity == 2_000
    assert on_hand(fleet_db, "Toko Online")[SKU].quantity == 1_000
    booking = book(fleet_db, sealer, desk="T21", drop_order=drop)
    assert on_hand(fleet_db, "Toko Online")[SKU].quantity == 1_000  # booked: still here
    assert orders.booked_at(fleet_db, "Toko Online") == {SKU: 1}  # and not for sale
    orders.cancel(fleet_db, booking.order_no, NINE + timedelta(hours=1), "cs.ani")
    orders.take_back(fleet_db, drop, SKU, NINE + timedelta(hours=2), "wh.budi")
    assert on_hand(fleet_db, "WH")[SKU].quantity == 3_000
    assert on_hand(fleet_db, "Toko Online")[SKU].quantity == 0
    kinds = [(m.kind, m.quantity, m.reason) for m in movements(fleet_db, "Toko Online", SKU)]
    assert kinds == [
        ("transfer", 1_000, f"hand_over drop:{drop}"),
        ("transfer", -1_000, f"take_back drop:{drop}"),
    ]
    for store in ("WH", "Toko Online"):
        assert on_hand(fleet_db, store) == ledger_sums(fleet_db, store)


def _public_pem() -> bytes:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
