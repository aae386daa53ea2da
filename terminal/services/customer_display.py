"""The customer's display follows the sale (issue 20): it listens to the service event
stream (a line added or voided, the order cleared, payment due, the sale paid) and shows
each moment's screen (:class:`terminal.core.customer_display.Screens`, in the shop's
receipt language), on a thread of its own: a display that is slow, unplugged or
missing never delays the till, and only the newest screen is sent (one not sent yet
when the next comes is dropped, never queued). After a sale the paid and change screen
stays :data:`IDLE_AFTER` seconds, then the shop's greeting comes back."""

from __future__ import annotations

import logging
import threading
import time

from hal.display import CustomerDisplay
from terminal.core.customer_display import WORDS, Screens

log = logging.getLogger(__name__)
IDLE_AFTER = 15.0  # seconds the change stays up after a sale
REFRESH = 5.0  # seconds: the screen sent again (a display unplugged is found, one powered
# off and on is set again, a screen that did not get through is tried again)
KINDS = {
    "line_added",
    "line_changed",
    "line_voided",
    "cart_cleared",
    "payment_due",
    "sale_committed",
    "config_applied",
}


class CustomerDisplayService:
    def __init__(
        self, pos, display: CustomerDisplay, *, idle_after: float = IDLE_AFTER, clock=time.monotonic
    ) -> None:
        self.pos = pos
        self.display = display
        self.idle_after = idle_after
        self.clock = clock
        self.screens = self._screens()
        self._next: tuple[str, str] | None = None  # the newest screen not sent yet
        self._idle_at: float | None = None  # when the greeting comes back
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._unsubscribe = None
        if display.present:  # (and again at each start after a stop)
            self._unsubscribe = pos.events.subscribe(self._on_event, KINDS)

    def _screens(self) -> Screens:
        """The shop's screens as its settings are now (a pushed configuration may change
        its name, currency or language)."""
        gettext = self.pos.receipt_gettext
        store = self.pos.settings.store
        return Screens(
            store.currency,
            {key: gettext(text) for key, text in WORDS.items()},
            (store.name, ""),
            getattr(getattr(self.display, "commands", None), "width", 20),
        )

    # -- on the publisher's thread: quick, never touches the device ---------------------------
    def _on_event(self, event) -> None:
        d = event.data
        idle_at = None
        if event.kind == "config_applied":
            self.screens = self._screens()
            return
        if event.kind in ("line_added", "line_changed"):
            screen = self.screens.line_added(d["name"], d["quantity"], d["amount"])
        elif event.kind == "line_voided":
            screen = self.screens.line_voided(d["name"], d["total"])
        elif event.kind == "payment_due":
            screen = self.screens.total(d["due"], d.get("cash_due"))
        elif event.kind == "sale_committed":
            screen = self.screens.paid(d.get("paid", d["total"]), d.get("change", 0))
            idle_at = self.clock() + self.idle_after
        else:  # cart_cleared
            screen = self.screens.idle()
        self.put(screen, idle_at)

    def put(self, screen: tuple[str, str], idle_at: float | None = None) -> None:
        with self._wake:
            self._next, self._idle_at = screen, idle_at
            self._wake.notify()

    # -- the display's own thread ---------------------------------------------------------------
    def start(self) -> None:
        if not self.display.present or self._thread is not None:
            return
        if self._unsubscribe is None:  # started again after a stop
            self._unsubscribe = self.pos.events.subscribe(self._on_event, KINDS)
        self._stopping = False
        self.put(self.screens.idle())
        self._thread = threading.Thread(target=self._run, name="customer-display", daemon=True)
        self._thread.start()

    def take(self, wait: float | None = 0.0) -> tuple[str, str] | None:
        """The screen to send now (the newest; the greeting when its time has come), or
        None after ``wait`` seconds (None: until there is one, or the service stops)."""
        deadline = None if wait is None else self.clock() + wait
        with self._wake:
            while not self._stopping and self._next is None:
                if self._idle_at is not None and self.clock() >= self._idle_at:
                    self._next, self._idle_at = self.screens.idle(), None
                    break
                waits = [t - self.clock() for t in (self._idle_at, deadline) if t is not None]
                if waits and min(waits) <= 0:
                    return None
                self._wake.wait(min([1.0, *waits]))
            screen, self._next = self._next, None
            return screen

    def _run(self) -> None:
        last: tuple[str, str] | None = None
        while not self._stopping:
            screen = self.take(REFRESH)
            if screen is None:  # nothing new: the last screen again (see REFRESH)
                screen = last
            if screen is None or self._stopping:
                continue
            last = screen
            try:
                self.display.show(*screen)
            except Exception as exc:  # a display's fault is the display's, never the sale's
                log.warning("customer display: %s", exc)

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(5)
            if not self._thread.is_alive():  # (one stuck in a write is left to end)
                self._thread = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
