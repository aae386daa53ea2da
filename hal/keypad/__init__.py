"""PIN and function keypads.

Backends: ``keyboard`` (a USB keypad types into the app like a keyboard; the app maps
its keys through the ``[keys]`` table), ``evdev`` (the device grabbed, so PIN digits reach
no other program; also a matrix keypad exposed by the kernel's gpio-matrix-keypad
overlay), ``matrix`` (a matrix keypad scanned through gpiozero, for boards without the
overlay), ``simulator``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hal.device import (
    Backend,
    BackendSettings,
    DeviceConfig,
    DeviceEnv,
    build,
    configure,
)
from hal.gpio import PIN_FACTORIES
from hal.keypad.base import KEYPAD_KEYS, Keypad
from hal.sim_pipe import PipeReader

log = logging.getLogger(__name__)

KeyHandler = Callable[[str], None]
__all__ = ["BACKENDS", "KEYPAD_KEYS", "KeyboardKeypad", "Keypad", "SimulatorKeypad", "make_keypad"]


class KeyboardKeypad(Keypad):
    """Nothing to run: the keypad is a keyboard."""


class SimulatorKeypad(Keypad):
    """Delivers key presses given to :meth:`press` (a technician's or a test's fingers),
    and key names written to its pipe, one a line: ``printf '1\\nenter\\n' >
    var/sim/keypad`` (a name that is no key of a PIN keypad is logged and dropped)."""

    def __init__(self, fifo_path: Path | None = None) -> None:
        self.fifo_path = fifo_path
        self._pipe = PipeReader(fifo_path, self._from_pipe, "keypad-sim") if fifo_path else None

    def begin(self) -> None:
        if self._pipe:
            self._pipe.start()

    def end(self) -> None:
        if self._pipe:
            self._pipe.stop()

    def press(self, key: str) -> None:
        if key not in KEYPAD_KEYS:
            raise ValueError(f"a PIN keypad has no key {key!r}")
        if not self._running:
            raise RuntimeError("keypad not started")
        self.deliver(key)

    def _from_pipe(self, line: str) -> None:
        try:
            self.press(line.lower())
        except (ValueError, RuntimeError) as exc:
            log.warning("simulator keypad: %s", exc)


class NoSettings(BackendSettings, kw_only=True):
    pass


class EvdevKeypadSettings(BackendSettings, kw_only=True):
    device: str  # /dev/input/by-id/...-event-kbd, or the gpio-matrix-keypad overlay's node


class MatrixKeypadSettings(BackendSettings, kw_only=True):
    rows: list[int]  # BCM pins of the rows, driven low one at a time
    cols: list[int]  # BCM pins of the columns, with pull-ups
    keys: list[str] | None = None  # one key name per row and column, row by row
    pin_factory: str = "lgpio"

    def __post_init__(self) -> None:
        for name in ("rows", "cols"):
            if not getattr(self, name):
                raise ValueError(f"{name}: the BCM pins of the matrix {name}, a list of numbers")
        if self.keys is not None and len(self.keys) != len(self.rows) * len(self.cols):
            raise ValueError("keys: one key name per row and column")
        if self.pin_factory not in PIN_FACTORIES:
            raise ValueError(f"pin_factory: use {', '.join(PIN_FACTORIES)}")


def _evdev(s: EvdevKeypadSettings, _env: DeviceEnv) -> Keypad:
    from hal.evdev_input import EvdevKeypad  # noqa: PLC0415 - evdev is Pi-only

    return EvdevKeypad(s.device)


def _matrix(s: MatrixKeypadSettings, _env: DeviceEnv) -> Keypad:
    from hal.gpio import pin_factory  # noqa: PLC0415 - gpiozero only for GPIO keypads
    from hal.keypad.matrix import DEFAULT_KEYS, MatrixKeypad  # noqa: PLC0415

    return MatrixKeypad(
        s.rows, s.cols, s.keys or list(DEFAULT_KEYS), pin_factory=pin_factory(s.pin_factory)
    )


BACKENDS: dict[str, Backend] = {
    "keyboard": Backend(NoSettings, lambda _s, _env: KeyboardKeypad()),
    "simulator": Backend(
        NoSettings, lambda _s, env: SimulatorKeypad(env.data_dir / "sim" / "keypad")
    ),
    "evdev": Backend(EvdevKeypadSettings, _evdev),
    "matrix": Backend(MatrixKeypadSettings, _matrix),
}


def configure_keypad(table: dict[str, Any]) -> DeviceConfig:
    return configure("keypad", table, BACKENDS, "keyboard")


def make_keypad(cfg: dict[str, Any] | DeviceConfig, data_dir: Path) -> Keypad:
    config = cfg if isinstance(cfg, DeviceConfig) else configure_keypad(cfg)
    return build(config, BACKENDS, DeviceEnv(data_dir))  # type: ignore[return-value]
