"""Turning what a scanner sends into codes.

- :class:`KeyDecoder`: a keyboard-wedge scanner read through evdev (grabbed, so its digits
  reach no other program): key events -> characters on a US layout, Shift honoured, the
  code complete at Enter. A code left half-finished (a scan cut off, a stray key) is
  discarded after ``pause`` seconds without keys.
- :class:`LineDecoder`: a scanner in serial (CDC-ACM) mode: bytes -> codes ending in CR,
  LF or CR LF, with the same rule for a half-finished code.

Time is injected (``now()`` in seconds) so both are replayed in tests from recordings.
"""

from __future__ import annotations

from collections.abc import Callable

Now = Callable[[], float]

EV_KEY, KEY_DOWN = 0x01, 1
KEY_ENTER, KEY_KPENTER, KEY_LEFTSHIFT, KEY_RIGHTSHIFT = 28, 96, 42, 54
# linux/input-event-codes.h, US layout: code -> (plain, shifted)
KEYMAP: dict[int, tuple[str, str]] = {
    2: ("1", "!"),
    3: ("2", "@"),
    4: ("3", "#"),
    5: ("4", "$"),
    6: ("5", "%"),
    7: ("6", "^"),
    8: ("7", "&"),
    9: ("8", "*"),
    10: ("9", "("),
    11: ("0", ")"),
    12: ("-", "_"),
    13: ("=", "+"),
    16: ("q", "Q"),
    17: ("w", "W"),
    18: ("e", "E"),
    19: ("r", "R"),
    20: ("t", "T"),
    21: ("y", "Y"),
    22: ("u", "U"),
    23: ("i", "I"),
    24: ("o", "O"),
    25: ("p", "P"),
    30: ("a", "A"),
    31: ("s", "S"),
    32: ("d", "D"),
    33: ("f", "F"),
    34: ("g", "G"),
    35: ("h", "H"),
    36: ("j", "J"),
    37: ("k", "K"),
    38: ("l", "L"),
    44: ("z", "Z"),
    45: ("x", "X"),
    46: ("c", "C"),
    47: ("v", "V"),
    48: ("b", "B"),
    49: ("n", "N"),
    50: ("m", "M"),
    51: (",", "<"),
    52: (".", ">"),
    53: ("/", "?"),
    57: (" ", " "),
    71: ("7", "7"),
    72: ("8", "8"),
    73: ("9", "9"),
    75: ("4", "4"),
    76: ("5", "5"),
    77: ("6", "6"),
    79: ("1", "1"),
    80: ("2", "2"),
    81: ("3", "3"),
    82: ("0", "0"),
}


class KeyDecoder:
    def __init__(self, now: Now, pause: float = 0.3) -> None:
        self.now = now
        self.pause = pause
        self._chars: list[str] = []
        self._shift = 0
        self._last = 0.0
        self.discarded = 0

    def feed(self, ev_type: int, code: int, value: int) -> str | None:
        """One input event (type, code, value: 1 down, 0 up, 2 repeat); a code at Enter."""
        if ev_type != EV_KEY:
            return None
        if code in (KEY_LEFTSHIFT, KEY_RIGHTSHIFT):
            self._shift += 1 if value == KEY_DOWN else (-1 if value == 0 else 0)
            self._shift = max(0, self._shift)
            return None
        if value != KEY_DOWN:
            return None
        t = self.now()
        if self._chars and t - self._last > self.pause:
            self._chars.clear()
            self.discarded += 1
        self._last = t
        if code in (KEY_ENTER, KEY_KPENTER):
            code_text, self._chars = "".join(self._chars), []
            return code_text or None
        if code in KEYMAP:
            self._chars.append(KEYMAP[code][1 if self._shift else 0])
        return None


class LineDecoder:
    def __init__(self, now: Now, pause: float = 0.3) -> None:
        self.now = now
        self.pause = pause
        self._buffer = bytearray()
        self._last = 0.0
        self.discarded = 0

    def feed(self, data: bytes) -> list[str]:
        codes: list[str] = []
        t = self.now()
        if self._buffer and data and t - self._last > self.pause:
            self._buffer.clear()
            self.discarded += 1
        if data:
            self._last = t
        for byte in data:
            if byte in (0x0D, 0x0A):
                if self._buffer:
                    codes.append(self._buffer.decode("ascii", "replace"))
                    self._buffer.clear()
            elif 0x20 <= byte < 0x7F:
                self._buffer.append(byte)
        return codes
