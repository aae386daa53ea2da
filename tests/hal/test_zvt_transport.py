"""ZVT transports over a real pseudo-terminal and a real TCP socket; the test plays the
other end byte by byte."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import tty

import pytest

from hal.card.zvt.framing import ACK, NAK, FrameReader, frame
from hal.card.zvt.transport import LinkError, LinkLost, LinkTimeout, SerialTransport, TcpTransport

STATUS_ENQUIRY = bytes.fromhex("050103123456")


@pytest.fixture
def pty_link():
    """(client transport on the slave side, master fd played by the test)."""
    master, slave = os.openpty()
    tty.setraw(master)
    client = SerialTransport.open(os.ttyname(slave), ack_timeout=0.5)
    os.close(slave)
    yield client, master
    client.close()
    with contextlib.suppress(OSError):
        os.close(master)


def read_frames(fd, count=1):
    reader = FrameReader()
    events = []
    while len(events) < count:
        events += reader.feed(os.read(fd, 1024))
    return events


def test_send_waits_for_ack_and_repeats_after_nak(pty_link):
    client, master = pty_link
    done = threading.Event()
    seen = []

    def terminal():
        (first,) = read_frames(master)
        seen.append(first.apdu)
        os.write(master, bytes([NAK]))  # e.g. a CRC error on its side
        (second,) = read_frames(master)
        seen.append(second.apdu)
        os.write(master, bytes([ACK]))
        done.set()

    threading.Thread(target=terminal, daemon=True).start()
    client.send(STATUS_ENQUIRY)
    assert done.wait(5) and seen == [STATUS_ENQUIRY, STATUS_ENQUIRY]


def test_no_ack_is_a_timeout(pty_link):
    client, _master = pty_link
    with pytest.raises(LinkTimeout):
        client.send(STATUS_ENQUIRY)


def test_three_naks_give_up(pty_link):
    client, master = pty_link

    def terminal():
        for _ in range(3):
            read_frames(master)
            os.write(master, bytes([NAK]))

    threading.Thread(target=terminal, daemon=True).start()
    with pytest.raises(LinkError, match="refused the frame 3 times"):
        client.send(STATUS_ENQUIRY)


def test_receive_acks_good_frames_and_naks_bad_ones(pty_link):
    client, master = pty_link
    bad = bytearray(frame(b"\x80\x00\x00"))
    bad[3] ^= 0xFF
    os.write(master, b"\xff\x00garbage" + bytes(bad))
    answers = []

    def terminal():
        answers.append(os.read(master, 1))  # NAK for the bad frame
        os.write(master, frame(b"\x80\x00\x00"))  # the repeat
        answers.append(os.read(master, 1))

    thread = threading.Thread(target=terminal, daemon=True)
    thread.start()
    assert client.receive(timeout=2) == b"\x80\x00\x00"
    thread.join(2)
    assert answers == [bytes([NAK]), bytes([ACK])]


def test_a_closed_line_is_link_lost(pty_link):
    client, master = pty_link
    os.close(master)
    with pytest.raises((LinkLost, LinkTimeout)):
        client.receive(timeout=1)


def test_tcp_transport_reads_whole_apdus_across_chunks_and_long_lengths():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = TcpTransport.connect("127.0.0.1", server.getsockname()[1])
    peer, _ = server.accept()
    long_data = bytes(range(256)) * 2  # 512 bytes: length FF 00 02
    long_apdu = b"\x06\xd3\xff" + len(long_data).to_bytes(2, "little") + long_data
    wire = b"\x80\x00\x00" + long_apdu
    for i in range(0, len(wire), 7):
        peer.sendall(wire[i : i + 7])
    assert client.receive(2) == b"\x80\x00\x00"
    assert client.receive(2) == long_apdu
    with pytest.raises(LinkTimeout):
        client.receive(0.2)
    peer.sendall(b"\x04\xff")  # half an APDU, then the terminal goes away
    peer.close()
    with pytest.raises(LinkLost, match="closed the connection"):
        client.receive(2)
    client.close()
    server.close()


def test_a_frame_that_crosses_ours_is_acked_and_kept(pty_link):
    """Both sides send at once (the register's Abort crossing the terminal's status
    message, PA00P015 2.21): the register ACKs the terminal's frame, keeps it for
    receive(), and still takes the ACK of its own - neither frame is lost or repeated."""
    client, master = pty_link
    abort, status = bytes.fromhex("06 B0 00"), bytes.fromhex("04 FF 01 0A")
    seen = []

    def terminal():
        os.write(master, frame(status))  # the terminal sends before it reads
        reader = FrameReader()
        while "apdu" not in [e.kind for e in seen]:
            seen.extend(reader.feed(os.read(master, 1024)))
        os.write(master, bytes([ACK]))  # the ACK of the register's frame
        while "ack" not in [e.kind for e in seen]:  # the register's ACK of ours
            seen.extend(reader.feed(os.read(master, 1024)))

    thread = threading.Thread(target=terminal, daemon=True)
    thread.start()
    client.send(abort)
    thread.join(2)
    assert sorted((e.kind, e.apdu) for e in seen) == [("ack", b""), ("apdu", abort)]
    assert client.receive(timeout=1) == status
    with pytest.raises(LinkTimeout):
        client.receive(timeout=0.2)
