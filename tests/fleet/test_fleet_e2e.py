"""Every sale reaches the fleet exactly once, for real: a terminal's database made and
sold into by the terminal's own code, ``pos-terminal agent`` and ``pos-fleet serve`` as
processes of their own, a real Mosquitto with mutual TLS between them, the fleet
database on SQLite or a real PostgreSQL. Faults are real too: the broker stopped and
started, the agent and the ingest SIGKILLed in the middle of a drain.

Synchronises on what the fleet database holds, with deadlines, never on fixed sleeps
(tests/fleet_world.py).
"""

from __future__ import annotations

import re
import signal
from zoneinfo import ZoneInfo

import pytest

from fleet.inventory import cost_of, ledger_sums, on_hand
from terminal.services.receiving import ReceivedLine
from tests.fleet_world import TEH, World, all_held, held, sale_numbers, wait_for
from tests.mosquitto import start_broker

JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request, tmp_path):
    broker = start_broker(tmp_path / "broker")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fleet.db'}"
    else:
        url = request.getfixturevalue("postgres_server").new_database()
    world = World(tmp_path, broker, url)
    yield world
    world.close()
    broker.stop()


def test_a_sale_reaches_the_fleet_database_exactly_once(world):
    shop = world.shop()
    world.serve()
    shop.start_agent()
    (number,) = shop.sell()
    all_held(world, shop)
    assert sale_numbers(world, "T01") == [number]
    # a second sale, the agent and the server long connected: it arrives too
    (second,) = shop.sell()
    all_held(world, shop)
    assert sale_numbers(world, "T01") == [number, second]


def test_the_broker_stopped_during_280_sales_and_a_delivery_loses_none(world):
    """240 sales (more than one batch of the agent's 200) and a delivery received while
    the fleet is unreachable: all of it arrives, and the store's stock and cost with it."""
    shop = world.shop()
    world.serve()
    shop.start_agent()
    numbers = shop.sell(20)
    world.broker.stop()
    numbers += shop.sell(120)  # sold while the fleet is unreachable
    shop.pos.sign_in("2", "2580")
    shop.pos.receiving.receive([ReceivedLine(TEH, "500", 4_100)], supplier="PT Sinar Sosro")
    shop.pos.sign_in("1", "1357")
    numbers += shop.sell(120)
    world.broker.start()
    numbers += shop.sell(20)
    all_held(world, shop)
    assert sale_numbers(world, "T01") == sorted(numbers) and len(numbers) == 280
    db = world.db()
    try:
        assert on_hand(db, "S1")["TEH-BTL"].quantity == (500 - 280) * 1000
        assert cost_of(db, "S1", "TEH-BTL") == 4_100  # the delivery found the stock at -140
        assert on_hand(db, "S1") == ledger_sums(db, "S1")
    finally:
        db.close()


def test_agent_and_ingest_killed_during_a_drain_lose_and_duplicate_nothing(world):
    shop = world.shop()
    numbers = shop.sell(100)
    with shop.pos.db.atomic():  # 3,900 more entries, as days offline leave them
        for n in range(3900):
            shop.pos.journal.append(
                "reprint", {"sale": numbers[n % 100], "copy": n}, shop.pos.clock()
            )
    assert shop.head() >= 4000
    server = world.serve()
    shop.start_agent()
    db = world.db()
    try:
        wait_for(lambda: held(db, "T01") > 0, "the drain to begin")
        shop.agent.send_signal(signal.SIGKILL)
        shop.agent.wait(10)
        part = held(db, "T01")
        assert part < shop.head(), "drained before the kill: make the drain longer"
        shop.start_agent()
        wait_for(lambda: held(db, "T01") > part, "the drain to go on after the agent's restart")
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        assert held(db, "T01") < shop.head(), "drained before the kill: make the drain longer"
        world.serve()
    finally:
        db.close()
    all_held(world, shop)
    assert sale_numbers(world, "T01") == sorted(numbers)


def test_two_ingest_instances_on_one_shared_subscription_store_each_entry_once(world):
    shops = [world.shop("T01"), world.shop("T02")]
    world.serve("fleet-ingest-1")
    world.serve("fleet-ingest-2")
    numbers = {}
    for shop in shops:
        shop.start_agent()
    for shop in shops:
        numbers[shop.terminal_id] = shop.sell(150)
    for shop in shops:
        all_held(world, shop)
        assert sale_numbers(world, shop.terminal_id) == numbers[shop.terminal_id]


def test_two_brokers_and_two_ingest_instances_into_one_database(world):
    """Past one broker: terminals spread over two Mosquittos, an ingest on each, one
    database; every entry stored once."""
    other = start_broker(world.tmp / "broker-2")
    try:
        t01, t02 = world.shop("T01"), world.shop("T02", broker=other)
        world.serve("fleet-ingest-a")
        world.serve("fleet-ingest-b", broker=other)
        t01.start_agent()
        t02.start_agent()
        sold = {"T01": t01.sell(100), "T02": t02.sell(100)}
        for shop in (t01, t02):
            all_held(world, shop)
            assert sale_numbers(world, shop.terminal_id) == sold[shop.terminal_id]
    finally:
        world.close()
        other.stop()


def test_pos_fleet_shows_the_terminals_and_the_days_sales(world):
    shop = world.shop()
    world.serve()
    shop.start_agent()
    shop.sell(3)
    all_held(world, shop)
    terminals = world.fleet("terminals")
    assert terminals.returncode == 0, terminals.stderr
    (row,) = [line for line in terminals.stdout.splitlines() if "T01" in line]
    assert "online" in row and " S1 " in row
    sales = world.fleet("sales", "--day", shop.pos.clock().astimezone(JAKARTA).date().isoformat())
    assert sales.returncode == 0, sales.stderr
    (row,) = [line for line in sales.stdout.splitlines() if "T01" in line]
    assert re.search(r"\b3\b", row), row  # three sales
    verify = world.fleet("verify", "T01")
    assert verify.returncode == 0 and "OK" in verify.stdout, verify.stdout + verify.stderr
