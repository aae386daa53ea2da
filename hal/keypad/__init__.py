"""PIN and function keypads.

Backend ``keyboard``: a USB keypad types into the app like a keyboard (the app maps
its keys through the ``[keys]`` table). The evdev backend, which grabs the device so
PIN digits reach no other program, comes with the hardware issue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class KeyboardKeypad:
    """Nothing to run: the keypad is a keyboard."""

    def start(self) -> None:
        pass


def make_keypad(cfg: dict[str, Any], data_dir: Path) -> KeyboardKeypad:
    backend = cfg.get("backend", "keyboard")
    if backend != "keyboard":
        raise ValueError(f"hardware.keypad.backend: unknown {backend!r}; use keyboard")
    return KeyboardKeypad()
