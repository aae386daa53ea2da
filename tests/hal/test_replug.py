"""Devices unplugged and plugged back: reported missing meanwhile, picked up again without
restarting. A pseudo-terminal plays the scanner; its /dev/serial/by-id style path is a
symlink, as udev makes it, re-pointed to a new pty on replug."""

from __future__ import annotations

import contextlib
import os
import queue
import select
import time
import tty

import pytest

from hal.card import make_card_terminal
from hal.card.payments import NOT_CHARGED
from hal.scanner import SerialScanner


def plug(link):
    master, slave = os.openpty()
    tty.setraw(slave)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.ttyname(slave))
    return master, slave


def wait_for(condition, seconds=5.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_serial_scanner_is_picked_up_again_after_a_replug(tmp_path):
    by_id = tmp_path / "usb-Scanner_0001-if00"
    master, slave = plug(by_id)
    codes: queue.Queue[str] = queue.Queue()
    scanner = SerialScanner(str(by_id), pause=0.05, retry=0.05)
    scanner.start(codes.put)
    try:
        assert wait_for(lambda: scanner.health() == [])
        os.write(master, b"8991002101111\r\n")
        assert codes.get(timeout=5) == "8991002101111"
        # unplugged: the line goes dead and the by-id link disappears
        os.close(master)
        os.close(slave)
        by_id.unlink()
        assert wait_for(lambda: scanner.health() == ["scanner-missing"])
        # plugged back: a new tty behind the same by-id path
        master, slave = plug(by_id)
        assert wait_for(lambda: scanner.health() == [])
        os.write(master, b"8993003000011\r\n")
        assert codes.get(timeout=5) == "8993003000011"
    finally:
        scanner.stop()
        for fd in (master, slave):
            with contextlib.suppress(OSError):  # (already closed when unplugged)
                os.close(fd)


def test_a_card_terminal_that_is_not_connected_is_reported_offline(tmp_path):
    desk = make_card_terminal(
        {"backend": "zvt-serial", "device": str(tmp_path / "usb-Terminal-if00")}, tmp_path
    )
    assert desk.health() == []  # never polled: nothing known yet
    payment = desk.pay("S1", 1000)
    assert payment.state == NOT_CHARGED and "not connected" in payment.message
    assert desk.health() == ["card-offline"]


def test_usb_printer_is_found_by_vendor_product_and_serial_number(tmp_path):
    from hal.printer.backends import make_printer  # noqa: PLC0415

    cfg = {"backend": "usb", "vendor_id": 0x04B8, "product_id": 0x0202, "serial": "X3K1234"}
    one = make_printer(cfg, tmp_path).connection
    other = make_printer(dict(cfg, serial="X3K9999"), tmp_path).connection
    # what pyusb's usb.core.find matches on: two printers of one model told apart
    assert one.usb_args == {"idVendor": 0x04B8, "idProduct": 0x0202, "serial_number": "X3K1234"}
    assert other.usb_args["serial_number"] == "X3K9999"
    for connection in (one, other):  # never opened, and pyusb is a Pi-only extra
        connection.close = lambda: None


def test_serial_printer_prints_again_after_a_replug(tmp_path):
    from hal.printer.backends import make_printer  # noqa: PLC0415
    from hal.printer.document import Document  # noqa: PLC0415
    from hal.printer.interface import PrinterError  # noqa: PLC0415

    by_id = tmp_path / "usb-Printer_0001-if00"
    master, slave = plug(by_id)
    printer = make_printer({"backend": "serial", "device": str(by_id)}, tmp_path)
    doc = Document(columns=printer.columns)
    doc.line("first")

    def received(fd):
        data = b""
        while wait_for(lambda: select.select([fd], [], [], 0)[0], 1.0):
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
        return data

    try:
        printer.print_document(doc)
        assert b"first" in received(master)
        os.close(master)
        os.close(slave)
        by_id.unlink()  # unplugged
        with pytest.raises(PrinterError):
            printer.print_document(doc)
        master, slave = plug(by_id)  # plugged back: the next job goes through
        doc.line("second")
        printer.print_document(doc)
        assert b"second" in received(master)
    finally:
        for fd in (master, slave):
            with contextlib.suppress(OSError):
                os.close(fd)
