"""The database's full integrity check, off the start path.

``PRAGMA quick_check`` reads and decrypts every page: about 3 s for five years of a busy
shop's sales on the development machine, several times that on a Pi. At start the
terminal only checks what it reads anyway (the schema, the journal's head and the
numbers against the key store's memory: a few pages, whatever the size); the full check
runs here, on a read-only connection and a thread of its own, right after the terminal
started and again every day. A damaged database stops the selling: payments are refused,
the screen says why and what to do, and the journal and log say when it was found.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from terminal.store.db import DatabaseUnusable, check_integrity

log = logging.getLogger(__name__)
DAY = 24 * 3600.0


class IntegrityWatch:
    def __init__(
        self,
        pos,
        path: Path,
        key: bytes,
        *,
        period: float = DAY,
        on_damage: Callable[[str], None] | None = None,
    ) -> None:
        self.pos, self.path, self._key, self.period = pos, path, key, period
        self.on_damage = on_damage
        self.checked = threading.Event()  # set after each check (tests wait on it)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name="integrity", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=60)  # (a check under way finishes first)
            self._thread = None

    def check(self) -> str | None:
        """One full check; the damage found, or None."""
        try:
            check_integrity(self.path, self._key)
        except DatabaseUnusable as exc:
            reason = str(exc)
            log.error("terminal stopped: %s", reason)
            self.pos.stop_selling(reason)
            return reason
        finally:
            self.checked.set()
        return None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            if self.check() is not None:
                return  # damaged: nothing more to watch until a technician restores
            self._stopping.wait(self.period)
