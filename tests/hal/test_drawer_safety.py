"""Drawer commands (ids, staleness), the debounced sensor, and the printer-kick backend."""

from __future__ import annotations

from gpiozero import DigitalInputDevice
from gpiozero.pins.mock import MockFactory

from hal.drawer import SimulatorDrawer, make_drawer
from hal.drawer.safety import DrawerCommands, DrawerMonitor
from hal.printer.backends import SimulatorPrinter
from hal.printer.preview import DrawerKick, interpret


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_one_pulse_per_command_repeats_ignored_stale_dropped():
    clock, drawer = Clock(), SimulatorDrawer()
    commands = DrawerCommands(drawer, clock, max_age=3.0)
    assert commands.open("sale-1", issued_at=clock.t) == "opened"
    assert commands.open("sale-1", issued_at=clock.t) == "duplicate"  # a retried message
    clock.t += 10
    assert commands.open("sale-2", issued_at=clock.t - 3.5) == "stale"  # never fired late
    assert commands.open("sale-3", issued_at=clock.t - 2.9) == "opened"
    assert len(drawer.pulses) == 2


def test_sensor_is_debounced_and_open_too_long_is_reported_once():
    factory = MockFactory()
    sensor = DigitalInputDevice(22, pull_up=True, pin_factory=factory)
    pin = factory.pin(22)
    pin.drive_low()  # drawer shut: its switch holds the pin at ground (value 1)
    clock, events = Clock(), []
    # open = switch released = pin pulled high = value 0
    monitor = DrawerMonitor(
        lambda: not sensor.value, clock, events.append, settle=0.05, open_limit=60
    )
    assert not monitor.is_open

    def at(dt, high):
        clock.t += dt
        if high is not None:
            (pin.drive_high if high else pin.drive_low)()
        monitor.poll()

    # contact bounce while opening: high/low/high/low/high, each within the settle time
    for high in (True, False, True, False, True):
        at(0.01, high)
    assert events == []
    at(0.06, None)  # stable long enough
    assert events == ["drawer-opened"]
    at(30, None)
    at(30.1, None)
    at(10, None)
    assert events == ["drawer-opened", "drawer-open-too-long"]  # said once
    at(0.01, False)  # shut again
    at(0.06, None)
    assert events[-1] == "drawer-closed"
    sensor.close()


def test_printer_kick_drawer_sends_esc_p(tmp_path):
    printer = SimulatorPrinter(tmp_path, profile="TM-T20II", codepage="CP437", preview=False)
    drawer = make_drawer({"backend": "printer", "pulse_ms": 100}, tmp_path, printer)
    drawer.open()
    assert printer.raw == [bytes([0x1B, 0x70, 0, 50, 100])]
    (kick,) = interpret(printer.raw[0]).of(DrawerKick)
    assert (kick.pin, kick.on_ms) == (0, 100)
    printer.paper_out = True
    drawer.open()  # the kick works without paper
    assert len(printer.raw) == 2
