"""PIN and function keypads.

Backend ``keyboard``: a USB keypad types into the app like a keyboard (the app maps
its keys through the ``[keys]`` table). The evdev backend, which grabs the device so
PIN digits reach no other program, comes with the hardware issue.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

KeyHandler = Callable[[str], None]
KEYPAD_KEYS = frozenset("0123456789") | {"enter", "clear", "backspace"}


class KeyboardKeypad:
    """Nothing to run: the keypad is a keyboard."""

    def start(self, on_key: KeyHandler) -> None:
        pass


class SimulatorKeypad:
    """Delivers key presses given to :meth:`press` (a technician's or a test's fingers)."""

    def __init__(self) -> None:
        self._on_key: KeyHandler | None = None

    def start(self, on_key: KeyHandler) -> None:
        self._on_key = on_key

    def press(self, key: str) -> None:
        if key not in KEYPAD_KEYS:
            raise ValueError(f"a PIN keypad has no key {key!r}")
        if self._on_key is None:
            raise RuntimeError("keypad not started")
        self._on_key(key)


BACKENDS = ("keyboard", "simulator", "evdev")


def make_keypad(cfg: dict[str, Any], data_dir: Path) -> KeyboardKeypad | SimulatorKeypad:
    backend = cfg.get("backend", "keyboard")
    if backend == "keyboard":
        return KeyboardKeypad()
    if backend == "simulator":
        return SimulatorKeypad()
    if backend == "evdev":
        from hal.evdev_input import EvdevKeypad  # noqa: PLC0415 - evdev is Pi-only

        return EvdevKeypad(cfg["device"])
    raise ValueError(f"hardware.keypad.backend: unknown {backend!r}; use keyboard or simulator")
