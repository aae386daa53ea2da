"""Reading an ESC/POS printer's real-time status: ``DLE EOT n`` (10 04 n).

Each reply is one byte whose fixed bits are bit 1 = 1, bit 4 = 1, bits 0 and 7 = 0
(``byte & 0x93 == 0x12``); anything else is not a status reply (a printer echoing, line
noise) and is refused rather than misread.

- n=1 printer: bit 2 drawer sensor (pin 3), bit 3 offline
- n=2 offline cause: bit 2 cover open, bit 5 stopped by paper end, bit 6 error
- n=3 error cause: bit 3 autocutter error, bit 5 unrecoverable, bit 6 auto-recoverable
- n=4 roll paper: bits 2-3 paper near end, bits 5-6 paper end
"""

from __future__ import annotations

import time
from dataclasses import dataclass


class StatusError(Exception):
    """The printer did not answer, or answered something that is not a status."""


@dataclass(frozen=True)
class PrinterStatus:
    online: bool
    cover_open: bool
    paper_near_end: bool
    paper_out: bool
    error: bool
    drawer_sensor: bool  # the level on the drawer kick connector's pin 3

    def events(self) -> list[str]:
        """Health events for the screen and the fleet."""
        names = []
        if not self.online:
            names.append("printer-offline")
        if self.cover_open:
            names.append("cover-open")
        if self.paper_out:
            names.append("paper-out")
        elif self.paper_near_end:
            names.append("paper-near-end")
        if self.error:
            names.append("printer-error")
        return names


def _query(port, n: int, timeout: float) -> int:
    port.write(bytes([0x10, 0x04, n]))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = port.read(1)
        if data:
            byte = data[0]
            if byte & 0x93 != 0x12:
                raise StatusError(f"DLE EOT {n}: {byte:02X} is not a status reply")
            return byte
    raise StatusError(f"the printer did not answer DLE EOT {n} within {timeout:.1f} s")


def read_status(port, timeout: float = 1.0) -> PrinterStatus:
    """Ask a printer on a serial-like ``port`` (read/write/reset_input_buffer) for its status."""
    port.reset_input_buffer()  # a late answer to an earlier question must not be read as this one
    printer = _query(port, 1, timeout)
    offline = _query(port, 2, timeout)
    errors = _query(port, 3, timeout)
    paper = _query(port, 4, timeout)
    return PrinterStatus(
        online=not printer & 0x08,
        cover_open=bool(offline & 0x04),
        paper_near_end=bool(paper & 0x0C),
        paper_out=bool(paper & 0x60) or bool(offline & 0x20),
        error=bool(offline & 0x40) or bool(errors & 0x68),
        drawer_sensor=bool(printer & 0x04),
    )
