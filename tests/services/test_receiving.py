"""Goods received at a terminal (issue 19): a supervisor scans the delivery with its
quantities and costs; it is journaled on the terminal (offline: the fleet is not asked)
and, once the journal reaches the fleet, moves the store's stock in and sets each
product's moving-average cost; refusals journal nothing."""

from __future__ import annotations

import pytest

from fleet.db import connect, create_tables
from fleet.ingest import Ingest
from fleet.inventory import cost_of, movements, on_hand
from fleet.registry import register_terminal
from terminal.core.errors import PosError, UnknownCode
from terminal.services.receiving import ReceivedLine
from terminal.store.journal import read_entries
from tests.fleet.conftest import batch, to_entry

TEA = "8991002101111"  # Teh Botol Sosro (TEH-BTL)
STORE = "Toko Demo Sejahtera"


def received(pos) -> list[dict]:
    return [e["payload"] for e in read_entries(pos.db, types=("receiving",))]


def test_a_supervisor_receives_goods_and_the_fleet_knows_stock_and_cost(terminal, tmp_path):
    pos = terminal.pos
    pos.sign_in("2", "2580")  # Budi, a supervisor
    first = pos.receiving.receive(
        [ReceivedLine(TEA, "24", 4_100), ReceivedLine("APEL-FUJI", "2.5", 30_000)],
        supplier="PT Sinar Sosro",
    )
    assert (first.lines, first.value) == (2, 24 * 4_100 + 75_000)
    (payload,) = received(pos)
    assert payload["supplier"] == "PT Sinar Sosro" and payload["cashier"] == 2
    assert payload["lines"] == [
        {"sku": "TEH-BTL", "quantity": "24", "unit_cost": 4_100},
        {"sku": "APEL-FUJI", "quantity": "2.5", "unit_cost": 30_000},
    ]
    # some tea sold, then a second delivery at another cost
    pos.sign_in("1", "1357")
    for _ in range(4):
        pos.scan(TEA)
    pos.pay_cash(50_000)
    pos.sign_in("2", "2580")
    pos.receiving.receive([ReceivedLine(TEA, "20", 4_600)])
    # the journal reaches the fleet
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    register_terminal(
        db, "T01", store=STORE, group="g", public_key_pem=pos.journal.public_key_pem()
    )
    Ingest(db).journal("T01", batch([to_entry(e) for e in read_entries(pos.db, decode=False)]))
    stock = on_hand(db, STORE)
    assert stock["TEH-BTL"].quantity == (24 - 4 + 20) * 1000
    assert stock["APEL-FUJI"].quantity == 2_500
    # by hand: 20 on hand at 4.100 and 20 received at 4.600 -> 4.350
    assert cost_of(db, STORE, "TEH-BTL") == 4_350
    assert cost_of(db, STORE, "APEL-FUJI") == 30_000
    assert cost_of(db, STORE, "AQUA-600") is None


def test_receiving_is_a_supervisors_and_bad_lines_journal_nothing(terminal):
    pos = terminal.pos
    pos.sign_in("1", "1357")  # Sari, a cashier
    with pytest.raises(PosError, match="supervisor"):
        pos.receiving.receive([ReceivedLine(TEA, "1", 4_100)])
    pos.sign_in("2", "2580")
    with pytest.raises(PosError, match="Scan the delivered items"):
        pos.receiving.receive([])
    with pytest.raises(UnknownCode):
        pos.receiving.receive(
            [ReceivedLine(TEA, "1", 4_100), ReceivedLine("4006381333931", "1", 1)]
        )
    for quantity, cost in (("0", 4_100), ("-2", 4_100), ("x", 4_100), ("2", -1)):
        with pytest.raises(PosError, match=r"Line 2: .* is not a delivery"):
            pos.receiving.receive(
                [ReceivedLine(TEA, "1", 4_100), ReceivedLine(TEA, quantity, cost)]
            )
    assert received(pos) == []


def test_goods_written_off_leave_the_stock_as_damage_or_loss(terminal, tmp_path):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    with pytest.raises(PosError, match="supervisor"):
        pos.receiving.write_off([(TEA, "1")], "damaged")
    pos.sign_in("2", "2580")
    pos.receiving.receive([ReceivedLine(TEA, "24", 4_100)])
    with pytest.raises(PosError, match="Choose why"):
        pos.receiving.write_off([(TEA, "1")], "a whim")
    with pytest.raises(PosError, match="Line 2: 0 is not a quantity"):
        pos.receiving.write_off([(TEA, "1"), (TEA, "0")], "damaged")
    pos.receiving.write_off([(TEA, "2")], "damaged")
    pos.receiving.write_off([(TEA, "1")], "stolen")
    (damaged, _stolen) = [e["payload"] for e in read_entries(pos.db, types=("write_off",))]
    assert damaged["reason"] == "damaged" and damaged["lines"] == [
        {"sku": "TEH-BTL", "quantity": "2"}
    ]
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    register_terminal(
        db, "T01", store=STORE, group="g", public_key_pem=pos.journal.public_key_pem()
    )
    Ingest(db).journal("T01", batch([to_entry(e) for e in read_entries(pos.db, decode=False)]))
    assert on_hand(db, STORE)["TEH-BTL"].quantity == (24 - 2 - 1) * 1000
    behind = [(m.kind, m.quantity, m.reason) for m in movements(db, STORE, "TEH-BTL")]
    assert behind == [
        ("receiving", 24_000, ""),
        ("damage", -2_000, "damaged"),
        ("loss", -1_000, "stolen"),
    ]
