"""Barcode scanners.

A keyboard-wedge scanner types the code and Enter: it needs no driver, the app's
keyboard handling reads it (backend ``wedge``). The simulator delivers codes to the
same handler: from :meth:`SimulatorScanner.inject`, or from lines written to a named
pipe, so a technician can scan from a shell (``echo 8991002101111 > var/sim/scanner``).
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ScanHandler = Callable[[str], None]


class WedgeScanner:
    """Nothing to run: the scanner is a keyboard."""

    def start(self, on_scan: ScanHandler) -> None:
        pass

    def stop(self) -> None:
        pass


class SimulatorScanner:
    def __init__(self, fifo_path: Path | None = None) -> None:
        self.fifo_path = fifo_path
        self._on_scan: ScanHandler | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    def start(self, on_scan: ScanHandler) -> None:
        """Deliver scans to ``on_scan`` (called on the reader's thread for pipe scans)."""
        self._on_scan = on_scan
        if self.fifo_path and self._thread is None:
            self.fifo_path.parent.mkdir(parents=True, exist_ok=True)
            if self.fifo_path.exists() and not stat.S_ISFIFO(self.fifo_path.stat().st_mode):
                # a plain file here (an `echo > pipe` while the app was down) would be read
                # again and again: replace it with the pipe
                self.fifo_path.unlink()
            if not self.fifo_path.exists():
                os.mkfifo(self.fifo_path)
            self._thread = threading.Thread(target=self._read_pipe, daemon=True, name="scanner-sim")
            self._thread.start()

    def inject(self, code: str) -> None:
        if self._on_scan is None:
            raise RuntimeError("scanner not started")
        self._on_scan(code)

    def _read_pipe(self) -> None:
        while not self._stopping:
            with open(self.fifo_path, encoding="utf-8", errors="replace") as pipe:
                for line in pipe:
                    code = line.strip()
                    if code and self._on_scan:
                        self._on_scan(code)

    def stop(self) -> None:
        self._stopping = True


class SerialScanner:
    """A scanner in serial (CDC-ACM) mode, on a line such as /dev/serial/by-id/usb-...

    Unplugged, it is reported missing (:meth:`health`) and looked for again every
    ``retry`` seconds; plugged back, it is picked up without restarting the app (the
    by-id path stays the same across replugs)."""

    def __init__(
        self, device: str, baudrate: int = 9600, pause: float = 0.3, retry: float = 1.0
    ) -> None:
        self.device, self.baudrate, self.pause, self.retry = device, baudrate, pause, retry
        self.connected = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_scan: ScanHandler) -> None:
        import serial  # noqa: PLC0415 - pyserial only for serial scanners

        from hal.scanner.decode import LineDecoder  # noqa: PLC0415

        def open_port():
            try:
                return serial.Serial(self.device, baudrate=self.baudrate, timeout=0.1)
            except (OSError, serial.SerialException):
                return None

        first = open_port()  # opened before start returns: the first scan is not lost
        self.connected = first is not None

        def read() -> None:
            port = first
            while not self._stopping.is_set():
                if port is None:
                    port = open_port()
                if port is None:
                    self.connected = False
                    self._stopping.wait(self.retry)
                    continue
                self.connected = True
                decoder = LineDecoder(time.monotonic, self.pause)
                try:
                    while not self._stopping.is_set():
                        for code in decoder.feed(port.read(64)):
                            on_scan(code)
                except (OSError, serial.SerialException):
                    self.connected = False  # unplugged: look for it again
                finally:
                    port.close()
                    port = None

        self._thread = threading.Thread(target=read, daemon=True, name="scanner-serial")
        self._thread.start()

    def health(self) -> list[str]:
        return [] if self.connected else ["scanner-missing"]

    def stop(self) -> None:
        self._stopping.set()


def make_scanner(
    cfg: dict[str, Any], data_dir: Path
) -> WedgeScanner | SimulatorScanner | SerialScanner:
    backend = cfg.get("backend", "wedge")
    if backend == "wedge":
        return WedgeScanner()
    if backend == "simulator":
        return SimulatorScanner(data_dir / "sim" / "scanner")
    if backend == "serial":
        return SerialScanner(cfg["device"], int(cfg.get("baudrate", 9600)))
    if backend == "evdev":
        from hal.evdev_input import EvdevScanner  # noqa: PLC0415 - evdev is Pi-only

        return EvdevScanner(cfg["device"])
    raise ValueError(
        f"hardware.scanner.backend: unknown {backend!r}; use wedge, serial, evdev or simulator"
    )
