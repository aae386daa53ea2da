"""One worker thread for the service calls that take time - a PIN check (Argon2, ~150 ms
on a Pi), the card terminal, committing and printing a sale - so the window keeps drawing
and keys keep arriving. Calls run one at a time, in the order given; their results come
back on the window's thread, through Kivy's clock.

A PosError is the cashier's message (shown by ``on_error``); any other exception is
logged and handed over as a PosError, so a screen never waits for an answer that will
not come.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from kivy.clock import Clock

from terminal.core.errors import N_, PosError

log = logging.getLogger(__name__)


class Worker:
    _busy_total: ClassVar[int] = 0  # calls queued or running, or results not yet delivered
    _count_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, name: str = "pos-worker") -> None:
        self.name = name
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None

    @classmethod
    def idle(cls) -> bool:
        """Whether no call of any worker is waiting, running, or has a result to deliver
        (what the UI driver waits for after a key or a tap)."""
        return cls._busy_total == 0

    @classmethod
    def _count(cls, delta: int) -> None:
        with cls._count_lock:
            cls._busy_total += delta

    def run(
        self,
        call: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[PosError], None] | None = None,
        *,
        interactive: bool = False,
    ) -> None:
        """Run ``call()`` on the worker; then ``on_done(result)`` or ``on_error(error)``
        on the window's thread. ``interactive``: a call that waits on a person (the
        customer at the card terminal), whose progress the screen shows meanwhile; it
        does not count in :meth:`idle`."""
        counted = not interactive
        if counted:
            self._count(1)
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()
        self._jobs.put((call, on_done, on_error, counted))

    def _loop(self) -> None:
        while True:
            call, on_done, on_error, counted = self._jobs.get()
            try:
                result, error = call(), None
            except PosError as exc:
                result, error = None, exc
            except Exception as exc:  # a fault must not leave a screen waiting
                log.exception("service call failed")
                result, error = (
                    None,
                    PosError(N_("Something went wrong: {reason}"), reason=str(exc)),
                )
            delivery = functools.partial(self._deliver, on_done, on_error, result, error, counted)
            Clock.schedule_once(lambda _dt, deliver=delivery: deliver())

    def _deliver(self, on_done, on_error, result, error, counted: bool) -> None:
        try:
            if error is not None:
                if on_error is not None:
                    on_error(error)
                else:
                    log.warning("unhandled refusal: %s", error)
            elif on_done is not None:
                on_done(result)
        finally:
            if counted:
                self._count(-1)
