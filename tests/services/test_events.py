"""The service-level event stream: sales, refunds, shifts, configuration and device health
are published as they happen; the device watch reads health and the drawer's sensor on
threads of its own."""

from __future__ import annotations

import dataclasses
import threading
from decimal import Decimal

import pytest

from hal.drawer import configure_drawer
from terminal.services.bootstrap import build_terminal
from terminal.services.device_watch import DeviceWatch
from terminal.services.events import EventStream
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import with_open_shift


def recorder(stream, kinds=None):
    seen = []
    stream.subscribe(lambda event: seen.append((event.kind, event.data)), kinds)
    return seen


def test_what_happens_at_the_counter_is_published(terminal, settings):
    pos = terminal.pos
    seen = recorder(pos.events)
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    pos.pay_cash(20000)
    approval = pos.approvals.approve("paid_orders", pos.cashier, "2580", supervisor="2")
    sale = pos.refunds.find("T01-000001")
    pos.refunds.refund(sale, [(1, Decimal(1), True)], "defective", approval)
    pos.shifts.close({100000: 1})
    document = dict(settings.shop_document, store={**settings.shop_document["store"], "name": "X"})
    pos.apply_shop_config(document, "test")
    kinds = [kind for kind, _data in seen]
    assert kinds == [
        "line_added",
        "sale_committed",
        "refund_committed",
        "shift_closed",
        "config_applied",
    ]
    assert seen[0][1] == {
        "name": "Gula Pasir Gulaku 1 kg",
        "quantity": "1",
        "amount": 17500,
        "total": 17500,
    }
    sold = seen[1][1]
    assert sold["label"] == "T01-000001" and sold["total"] == 17500
    assert (sold["paid"], sold["change"]) == (20000, 2500)  # for the customer's display
    assert seen[2][1]["amount"] == 17500
    assert seen[4][1] == {"version": 2, "source": "test"}
    pos.shifts.open(0)
    assert seen[-1] == ("shift_opened", {"shift_id": 2})


def test_subscribers_choose_kinds_leave_and_cannot_break_the_publisher():
    stream = EventStream()
    sales = recorder(stream, {"sale_committed"})
    every = recorder(stream)

    def broken(_event):
        raise RuntimeError("a screen that crashed")

    stream.subscribe(broken)
    leave = stream.subscribe(lambda e: every.append(("late", e.kind)))
    stream.publish("sale_committed", number=1)
    leave()
    stream.publish("config_applied", version=2)
    assert sales == [("sale_committed", {"number": 1})]
    assert [k for k, _ in every] == ["sale_committed", "late", "config_applied"]
    with pytest.raises(ValueError, match="no such event"):
        stream.publish("sale_comitted")
    with pytest.raises(ValueError, match="no such events: coffee"):
        stream.subscribe(lambda e: None, {"coffee"})


def test_health_is_published_when_it_changes_and_on_demand(terminal):
    pos = terminal.pos
    watch = DeviceWatch(pos, health_period=60)
    changed = threading.Event()
    seen = recorder(pos.events, {"health_changed"})
    pos.events.subscribe(lambda _e: changed.set(), {"health_changed"})
    watch.start()
    try:
        assert changed.wait(5)  # the first reading
        assert seen == [("health_changed", {"events": []})]
        changed.clear()
        pos.printer.paper_out = True
        watch.poke()  # a sale just failed to print: look now, not in 60 s
        assert changed.wait(5)
        assert seen[-1] == ("health_changed", {"events": ["paper-out"]})
        watch.check()  # unchanged: nothing published
        assert len(seen) == 2
    finally:
        watch.stop()
    assert not any(t.name == "health" and t.is_alive() for t in threading.enumerate())


def test_the_drawer_sensor_is_read_on_the_watch_thread(settings, clock):
    hardware = dataclasses.replace(
        settings.hardware,
        drawer=configure_drawer(
            {"backend": "gpio", "pin": 17, "sensor_pin": 27, "pin_factory": "mock"}
        ),
    )
    shop = with_open_shift(
        build_terminal(
            dataclasses.replace(settings, hardware=hardware),
            clock=clock,
            pin_params=FAST_TEST_PARAMS,
        )
    )
    pos = shop.pos
    opened = threading.Event()
    readers = []
    pos.events.subscribe(
        lambda e: (readers.append(threading.current_thread().name), opened.set()), {"drawer"}
    )
    watch = DeviceWatch(pos, health_period=60, drawer_period=0.005)
    clock_ticks = threading.Event()

    def advance():  # the injected clock moves while the watch polls
        while not clock_ticks.wait(0.005):
            clock.advance(0.02)

    ticker = threading.Thread(target=advance, daemon=True)
    ticker.start()
    watch.start()
    try:
        pos.drawer.sensor.pin.drive_high()  # the drawer opens
        assert opened.wait(5)
        assert readers[0] == "drawer-sensor"  # not the window's thread
    finally:
        clock_ticks.set()
        watch.stop()
        pos.drawer.close()
