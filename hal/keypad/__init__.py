"""PIN and function keypads.

Backends: ``keyboard`` (a USB keypad types into the app like a keyboard; the app maps
its keys through the ``[keys]`` table), ``evdev`` (the device grabbed, so PIN digits reach
no other program; also a matrix keypad exposed by the kernel's gpio-matrix-keypad
overlay), ``matrix`` (a matrix keypad scanned through gpiozero, for boards without the
overlay), ``simulator``.
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


BACKENDS = ("keyboard", "simulator", "evdev", "matrix")


def make_keypad(cfg: dict[str, Any], data_dir: Path) -> KeyboardKeypad | SimulatorKeypad:
    backend = cfg.get("backend", "keyboard")
    if backend == "keyboard":
        return KeyboardKeypad()
    if backend == "simulator":
        return SimulatorKeypad()
    if backend == "evdev":
        from hal.evdev_input import EvdevKeypad  # noqa: PLC0415 - evdev is Pi-only

        return EvdevKeypad(cfg["device"])
    if backend == "matrix":
        from hal.gpio import pin_factory  # noqa: PLC0415 - gpiozero only for GPIO keypads
        from hal.keypad.matrix import DEFAULT_KEYS, MatrixKeypad  # noqa: PLC0415

        return MatrixKeypad(
            [int(p) for p in cfg["rows"]],
            [int(p) for p in cfg["cols"]],
            list(cfg.get("keys", DEFAULT_KEYS)),
            pin_factory=pin_factory(cfg.get("pin_factory", "lgpio")),
        )
    raise ValueError(f"hardware.keypad.backend: unknown {backend!r}; use {', '.join(BACKENDS)}")
