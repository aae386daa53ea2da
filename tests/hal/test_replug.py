"""Devices unplugged and plugged back: reported missing meanwhile, picked up again without
restarting. A pseudo-terminal plays the scanner; its /dev/serial/by-id style path is a
symlink, as udev makes it, re-pointed to a new pty on replug."""

from __future__ import annotations

import contextlib
import os
import queue
import time
import tty

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
