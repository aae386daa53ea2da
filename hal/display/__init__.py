"""Customer displays: the pole display (2 x 20 characters, VFD or LCD) on a serial or
USB-serial line, speaking ESC/POS display commands or the CD5220 set
(:mod:`hal.display.commands`).

Backends (``[hardware.display] backend``):
- ``none`` (the default): no display; nothing is sent.
- ``serial``: a display on ``device`` (ideally /dev/serial/by-id/...) at ``baudrate``
  (9600 8N1 is what most ship with), ``command_set`` ``escpos`` or ``cd5220``,
  ``charset`` ``ascii``, ``cp866`` (Cyrillic) or ``gb2312`` (Chinese), ``code_table``
  (the ESC/POS ``ESC t n`` some firmwares need for their Cyrillic table), ``width``.
- ``simulator``: :class:`~hal.display.simulator.DisplaySimulator` on a pseudo-terminal,
  driven over the very same serial line and bytes; its two lines are written to
  ``var/sim/display.txt``.

A display never holds up a sale: :meth:`PoleDisplay.show` writes with a short timeout
and swallows a failure. A display that is unplugged (the line gone, a write failing) is
``display-missing`` in :meth:`PoleDisplay.health` until a write succeeds again; the line
is opened again at the next screen, at most every :data:`REOPEN_SECONDS`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import serial

from hal.device import Backend, BackendSettings, Device, DeviceConfig, DeviceEnv, build, configure
from hal.display.commands import CommandSet
from hal.display.simulator import DisplaySimulator

log = logging.getLogger(__name__)
REOPEN_SECONDS = 5.0
WRITE_TIMEOUT = 0.5  # seconds: a display that takes no bytes never stops the till


class DisplaySettings(BackendSettings, kw_only=True):
    command_set: Literal["escpos", "cd5220"] = "escpos"
    charset: Literal["ascii", "cp866", "gb2312"] = "ascii"
    code_table: Annotated[int, msgspec.Meta(ge=0, le=255)] | None = None
    width: Annotated[int, msgspec.Meta(ge=8, le=40)] = 20
    brightness: Annotated[int, msgspec.Meta(ge=1, le=4)] = 4

    def commands(self) -> CommandSet:
        return CommandSet(self.command_set, self.width, self.charset, self.code_table)


class NoDisplaySettings(BackendSettings, kw_only=True):
    pass


class SerialDisplaySettings(DisplaySettings, kw_only=True):
    device: str
    baudrate: Literal[2400, 4800, 9600, 19200, 38400, 57600, 115200] = 9600


class SimulatorDisplaySettings(DisplaySettings, kw_only=True):
    pass


class CustomerDisplay(Device):
    """What the terminal asks of a customer display."""

    kind = "display"

    @property
    def present(self) -> bool:
        """Whether a display is configured at all (``none``: the service does nothing)."""
        return False

    def show(self, upper: str, lower: str) -> bool:
        """Show two lines; False when they did not reach the display."""
        return False


class NoDisplay(CustomerDisplay):
    pass


class PoleDisplay(CustomerDisplay):
    """A pole display on a serial line (see the module)."""

    def __init__(self, commands: CommandSet, opener, brightness: int = 4, clock=time.monotonic):
        self.commands = commands
        self.opener = opener  # () -> a serial-like object with write() and close()
        self.brightness = brightness
        self.clock = clock
        self.shown: tuple[str, str] | None = None  # the last lines that reached it
        self._line = None
        self._missing = False
        self._last_try = -REOPEN_SECONDS
        self._lock = threading.Lock()

    @property
    def present(self) -> bool:
        return True

    def start(self) -> None:
        with self._lock:
            self._open()

    def _open(self) -> bool:
        if self._line is not None:
            return True
        now = self.clock()
        if now - self._last_try < REOPEN_SECONDS:
            return False
        self._last_try = now
        try:
            self._line = self.opener()
            self._line.write(self.commands.start(self.brightness))
        except (OSError, serial.SerialException) as exc:
            self._drop(f"not opened: {exc}")
            return False
        self._missing = False
        return True

    def _drop(self, why: str) -> None:
        if not self._missing:
            log.warning("customer display missing: %s", why)
        self._missing = True
        self._close_line()

    def _close_line(self) -> None:
        line, self._line = self._line, None
        if line is not None:
            with contextlib.suppress(OSError, serial.SerialException):
                line.close()

    def show(self, upper: str, lower: str) -> bool:
        with self._lock:
            if not self._open():
                return False
            try:  # (no flush: tcdrain waits with no time limit on a stalled USB line)
                self._line.write(self.commands.show(upper, lower))
            except (OSError, serial.SerialException) as exc:
                self._drop(f"write failed: {exc}")
                return False
            self._missing = False
            self.shown = (upper, lower)
            return True

    def stop(self) -> None:
        if self._lock.acquire(timeout=2):  # a write stuck past its timeout: leave it be
            try:
                self._close_line()
            finally:
                self._lock.release()

    def health(self) -> list[str]:
        return ["display-missing"] if self._missing else []


def _serial_opener(device: str, baudrate: int):
    def opener():
        return serial.Serial(device, baudrate=baudrate, timeout=0.1, write_timeout=WRITE_TIMEOUT)

    return opener


def _none(_settings: NoDisplaySettings, _env: DeviceEnv) -> CustomerDisplay:
    return NoDisplay()


def _serial(settings: SerialDisplaySettings, _env: DeviceEnv) -> CustomerDisplay:
    return PoleDisplay(
        settings.commands(), _serial_opener(settings.device, settings.baudrate), settings.brightness
    )


class SimulatedPoleDisplay(PoleDisplay):
    """The pole display and, on the far side of its pty, the simulator."""

    def __init__(self, settings: SimulatorDisplaySettings, out: Path) -> None:
        self.simulator = DisplaySimulator(settings.width, settings.charset, out)
        self._path: str | None = None
        super().__init__(settings.commands(), self._open_pty, settings.brightness)

    def _open_pty(self):
        if self._path is None:
            self._path = self.simulator.start_pty()
        return serial.Serial(self._path, baudrate=9600, timeout=0.1, write_timeout=WRITE_TIMEOUT)

    def close(self) -> None:
        super().close()
        self.simulator.close()


def _simulator(settings: SimulatorDisplaySettings, env: DeviceEnv) -> CustomerDisplay:
    return SimulatedPoleDisplay(settings, Path(env.data_dir) / "sim" / "display.txt")


BACKENDS: dict[str, Backend] = {
    "none": Backend(NoDisplaySettings, _none),
    "serial": Backend(SerialDisplaySettings, _serial),
    "simulator": Backend(SimulatorDisplaySettings, _simulator),
}


def configure_display(table: dict[str, Any]) -> DeviceConfig:
    return configure("display", table, BACKENDS, "none")


def make_display(cfg: dict[str, Any] | DeviceConfig, data_dir: Path) -> CustomerDisplay:
    config = cfg if isinstance(cfg, DeviceConfig) else configure_display(cfg)
    return build(config, BACKENDS, DeviceEnv(data_dir))  # type: ignore[return-value]
