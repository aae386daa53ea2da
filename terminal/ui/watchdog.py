"""systemd's readiness and watchdog protocol, driven by the window's clock.

Under ``pos-terminal.service`` (``Type=notify``, ``WatchdogSec=``) the app says
``READY=1`` once its first screen is on the display, ``WATCHDOG=1`` every half
``WATCHDOG_USEC`` from Kivy's clock, and ``STOPPING=1`` when it closes. The pings come
from the clock of the window's own loop, not from a thread: a screen that freezes (a
call that never returns on the window's thread) stops them, and systemd restarts the
app. Outside systemd (``NOTIFY_SOCKET`` unset: a developer's ``make run``, the tests)
nothing at all is sent.

Written by hand rather than taken from a library: none in ``requirements/*.lock`` does it
(``sdnotify``, ``systemd-python`` are not there, and the latter is a C extension), and
the protocol is one datagram on an ``AF_UNIX`` socket (sd_notify(3)).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from typing import Protocol

log = logging.getLogger(__name__)
_failed = False  # a notification could not be sent (said once, then quietly)


def notify_address(environ: Mapping[str, str]) -> str | None:
    """Where systemd listens (``NOTIFY_SOCKET``): a path, or an abstract socket whose
    name starts with ``@`` (a NUL byte on the wire); None outside systemd."""
    address = environ.get("NOTIFY_SOCKET", "")
    if not address or address[0] not in "/@":
        return None
    return "\0" + address[1:] if address[0] == "@" else address


def watchdog_interval(environ: Mapping[str, str], pid: int | None = None) -> float | None:
    """Seconds between pings: half of ``WATCHDOG_USEC`` (as sd_watchdog_enabled(3)
    advises); None when systemd keeps no watchdog on this process (``WATCHDOG_PID``
    names another one, e.g. the variable was inherited from a parent)."""
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    owner = environ.get("WATCHDOG_PID")
    if usec <= 0 or (owner and owner != str(pid if pid is not None else os.getpid())):
        return None
    return usec / 2 / 1_000_000


def sd_notify(message: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send one notification; False when there is nobody to tell or it could not be
    sent (the app goes on either way: it never fails because systemd's socket did)."""
    address = notify_address(os.environ if environ is None else environ)
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            # never wait: a listener whose queue is full must not freeze the window
            sock.sendto(message.encode(), socket.MSG_DONTWAIT, address)
    except OSError as exc:
        # said once (then at debug level): a ping every 15 s must not flood the journal
        global _failed
        level = logging.DEBUG if _failed else logging.WARNING
        _failed = True
        log.log(level, "sd_notify %s not sent: %s", message.split("=", 1)[0], exc)
        return False
    return True


class ClockEvent(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """What is used of Kivy's ``Clock``."""

    def schedule_once(self, callback: Callable[[float], object], timeout: float = 0) -> object: ...

    def schedule_interval(
        self, callback: Callable[[float], object], timeout: float
    ) -> ClockEvent: ...


class Watchdog:
    """READY, the pings and STOPPING for the app whose window's clock is ``clock``."""

    def __init__(self, clock: Clock, environ: Mapping[str, str] | None = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.clock = clock
        self.interval = watchdog_interval(self.environ)
        self._pings: ClockEvent | None = None
        self._ready = False

    @property
    def enabled(self) -> bool:
        return notify_address(self.environ) is not None

    def start(self) -> None:
        """From the app's ``on_start``: READY=1 goes out on the clock's second tick, i.e.
        after the first frame (the first screen) has been drawn."""
        if self.enabled:
            self.clock.schedule_once(lambda _dt: self.clock.schedule_once(self._ready_now), 0)

    def _ready_now(self, _dt: float = 0) -> None:
        if self._ready:
            return
        self._ready = True
        self.send("READY=1")
        if self.interval is not None:
            self.send("WATCHDOG=1")
            self._pings = self.clock.schedule_interval(
                lambda _dt: self.send("WATCHDOG=1"), self.interval
            )

    def stop(self) -> None:
        """From the app's ``on_stop``: no more pings, and systemd knows the exit is wanted."""
        if self._pings is not None:
            self._pings.cancel()
            self._pings = None
        if self.enabled:
            self.send("STOPPING=1")

    def send(self, message: str) -> bool:
        return sd_notify(message, self.environ)
