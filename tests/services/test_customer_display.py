"""The customer's display follows a real sale (issue 20): the terminal's services publish
each moment on the event stream, and the pole display gets, byte for byte, the screens of
a scripted sale in each command set (golden files): two teas, a water voided, the total,
cash paid and the change, the greeting after a while. Over the simulator on a real
pseudo-terminal, as `make run` has it; and an unplugged display neither stops the sale
nor hides: the health bar says it is missing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hal.display import PoleDisplay
from hal.display.commands import CommandSet
from hal.display.simulator import DisplayScreen
from terminal.services.customer_display import CustomerDisplayService
from terminal.services.demo import weighed_barcode
from tests.hal.test_display import Unplugged

GOLDEN = Path(__file__).parent / "data"
TEA, WATER = "8991002101111", "8993992000016"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def scripted_sale(pos, service, display, clock) -> list[tuple[str, str]]:
    """The sale, each screen sent as the display's thread would send it."""
    shown = []

    def send():
        screen = service.take()
        assert screen is not None
        display.show(*screen)
        shown.append(screen)

    pos.sign_in("1", "1357")
    pos.scan(TEA)
    send()
    pos.scan(TEA)
    send()
    pos.scan(WATER)
    send()
    pos.void_line(2, "changed_mind")
    send()
    pos.payment_begins()
    send()
    pos.pay_cash(20_000)
    send()
    assert service.take() is None  # the change stays up ...
    clock.now += 16
    send()  # ... then the shop's greeting
    return shown


@pytest.mark.parametrize("command_set", ["escpos", "cd5220"])
def test_a_sale_on_the_pole_display_byte_for_byte(terminal, command_set):
    """In the shop's receipt language (the demo shop's: Indonesian)."""
    pos = terminal.pos
    line, clock = Unplugged(), Clock()
    display = PoleDisplay(CommandSet(command_set), line.open)
    service = CustomerDisplayService(pos, display, clock=clock)
    display.start()
    shown = scripted_sale(pos, service, display, clock)
    assert shown == [
        ("Teh Botol Sosro 450 ", " " * 12 + "Rp 5.500"),
        ("Teh Botol Sosro 450 ", " " * 12 + "Rp 5.500"),
        ("Aqua 600 ml", " " * 12 + "Rp 3.500"),
        ("Void Aqua 600 ml", "Total" + " " * 6 + "Rp 11.000"),
        ("Total", " " * 11 + "Rp 11.000"),
        ("Dibayar" + " " * 4 + "Rp 20.000", "Kembalian" + " " * 3 + "Rp 9.000"),
        ("Toko Demo Sejahtera", ""),
    ]
    golden = GOLDEN / f"display-sale-{command_set}.bin"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(bytes(line.written))
    assert bytes(line.written) == golden.read_bytes()
    screen = DisplayScreen()
    screen.feed(bytes(line.written))
    assert screen.lines == ("Toko Demo Sejahtera".ljust(20), " " * 20) and screen.garbage == 0
    service.stop()


def test_the_simulator_follows_a_sale_on_its_own_thread(terminal):
    """As `make run` has it: pos.toml's simulator display, the service's thread."""
    pos, display = terminal.pos, terminal.devices.display
    display.start()
    terminal.customer_display.start()
    try:
        sim = display.simulator
        assert sim.wait_for(lambda lines: lines[0].startswith("Toko Demo Sejahtera"))
        pos.sign_in("1", "1357")
        pos.scan(TEA)
        assert sim.wait_for(lambda lines: lines == ("Teh Botol Sosro 450 ", " " * 12 + "Rp 5.500"))
        pos.pay_cash(10_000)
        assert sim.wait_for(lambda lines: lines[1] == "Kembalian" + " " * 3 + "Rp 4.500")
    finally:
        terminal.customer_display.stop()
        display.close()


def test_an_unplugged_display_neither_stops_the_sale_nor_hides(terminal):
    pos = terminal.pos
    line = Unplugged()
    line.plugged = False
    display = PoleDisplay(CommandSet("escpos"), line.open)
    terminal.devices.display = display
    service = CustomerDisplayService(pos, display)
    service.start()
    try:
        pos.sign_in("1", "1357")
        pos.scan(TEA)
        sold = pos.pay_cash(10_000)
        assert sold.committed.number == 1  # sold, whatever the display did
        service.stop()  # (the thread has tried by now, or stops trying)
        display.show("x", "y")
        assert "display-missing" in pos.health()
    finally:
        service.stop()


def test_quantities_cash_rounding_and_a_configuration_pushed_while_running(terminal, settings):
    """A quantity changed, a weighed line, the cash figure when rounding makes it differ,
    the last line voided (the greeting), the shop's name changed by a push, and the
    service stopped and started again."""
    pos = terminal.pos
    line = Unplugged()
    display = PoleDisplay(CommandSet("escpos"), line.open)
    service = CustomerDisplayService(pos, display)
    pos.sign_in("1", "1357")
    pos.scan(TEA)
    pos.set_quantity(0, "3")
    assert service.take() == ("Teh Botol Sosro 450 ", "3 x" + " " * 8 + "Rp 16.500")
    pos.scan(weighed_barcode("22", "10001", 456))  # apples, 0,456 kg x 42.000 = 19.152
    assert service.take() == ("Apel Fuji /kg", "0,456 kg" + " " * 3 + "Rp 19.152")
    pos.payment_begins()  # 35.652 due; cash pays 35.700 (rounded to Rp 100)
    assert service.take() == (
        "Total" + " " * 6 + "Rp 35.652",
        "Tunai" + " " * 6 + "Rp 35.700",
    )
    for _ in range(2):
        pos.void_line(0, "changed_mind")
    assert service.take() == ("Toko Demo Sejahtera", "")  # the last line gone: the greeting
    document = dict(settings.shop_document, store={**settings.shop_document["store"], "name": "X"})
    pos.apply_shop_config(document, "test")
    assert service.screens.idle() == ("X", "")
    service.stop()
    service.start()  # started again: it follows the sale again
    try:
        pos.scan(TEA)
        deadline = time.monotonic() + 5
        while display.shown != ("Teh Botol Sosro 450 ", " " * 12 + "Rp 5.500"):
            assert time.monotonic() < deadline, display.shown
            time.sleep(0.02)
    finally:
        service.stop()
