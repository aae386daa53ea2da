"""A 2 x 20 customer display, in software: it reads what the terminal sends on the far
end of a pseudo-terminal, speaks both command sets of :mod:`hal.display.commands` (and
the cursor and mode commands around them) the way a display does, and keeps its two
lines, written to a text file for a technician (``var/sim/display.txt``: ``watch cat``).

Bytes it does not understand are counted (``garbage``) and skipped, as a display shows
nothing for them: a test sends noise and finds the screen unharmed."""

from __future__ import annotations

import os
import select
import threading
from pathlib import Path

from hal.display.commands import CHARSETS, CLR, CR, ESC, US

HOM, LF, CAN, BS, HT = 0x0B, 0x0A, 0x18, 0x08, 0x09
# ESC sequences and how many argument bytes follow them
_ESC_ARGS = {0x40: 0, 0x74: 1, 0x52: 1, 0x2A: 1, 0x5F: 1, 0x66: 1, 0x63: 1, 0x3D: 1,
             0x11: 0, 0x12: 0, 0x13: 0, 0x6C: 2}  # fmt: skip
_US_ARGS = {0x01: 0, 0x02: 0, 0x03: 0, 0x24: 2, 0x58: 1, 0x43: 1, 0x45: 1, 0x72: 1,
            0x0A: 0, 0x0D: 0, 0x42: 0, 0x40: 0}  # fmt: skip


class DisplayScreen:
    """The display's state, fed bytes as they arrive (split anywhere)."""

    def __init__(self, width: int = 20, charset: str = "ascii") -> None:
        self.width, self.charset = width, charset
        self.garbage = 0  # bytes not understood
        self._pending = bytearray()
        self._reset()

    def _reset(self) -> None:
        """As at power-on (``ESC @``): blank, cursor home, full brightness."""
        self.cells = [[" "] * self.width for _ in range(2)]
        self.x = self.y = 0
        self.brightness = 4
        self._string_line: int | None = None  # CD5220 string mode: ESC Q A / B ... CR

    @property
    def lines(self) -> tuple[str, str]:
        return tuple("".join(c for c in row if c is not None) for row in self.cells)  # type: ignore[return-value]

    def feed(self, data: bytes) -> None:
        self._pending += data
        while self._pending:
            used = self._step(bytes(self._pending))
            if used == 0:  # a sequence not complete yet: wait for more
                return
            del self._pending[:used]

    # -- one step: how many bytes it used (0: need more) -------------------------------------
    def _step(self, data: bytes) -> int:
        b = data[0]
        if self._string_line is not None:
            if b == CR:
                self._string_line = None
                return 1
            return self._char(data)
        if b == ESC:
            return self._escape(data)
        if b == US:
            return self._unit(data)
        if b == CLR:
            self.cells = [[" "] * self.width for _ in range(2)]
            self.x = self.y = 0
            return 1
        if b == CAN:
            self.cells[self.y] = [" "] * self.width
            self.x = 0
            return 1
        if b == CR:
            self.x = 0
            return 1
        if b == LF:
            self.y = min(1, self.y + 1)
            return 1
        if b == HOM:
            self.x = self.y = 0
            return 1
        if b == BS:
            self.x = max(0, self.x - 1)
            return 1
        if b == HT:
            self.x = min(self.width - 1, self.x + 1)
            return 1
        if b < 0x20 or b == 0x7F:
            self.garbage += 1
            return 1
        return self._char(data)

    def _escape(self, data: bytes) -> int:
        if len(data) < 2:
            return 0
        code = data[1]
        if code == 0x51:  # ESC Q A|B|D: string mode on a line
            if len(data) < 3:
                return 0
            line = {0x41: 0, 0x42: 1, 0x44: 0}.get(data[2])
            if line is None:
                self.garbage += 3
                return 3
            self._string_line = line
            self.cells[line] = [" "] * self.width
            self.x, self.y = 0, line
            return 3
        if code not in _ESC_ARGS:
            self.garbage += 2
            return 2
        size = 2 + _ESC_ARGS[code]
        if len(data) < size:
            return 0
        if code == 0x40:
            self._reset()
        elif code == 0x2A:
            self.brightness = data[2]
        elif code == 0x6C:
            self._move(data[2], data[3])
        return size

    def _unit(self, data: bytes) -> int:
        if len(data) < 2:
            return 0
        code = data[1]
        if code not in _US_ARGS:
            self.garbage += 2
            return 2
        size = 2 + _US_ARGS[code]
        if len(data) < size:
            return 0
        if code == 0x24:
            self._move(data[2], data[3])
        elif code == 0x58:
            self.brightness = data[2]
        return size

    def _move(self, column: int, row: int) -> None:
        if 1 <= column <= self.width and row in (1, 2):
            self.x, self.y = column - 1, row - 1
        else:
            self.garbage += 1

    def _char(self, data: bytes) -> int:
        wide = self.charset == "gb2312" and data[0] >= 0xA1
        if wide and len(data) < 2:
            return 0
        raw = data[:2] if wide else data[:1]
        try:
            char = raw.decode(CHARSETS[self.charset])
        except UnicodeDecodeError:
            char = "?"
            self.garbage += 1
        if self.x < self.width:
            self.cells[self.y][self.x] = char
            if wide and self.x + 1 < self.width:
                self.cells[self.y][self.x + 1] = None  # type: ignore[call-overload]
            self.x += 2 if wide else 1
        return len(raw)


class DisplaySimulator:
    """The display on the far end of a pseudo-terminal (see the module)."""

    def __init__(self, width: int = 20, charset: str = "ascii", out: Path | None = None) -> None:
        self.screen = DisplayScreen(width, charset)
        self.out = out
        self.changed = threading.Condition()
        self._master: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start_pty(self) -> str:
        """The pty's device path, for the terminal's serial line to open."""
        master, slave = os.openpty()
        self._master = master
        path = os.ttyname(slave)
        os.close(slave)  # (the terminal's own open keeps the line)
        self._thread = threading.Thread(target=self._read, name="display-sim", daemon=True)
        self._thread.start()
        return path

    def _read(self) -> None:
        assert self._master is not None
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:  # nobody holds the line now: wait for the next open
                self._stop.wait(0.1)
                continue
            with self.changed:
                self.screen.feed(data)
                self.changed.notify_all()
            if self.out is not None:
                self._save()

    def _save(self) -> None:
        assert self.out is not None
        self.out.parent.mkdir(parents=True, exist_ok=True)
        upper, lower = self.screen.lines
        rule = "+" + "-" * self.screen.width + "+"
        tmp = self.out.with_suffix(".tmp")
        tmp.write_text(f"{rule}\n|{upper}|\n|{lower}|\n{rule}\n", encoding="utf-8")
        tmp.replace(self.out)

    def wait_for(self, wanted, timeout: float = 5.0) -> bool:
        """Until ``wanted(lines)`` holds (for tests and the technician's self-check)."""
        with self.changed:
            return self.changed.wait_for(lambda: wanted(self.screen.lines), timeout)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        if self._master is not None:
            os.close(self._master)
            self._master = None
