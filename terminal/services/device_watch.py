"""Watches the devices on threads of its own, never on the window's clock: their health
every few seconds (and at once when asked, after a sale), and the cash drawer's open
sensor every 20 ms. What changes goes out on the event stream."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class DeviceWatch:
    def __init__(self, pos, *, health_period: float = 5.0, drawer_period: float = 0.02) -> None:
        self.pos = pos
        self.health_period = health_period
        self.drawer_period = drawer_period
        self.last: list[str] | None = None  # the health events last published
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        # after a sale or a refund the printer may have run out of paper: look at once
        pos.events.subscribe(lambda _event: self.poke(), {"sale_committed", "refund_committed"})

    def start(self) -> None:
        if self._threads:
            return
        self._stopping.clear()
        self._threads = [threading.Thread(target=self._health_loop, name="health", daemon=True)]
        if self.pos.drawer_monitor is not None:
            self._threads.append(
                threading.Thread(target=self._drawer_loop, name="drawer-sensor", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []

    def poke(self) -> None:
        """Read the health now (after a sale: the printer may be out of paper)."""
        self._wake.set()

    def check(self, *, force: bool = False) -> list[str]:
        """One health reading; published when it differs from the last one (or always,
        with ``force``: someone asked)."""
        try:
            events = self.pos.health()
        except Exception as exc:  # a health check must never stop the terminal
            log.warning("health check failed: %s", exc)
            events = []
        if force or events != self.last:
            self.last = events
            self.pos.events.publish("health_changed", events=events)
        return events

    def _health_loop(self) -> None:
        while not self._stopping.is_set():
            self.check()
            self._wake.wait(self.health_period)
            self._wake.clear()

    def _drawer_loop(self) -> None:
        while not self._stopping.wait(self.drawer_period):
            try:
                self.pos.poll_drawer()
            except Exception as exc:  # a sensor read that failed: try again next time
                log.warning("drawer sensor: %s", exc)
