"""systemd's notify protocol as the app speaks it: real datagrams on a socket of the
test's own, the pings driven by Kivy's clock (ticked here), and the real app started
under Xvfb the way systemd starts it (``NOTIFY_SOCKET``, ``WATCHDOG_USEC``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from terminal.ui.watchdog import Watchdog, notify_address, sd_notify, watchdog_interval
from tests.conftest import CONFIG, ROOT
from tests.xvfb import start_xvfb


@pytest.fixture
def listener(tmp_path):
    """A datagram socket standing in for systemd's notify socket; yields (env, receive)."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)

    def received() -> list[str]:
        out = []
        while True:
            try:
                out.append(sock.recv(4096).decode())
            except BlockingIOError:
                return out

    yield {"NOTIFY_SOCKET": str(path)}, received
    sock.close()


def tick(seconds: float, received) -> list[str]:
    """Run the window's loop (Kivy's clock with it) for ``seconds``; what was sent
    meanwhile (read as it comes: a datagram socket's queue is short)."""
    from kivy.base import EventLoop  # noqa: PLC0415 - Kivy after the conftest's setup

    messages = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        EventLoop.idle()
        messages += received()
    return messages + received()


def test_nothing_is_sent_outside_systemd(listener, window):
    from kivy.clock import Clock  # noqa: PLC0415

    _env, received = listener
    dog = Watchdog(Clock, {"WATCHDOG_USEC": "100000"})  # no NOTIFY_SOCKET
    assert not dog.enabled and sd_notify("READY=1", {}) is False
    dog.start()
    assert tick(0.2, received) == []
    dog.stop()
    assert received() == []


def test_an_abstract_socket_is_reached():
    name = f"pos-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        assert notify_address({"NOTIFY_SOCKET": "@" + name}) == "\0" + name
        assert sd_notify("READY=1", {"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"READY=1"
    finally:
        sock.close()


def test_a_vanished_socket_does_not_stop_the_app(tmp_path):
    assert sd_notify("WATCHDOG=1", {"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False


def test_a_full_queue_does_not_block_the_window(listener):
    """systemd reading late must not freeze the screen: a datagram that does not fit is
    dropped, never waited on."""
    env, received = listener
    start = time.monotonic()
    sent = [sd_notify("WATCHDOG=1", env) for _ in range(100)]
    assert time.monotonic() - start < 2
    assert sent[0] and not sent[-1]  # the socket's queue (net.unix.max_dgram_qlen) filled
    assert 0 < len(received()) < 100


def test_the_interval_is_half_the_watchdog_and_only_for_this_process():
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, pid=2) is None
    assert watchdog_interval({"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "7"}, pid=7) == 0.1
    assert watchdog_interval({}) is None and watchdog_interval({"WATCHDOG_USEC": "x"}) is None


def test_ready_then_pings_while_the_clock_ticks_and_none_while_blocked(listener, window):
    from kivy.clock import Clock  # noqa: PLC0415

    env, received = listener
    dog = Watchdog(Clock, {**env, "WATCHDOG_USEC": "100000"})  # a ping every 50 ms
    dog.start()
    assert received() == []  # not before the first frame
    first = tick(0.5, received)
    assert first[0] == "READY=1" and first.count("READY=1") == 1
    assert set(first[1:]) == {"WATCHDOG=1"} and len(first) >= 5, first
    time.sleep(0.5)  # the window's loop blocked: the clock does not run, nothing is sent
    assert received() == []
    again = tick(0.3, received)
    assert set(again) == {"WATCHDOG=1"} and len(again) >= 3, again
    dog.stop()
    assert tick(0.2, received) == ["STOPPING=1"]


def test_without_a_watchdog_only_ready_and_stopping(listener, window):
    from kivy.clock import Clock  # noqa: PLC0415

    env, received = listener
    dog = Watchdog(Clock, env)
    dog.start()
    ready = tick(0.2, received)
    dog.stop()
    assert ready + received() == ["READY=1", "STOPPING=1"]


def test_the_running_app_tells_systemd(listener, tmp_path):
    """``pos-terminal run`` in its own process, as pos-terminal.service starts it."""
    env, received = listener
    data = tmp_path / "var"
    config = tmp_path / "pos.toml"
    config.write_text(CONFIG.read_text().replace('data_dir = "var"', f'data_dir = "{data}"'))
    display, xvfb = start_xvfb("800x480x24")
    app = subprocess.Popen(
        [sys.executable, "-m", "terminal", "run", "--config", str(config)],
        cwd=ROOT,
        env=dict(os.environ, DISPLAY=display, WATCHDOG_USEC="400000", **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    messages: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while messages.count("WATCHDOG=1") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
            messages += received()
        assert messages[:1] == ["READY=1"], messages
        assert messages.count("WATCHDOG=1") >= 3, messages
        assert Path(data / "pos.db").exists()  # ready means started: the database is open
    finally:
        app.send_signal(signal.SIGTERM)
        try:
            assert app.wait(30) == 0, app.stderr.read()
        finally:
            if app.poll() is None:
                app.kill()
            xvfb.terminate()
            xvfb.wait(10)
    assert received()[-1:] == ["STOPPING=1"]
