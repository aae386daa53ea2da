"""What stands between a request to open the drawer and the solenoid.

- Commands carry an id; a repeated id (a retried message, a double tap) is ignored.
- A command older than ``max_age`` seconds is dropped, never fired late: a drawer that
  springs open minutes after the sale is a complaint every POS hears.
- The open sensor is debounced here (gpiozero's mock pins do not bounce, real contacts
  do), and a drawer left open longer than ``open_limit`` raises an event once.

Time is injected (``now()`` in seconds), so every rule is testable.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from hal.drawer import CashDrawer

Now = Callable[[], float]


class DrawerCommands:
    def __init__(
        self, drawer: CashDrawer, now: Now, *, max_age: float = 3.0, remember: int = 256
    ) -> None:
        self.drawer = drawer
        self.now = now
        self.max_age = max_age
        self.remember = remember
        self._seen: OrderedDict[str, None] = OrderedDict()

    def open(self, command_id: str, issued_at: float) -> str:
        """Fire one pulse for a new, fresh command: ``"opened"``, ``"duplicate"`` or ``"stale"``."""
        if command_id in self._seen:
            return "duplicate"
        self._seen[command_id] = None
        while len(self._seen) > self.remember:
            self._seen.popitem(last=False)
        if self.now() - issued_at > self.max_age:
            return "stale"
        self.drawer.open()
        return "opened"


class DrawerMonitor:
    """Debounces the drawer's open sensor and reports changes and "open too long"."""

    def __init__(
        self,
        read_open: Callable[[], bool],
        now: Now,
        on_event: Callable[[str], None],
        *,
        settle: float = 0.05,
        open_limit: float = 60.0,
    ) -> None:
        self.read_open = read_open
        self.now = now
        self.on_event = on_event
        self.settle = settle
        self.open_limit = open_limit
        self.is_open = read_open()
        self._raw = self.is_open
        self._raw_since = now()
        self._opened_at = self._raw_since if self.is_open else None
        self._warned = False

    def poll(self) -> None:
        """Call often (the app's clock, every 10-20 ms)."""
        t = self.now()
        raw = self.read_open()
        if raw != self._raw:
            self._raw, self._raw_since = raw, t
        if raw != self.is_open and t - self._raw_since >= self.settle:
            self.is_open = raw
            self._opened_at = t if raw else None
            self._warned = False
            self.on_event("drawer-opened" if raw else "drawer-closed")
        if (
            self.is_open
            and not self._warned
            and self._opened_at is not None
            and t - self._opened_at >= self.open_limit
        ):
            self._warned = True
            self.on_event("drawer-open-too-long")
