"""Keyboard-like devices read through evdev (python-evdev, in the ``[pi]`` extra).

The device is grabbed: while the terminal reads it, no other program (a console, a
desktop) sees its keys - PIN digits included. Devices are opened by stable name
(``/dev/input/by-id/usb-...-event-kbd``), and a device that disappears (unplugged) is
looked for again every second, so plugging it back needs no restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from hal.keypad.base import Keypad
from hal.scanner.base import Scanner
from hal.scanner.decode import EV_KEY, KEY_DOWN, KeyDecoder

log = logging.getLogger(__name__)

KEYPAD_NAMES = {
    2: "1",
    3: "2",
    4: "3",
    5: "4",
    6: "5",
    7: "6",
    8: "7",
    9: "8",
    10: "9",
    11: "0",
    79: "1",
    80: "2",
    81: "3",
    75: "4",
    76: "5",
    77: "6",
    71: "7",
    72: "8",
    73: "9",
    82: "0",
    28: "enter",
    96: "enter",
    14: "backspace",
    111: "clear",
    1: "escape",
    55: "*",
    78: "+",
    74: "-",
}


def keypad_key(ev_type: int, code: int, value: int) -> str | None:
    """A key name for a key press from a PIN/function keypad; None for anything else."""
    if ev_type != EV_KEY or value != KEY_DOWN:
        return None
    return KEYPAD_NAMES.get(code)


class EvdevReader:
    """Reads one input device in a thread, grabbed, reopening it after an unplug."""

    def __init__(self, path: str, on_event: Callable[[int, int, int], None]) -> None:
        self.path = path
        self.on_event = on_event
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"evdev:{path}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        import evdev  # noqa: PLC0415 - only on terminals with evdev devices

        while not self._stopping.is_set():
            try:
                device = evdev.InputDevice(self.path)
                device.grab()
            except OSError as exc:
                log.warning("input device %s unavailable (%s); looking again", self.path, exc)
                time.sleep(1.0)
                continue
            try:
                for event in device.read_loop():
                    if self._stopping.is_set():
                        break
                    self.on_event(event.type, event.code, event.value)
            except OSError:  # unplugged
                log.warning("input device %s went away; waiting for it", self.path)
            finally:
                try:
                    device.ungrab()
                    device.close()
                except OSError:
                    pass


class _EvdevDevice:
    """Starts and stops one EvdevReader (mixed into a Scanner or a Keypad, whose
    ``deliver`` gets what ``translate`` makes of each event)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._reader: EvdevReader | None = None

    def begin(self) -> None:
        translate = self.translator()

        def on_event(ev_type: int, code: int, value: int) -> None:
            value = translate(ev_type, code, value)
            if value:
                self.deliver(value)

        self._reader = EvdevReader(self.path, on_event)
        self._reader.start()

    def end(self) -> None:
        if self._reader:
            self._reader.stop()
            self._reader = None

    def health(self) -> list[str]:
        """Missing while its device node is gone (unplugged)."""
        return [] if Path(self.path).exists() else [f"{self.kind}-missing"]


class EvdevScanner(_EvdevDevice, Scanner):
    def __init__(self, path: str, pause: float = 0.3) -> None:
        super().__init__(path)
        self.pause = pause

    def translator(self) -> Callable[[int, int, int], str | None]:
        return KeyDecoder(time.monotonic, self.pause).feed


class EvdevKeypad(_EvdevDevice, Keypad):
    def translator(self) -> Callable[[int, int, int], str | None]:
        return keypad_key
