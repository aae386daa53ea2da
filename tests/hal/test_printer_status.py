"""DLE EOT status over a real pseudo-terminal; the test plays the printer."""

from __future__ import annotations

import os
import threading
import tty

import pytest
import serial

from hal.printer.status import StatusError, read_status

OK = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}


@pytest.fixture
def printer_line():
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    port = serial.Serial(os.ttyname(slave), baudrate=38400, timeout=0.05)
    yield port, master
    port.close()
    os.close(master)
    os.close(slave)


def play_printer(master, replies, stale=b""):
    """Answer each DLE EOT n with replies[n]; send ``stale`` bytes first (a late answer)."""
    if stale:
        os.write(master, stale)

    def run():
        buffer = b""
        answered = 0
        while answered < 4:
            try:
                buffer += os.read(master, 16)
            except OSError:  # the test is over and closed the line
                return
            while len(buffer) >= 3 and buffer[:2] == b"\x10\x04":
                n, buffer = buffer[2], buffer[3:]
                if replies.get(n) is not None:
                    os.write(master, bytes([replies[n]]))
                answered += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("replies", "events", "drawer"),
    [
        (OK, [], False),
        ({**OK, 4: 0x1E}, ["paper-near-end"], False),  # bits 2-3
        ({**OK, 2: 0x32, 4: 0x7E}, ["paper-out"], False),  # paper end, printing stopped
        ({**OK, 1: 0x1A, 2: 0x16}, ["printer-offline", "cover-open"], False),
        ({**OK, 1: 0x16}, [], True),  # drawer sensor high
        ({**OK, 3: 0x1A}, ["printer-error"], False),  # autocutter error
    ],
    ids=["ok", "near-end", "paper-out", "cover-open", "drawer", "cutter"],
)
def test_status_bits(printer_line, replies, events, drawer):
    port, master = printer_line
    play_printer(master, replies, stale=b"\x12\x12")  # a stale answer is flushed first
    status = read_status(port, timeout=1.0)
    assert status.events() == events
    assert status.drawer_sensor is drawer


def test_a_reply_with_wrong_fixed_bits_is_refused(printer_line):
    port, master = printer_line
    play_printer(master, {**OK, 1: 0x41})  # 'A': an echo or noise, not a status
    with pytest.raises(StatusError, match="41 is not a status reply"):
        read_status(port, timeout=1.0)


def test_a_silent_printer_times_out(printer_line):
    port, master = printer_line
    play_printer(master, {1: None, 2: None, 3: None, 4: None})
    with pytest.raises(StatusError, match="did not answer DLE EOT 1"):
        read_status(port, timeout=0.3)


def test_a_network_printer_answers_status_on_its_socket(tmp_path):
    """Port 9100 played by the test: it answers DLE EOT n, one byte each, paper out."""
    import socket  # noqa: PLC0415

    from hal.printer.backends import make_printer  # noqa: PLC0415

    server = socket.create_server(("127.0.0.1", 0))
    replies = {1: 0x12, 2: 0x12 | 0x20, 3: 0x12, 4: 0x12 | 0x60}  # paper out

    def play():
        peer, _ = server.accept()
        with peer:
            buffer = b""
            while True:
                chunk = peer.recv(16)
                if not chunk:
                    return
                buffer += chunk
                while (i := buffer.find(b"\x10\x04")) >= 0 and len(buffer) > i + 2:
                    peer.sendall(bytes([replies[buffer[i + 2]]]))
                    buffer = buffer[i + 3 :]

    threading.Thread(target=play, daemon=True).start()
    host, port = server.getsockname()
    printer = make_printer({"backend": "network", "host": host, "port": port}, tmp_path)
    try:
        assert printer.health() == ["paper-out"]
    finally:
        printer.connection.close()
        server.close()
    # nobody listening any more: offline, not an exception
    assert printer.health() == ["printer-offline"]
