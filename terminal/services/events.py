"""The service-level event stream: what happened in the terminal, for whoever listens
(the screens, the health bar, later the fleet agent and the customer display), instead
of each of them asking again and again.

Events (``kind``: data):
- ``sale_committed``: number, label, total, journal_seq
- ``refund_committed``: number, label, amount
- ``health_changed``: events (the device health events now, e.g. ``["paper-out"]``)
- ``config_applied``: version, source
- ``shift_opened``: shift_id; ``shift_closed``: shift_id, variance
- ``drawer``: event (``drawer-open``, ``drawer-closed``, ``drawer-open-too-long``)
- ``database_damaged``: reason (the full integrity check found damage: selling stops)
- for the customer's display: ``line_added`` and ``line_changed`` (name, quantity,
  amount, total), ``line_voided`` (name, total), ``cart_cleared`` (cancelled, or the
  last line voided), ``payment_due`` (due: what is left to pay; cash_due: what cash
  pays, after cash rounding), and ``sale_committed`` carries ``paid`` and ``change`` too

Handlers run on the thread that publishes (a sale's on the UI's worker, health on the
watch's thread): a UI handler hands the event to its own thread. A handler that fails is
logged and never stops the publisher or the other handlers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

KINDS = frozenset(
    {
        "sale_committed",
        "refund_committed",
        "health_changed",
        "config_applied",
        "shift_opened",
        "shift_closed",
        "drawer",
        "database_damaged",
        "fleet_message",
        "fleet_lock",
        "line_added",
        "line_changed",
        "line_voided",
        "cart_cleared",
        "payment_due",
    }
)


@dataclass(frozen=True)
class Event:
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Event], None]


class EventStream:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: list[tuple[frozenset[str] | None, Handler]] = []

    def subscribe(self, handler: Handler, kinds: Iterable[str] | None = None) -> Callable[[], None]:
        """Call ``handler`` for each event (of ``kinds`` only, when given); returns the
        function that unsubscribes it."""
        wanted = None if kinds is None else frozenset(kinds)
        if wanted is not None and wanted - KINDS:
            raise ValueError(f"no such events: {', '.join(sorted(wanted - KINDS))}")
        entry = (wanted, handler)
        with self._lock:
            self._handlers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._handlers:
                    self._handlers.remove(entry)

        return unsubscribe

    def publish(self, kind: str, **data: Any) -> Event:
        if kind not in KINDS:
            raise ValueError(f"no such event {kind!r}")
        event = Event(kind, data)
        with self._lock:
            handlers = list(self._handlers)
        for wanted, handler in handlers:
            if wanted is None or kind in wanted:
                try:
                    handler(event)
                except Exception:  # a listener's fault is its own
                    log.exception("event handler for %s failed", kind)
        return event
