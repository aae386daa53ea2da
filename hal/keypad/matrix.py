"""A matrix keypad scanned through gpiozero, for boards without the kernel's
``gpio-matrix-keypad`` overlay (with the overlay, use the evdev backend).

Rows are outputs held high; each scan drives one row low at a time and reads the
columns, which have pull-ups: a pressed key joins its row to its column, so that column
reads low. A key counts once it has read pressed in ``debounce`` scans in a row, and is
reported once per press. Scans run every ``period`` seconds on a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from hal.keypad.base import Keypad

KeyHandler = Callable[[str], None]
DEFAULT_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "enter")


class MatrixKeypad(Keypad):
    def __init__(
        self,
        rows: Sequence[int],
        cols: Sequence[int],
        keys: Sequence[str] = DEFAULT_KEYS,
        *,
        pin_factory: Any = None,
        period: float = 0.01,
        debounce: int = 2,
    ) -> None:
        if len(keys) != len(rows) * len(cols):
            raise ValueError(
                f"keys: {len(rows)} rows x {len(cols)} columns need {len(rows) * len(cols)} "
                f"key names, got {len(keys)}"
            )
        self.row_pins, self.col_pins, self.keys = list(rows), list(cols), list(keys)
        self.pin_factory = pin_factory
        self.period, self.debounce = period, debounce
        self._rows: list[Any] = []
        self._cols: list[Any] = []
        self._counts: dict[int, int] = {}
        self._stopping = threading.Event()
        self.thread = True  # scan on a thread of its own (False: a test calls poll())

    def open(self) -> None:
        from gpiozero import DigitalInputDevice, DigitalOutputDevice  # noqa: PLC0415

        self._rows = [
            DigitalOutputDevice(pin, initial_value=True, pin_factory=self.pin_factory)
            for pin in self.row_pins
        ]
        self._cols = [
            DigitalInputDevice(pin, pull_up=True, pin_factory=self.pin_factory)
            for pin in self.col_pins
        ]

    def pressed(self) -> set[int]:
        """One scan: the indexes (row * columns + column) of the keys down now."""
        down = set()
        for r, row in enumerate(self._rows):
            row.off()  # this row low
            for c, col in enumerate(self._cols):
                if col.is_active:  # pulled low through a pressed key
                    down.add(r * len(self._cols) + c)
            row.on()
        return down

    def poll(self) -> None:
        """One scan, with debounce; reports each newly held key once."""
        down = self.pressed()
        for index in list(self._counts):
            if index not in down:
                del self._counts[index]  # released (or a bounce): starts again
        for index in down:
            self._counts[index] = self._counts.get(index, 0) + 1
            if self._counts[index] == self.debounce:
                self.deliver(self.keys[index])

    def start(self, on_key: KeyHandler | None = None, *, thread: bool = True) -> None:
        self.thread = thread
        super().start(on_key)

    def begin(self) -> None:
        if not self._rows:
            self.open()
        self._stopping.clear()
        if self.thread:

            def run() -> None:
                while not self._stopping.wait(self.period):
                    self.poll()

            threading.Thread(target=run, name="keypad-matrix", daemon=True).start()

    def end(self) -> None:
        self._stopping.set()

    def close(self) -> None:
        super().close()
        for device in self._rows + self._cols:
            device.close()
        self._rows, self._cols = [], []
