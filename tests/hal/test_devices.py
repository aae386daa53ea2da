"""Drawer (gpiozero mock pins), scanner simulator (a real named pipe), printer backends."""

import stat
import threading
import time

import pytest
from gpiozero.pins.mock import MockFactory

from hal.drawer import GpioDrawer, SimulatorDrawer, make_drawer
from hal.keypad import make_keypad
from hal.printer.backends import EscposPrinter, SimulatorPrinter, make_printer
from hal.printer.document import Document
from hal.printer.interface import PrinterError
from hal.printer.preview import interpret
from hal.scanner import SimulatorScanner, WedgeScanner, make_scanner


def test_gpio_drawer_fires_one_pulse_of_the_configured_length():
    factory = MockFactory()
    drawer = GpioDrawer(17, pulse_ms=100, pin_factory=factory)
    pin = factory.pin(17)
    drawer.open()
    drawer.output._blink_thread.join(2)  # gpiozero's pulse thread
    states = [s.state for s in pin.states]
    assert states == [False, True, False]  # initial low, one high pulse, low again
    high = pin.states[1].timestamp
    low = pin.states[2].timestamp
    assert 0.09 <= low - high < 0.5  # the solenoid needs the full pulse, never a stuck-high pin
    drawer.close()


def test_active_low_drawer_idles_high():
    factory = MockFactory()
    drawer = GpioDrawer(27, active_high=False, pulse_ms=50, pin_factory=factory)
    drawer.open()
    drawer.output._blink_thread.join(2)
    states = [s.state for s in factory.pin(27).states]
    # the mock pin exists (low) before the device drives it; from then on: idle high,
    # one low pulse, idle high again
    assert states[1:] == [True, False, True]
    drawer.close()


def test_simulator_drawer_logs_pulses(tmp_path):
    drawer = make_drawer({"backend": "simulator", "pulse_ms": 120}, tmp_path)
    assert isinstance(drawer, SimulatorDrawer)
    drawer.open()
    drawer.open()
    assert len(drawer.pulses) == 2
    log = (tmp_path / "sim" / "drawer.log").read_text().splitlines()
    assert len(log) == 2 and log[0].endswith("pulse 120 ms")


def test_unknown_backends_are_named():
    with pytest.raises(ValueError, match=r"hardware\.drawer\.backend: unknown .relay."):
        make_drawer({"backend": "relay"}, None)
    with pytest.raises(ValueError, match=r"hardware\.printer\.backend: unknown .bluetooth."):
        make_printer({"backend": "bluetooth"}, None)
    with pytest.raises(ValueError, match=r"hardware\.scanner\.backend: unknown"):
        make_scanner({"backend": "camera"}, None)


def test_scanner_simulator_reads_codes_from_its_pipe(tmp_path):
    scanner = make_scanner({"backend": "simulator"}, tmp_path)
    assert isinstance(scanner, SimulatorScanner)
    got, done = [], threading.Event()

    def on_scan(code):
        got.append(code)
        if len(got) == 2:
            done.set()

    scanner.start(on_scan)
    with open(tmp_path / "sim" / "scanner", "w") as pipe:
        pipe.write("8991002101111\n\n  73513537 \n")
    assert done.wait(5), got
    assert got == ["8991002101111", "73513537"]  # blank lines ignored, spaces trimmed
    scanner.inject("12345670")
    assert got[-1] == "12345670"
    scanner.stop()


def test_scanner_simulator_replaces_a_plain_file_with_its_pipe(tmp_path):
    path = tmp_path / "sim" / "scanner"
    path.parent.mkdir()
    path.write_text("8991002101111\n")  # `echo > var/sim/scanner` while the app was down
    got = []
    scanner = SimulatorScanner(path)
    scanner.start(got.append)
    assert stat.S_ISFIFO(path.stat().st_mode)
    with open(path, "w") as pipe:
        pipe.write("73513537\n")
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # would the old file be read again and again? (it must not)
    assert got == ["73513537"]
    scanner.stop()


def test_keypad_simulator_presses_keys(tmp_path):
    keypad = make_keypad({"backend": "simulator"}, tmp_path)
    pressed = []
    keypad.start(pressed.append)
    for key in ("1", "3", "enter"):
        keypad.press(key)
    assert pressed == ["1", "3", "enter"]
    with pytest.raises(ValueError, match="no key 'x'"):
        keypad.press("x")


def test_wedge_scanner_needs_no_driver(tmp_path):
    assert isinstance(make_scanner({"backend": "wedge"}, tmp_path), WedgeScanner)


def test_file_backend_writes_the_same_bytes_as_the_golden_render(tmp_path):
    device = tmp_path / "lp0"
    device.touch()
    printer = make_printer(
        {"backend": "file", "path": str(device), "profile": "TM-T20II"}, tmp_path
    )
    assert isinstance(printer, EscposPrinter) and printer.columns == 48
    doc = Document().line("Halo").qr("X")
    sent = printer.print_document(doc)
    assert device.read_bytes() == sent
    assert interpret(sent).lines[0] == "Halo"


def test_a_printer_that_refuses_raises_printer_error(tmp_path):
    class Unplugged:
        def _raw(self, data):
            raise OSError("No such device")

        def close(self):
            raise OSError("already gone")

    printer = EscposPrinter(Unplugged(), profile="TM-T20II", codepage="CP437")
    with pytest.raises(PrinterError, match="No such device"):
        printer.print_document(Document().line("x"))


def test_simulator_printer_paper_out(tmp_path):
    printer = SimulatorPrinter(tmp_path, profile="TM-T20II", codepage="CP437", preview=False)
    printer.paper_out = True
    with pytest.raises(PrinterError, match="paper out"):
        printer.print_document(Document().line("x"), job_name="T01-000001")
    assert printer.jobs == [] and not list(tmp_path.iterdir())
    printer.paper_out = False
    printer.print_document(Document().line("x"), job_name="T01-000001")
    assert (tmp_path / "T01-000001.escpos").exists()
