"""Barcode scanners.

A keyboard-wedge scanner types the code and Enter: it needs no driver, the app's
keyboard handling reads it (backend ``wedge``). The simulator delivers codes to the
same handler: from :meth:`SimulatorScanner.inject`, or from lines written to a named
pipe, so a technician can scan from a shell (``echo 8991002101111 > var/sim/scanner``).
"""

from __future__ import annotations

import threading
import time
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
from hal.scanner.base import Scanner
from hal.sim_pipe import PipeReader

ScanHandler = Callable[[str], None]


class WedgeScanner(Scanner):
    """Nothing to run: the scanner is a keyboard."""


class SimulatorScanner(Scanner):
    def __init__(self, fifo_path: Path | None = None) -> None:
        self.fifo_path = fifo_path
        self._pipe = PipeReader(fifo_path, self.deliver, "scanner-sim") if fifo_path else None

    def begin(self) -> None:
        """Scans from :meth:`inject`, and lines written to the pipe (on its thread)."""
        if self._pipe:
            self._pipe.start()

    def inject(self, code: str) -> None:
        if not self._running:
            raise RuntimeError("scanner not started")
        self.deliver(code)

    def end(self) -> None:
        if self._pipe:
            self._pipe.stop()


class SerialScanner(Scanner):
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

    def begin(self) -> None:
        import serial  # noqa: PLC0415 - pyserial only for serial scanners

        from hal.scanner.decode import LineDecoder  # noqa: PLC0415

        def open_port():
            try:
                return serial.Serial(self.device, baudrate=self.baudrate, timeout=0.1)
            except (OSError, serial.SerialException):
                return None

        first = open_port()  # opened before start returns: the first scan is not lost
        self.connected = first is not None
        self._stopping.clear()

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
                            self.deliver(code)
                except (OSError, serial.SerialException):
                    self.connected = False  # unplugged: look for it again
                finally:
                    port.close()
                    port = None

        self._thread = threading.Thread(target=read, daemon=True, name="scanner-serial")
        self._thread.start()

    def health(self) -> list[str]:
        return [] if self.connected else ["scanner-missing"]

    def end(self) -> None:
        self._stopping.set()


class NoSettings(BackendSettings, kw_only=True):
    pass


class SerialScannerSettings(BackendSettings, kw_only=True):
    device: str  # /dev/serial/by-id/usb-... (the same across replugs)
    baudrate: int = 9600


class EvdevSettings(BackendSettings, kw_only=True):
    device: str  # /dev/input/by-id/...-event-kbd


def _evdev(s: EvdevSettings, _env: DeviceEnv) -> Scanner:
    from hal.evdev_input import EvdevScanner  # noqa: PLC0415 - evdev is Pi-only

    return EvdevScanner(s.device)


BACKENDS: dict[str, Backend] = {
    "wedge": Backend(NoSettings, lambda _s, _env: WedgeScanner()),
    "serial": Backend(SerialScannerSettings, lambda s, _env: SerialScanner(s.device, s.baudrate)),
    "evdev": Backend(EvdevSettings, _evdev),
    "simulator": Backend(
        NoSettings, lambda _s, env: SimulatorScanner(env.data_dir / "sim" / "scanner")
    ),
}


def configure_scanner(table: dict[str, Any]) -> DeviceConfig:
    return configure("scanner", table, BACKENDS, "wedge")


def make_scanner(cfg: dict[str, Any] | DeviceConfig, data_dir: Path) -> Scanner:
    config = cfg if isinstance(cfg, DeviceConfig) else configure_scanner(cfg)
    return build(config, BACKENDS, DeviceEnv(data_dir))  # type: ignore[return-value]
