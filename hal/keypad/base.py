"""What every keypad is: an input device that delivers key names."""

from __future__ import annotations

from hal.device import InputDevice

KEYPAD_KEYS = frozenset("0123456789") | {"enter", "clear", "backspace"}


class Keypad(InputDevice[str]):
    """A PIN/function keypad: delivers key names (``"0"``-``"9"``, ``"enter"``, ...)."""

    kind = "keypad"
